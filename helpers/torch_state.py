"""Read tensors from PyTorch's zip checkpoints (``torch.save``) into numpy, without torch.

A checkpoint is a zip holding ``<name>/data.pkl`` and one raw little-endian file per storage
(``<name>/data/<key>``). The pickle is read by a restricted unpickler: tensors are rebuilt from
their storages, ``OrderedDict`` and plain containers are allowed, and any other class the file
names (a Lightning checkpoint's hyper-parameter objects, say) becomes an inert placeholder, so
nothing in the file runs code. Only the tensors and plain values come back.
"""

from __future__ import annotations

import pickle
import zipfile
from collections import OrderedDict
from pathlib import Path
from typing import Any

_DTYPES = {
    "FloatStorage": "<f4",
    "DoubleStorage": "<f8",
    "HalfStorage": "<f2",
    "LongStorage": "<i8",
    "IntStorage": "<i4",
    "ShortStorage": "<i2",
    "CharStorage": "i1",
    "ByteStorage": "u1",
    "BoolStorage": "?",
}


class Placeholder:
    """Stands for a class the checkpoint names that is not a tensor or a container."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.args, self.kwargs = args, kwargs

    def __setstate__(self, state: Any) -> None:
        self.state = state

    def __call__(self, *args: Any, **kwargs: Any) -> Placeholder:
        return Placeholder(*args, **kwargs)


class _StorageType:
    def __init__(self, name: str) -> None:
        self.dtype = _DTYPES[name]


def _rebuild_tensor(storage: Any, offset: int, size: tuple, stride: tuple, *_: Any) -> Any:
    import numpy as np

    if not size:
        return np.array(storage[offset])
    item = storage.itemsize
    view = np.lib.stride_tricks.as_strided(
        storage[offset:], shape=tuple(size), strides=tuple(s * item for s in stride), writeable=False
    )
    return np.ascontiguousarray(view)


class _Unpickler(pickle.Unpickler):
    def __init__(self, file: Any, archive: zipfile.ZipFile, prefix: str) -> None:
        super().__init__(file)
        self.archive, self.prefix = archive, prefix
        self.storages: dict[str, Any] = {}

    def find_class(self, module: str, name: str) -> Any:
        if module == "torch._utils" and name in ("_rebuild_tensor_v2", "_rebuild_tensor"):
            return _rebuild_tensor
        if module == "torch" and name in _DTYPES:
            return _StorageType(name)
        if module == "collections" and name == "OrderedDict":
            return OrderedDict
        if module == "builtins" and name in ("set", "frozenset", "tuple", "list", "dict", "slice"):
            return {"set": set, "frozenset": frozenset, "tuple": tuple, "list": list, "dict": dict, "slice": slice}[
                name
            ]
        return Placeholder

    def persistent_load(self, pid: Any) -> Any:
        import numpy as np

        kind, storage_type, key, _location, _numel = pid
        if kind != "storage":
            raise pickle.UnpicklingError(f"unsupported persistent id {kind!r}")
        if key not in self.storages:
            raw = self.archive.read(f"{self.prefix}data/{key}")
            self.storages[key] = np.frombuffer(raw, dtype=storage_type.dtype)
        return self.storages[key]


def load_checkpoint(path: str | Path) -> Any:
    """The object a ``torch.save`` zip checkpoint holds, its tensors as numpy arrays."""
    with zipfile.ZipFile(path) as archive:
        pickles = [n for n in archive.namelist() if n.endswith("/data.pkl") or n == "data.pkl"]
        if not pickles:
            raise ValueError(f"{path} is not a PyTorch zip checkpoint (no data.pkl)")
        prefix = pickles[0][: -len("data.pkl")]
        with archive.open(pickles[0]) as f:
            return _Unpickler(f, archive, prefix).load()


def state_dict(path: str | Path, key: str = "") -> dict[str, Any]:
    """The ``{name: array}`` state dict in a checkpoint (under ``key`` when it is nested)."""
    loaded = load_checkpoint(path)
    if key:
        loaded = loaded[key]
    return {name: value for name, value in loaded.items() if hasattr(value, "shape")}
