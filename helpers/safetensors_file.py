"""Read a ``.safetensors`` file into numpy arrays, without torch or the safetensors package.

The format is an 8-byte little-endian header length, a JSON header (each tensor's dtype, shape
and byte offsets into the data that follows) and the raw little-endian data. The arrays are
views of one read-only memory map: nothing is copied until a caller converts them.
"""

from __future__ import annotations

import json
import struct
from pathlib import Path
from typing import Any

_DTYPES = {
    "F64": "<f8",
    "F32": "<f4",
    "F16": "<f2",
    "I64": "<i8",
    "I32": "<i4",
    "I16": "<i2",
    "I8": "i1",
    "U8": "u1",
    "BOOL": "?",
}


def read_safetensors(path: str | Path) -> dict[str, Any]:
    """name → numpy array for every tensor of the file (``BF16`` comes back as float32)."""
    import numpy as np

    path = Path(path)
    with path.open("rb") as f:
        (size,) = struct.unpack("<Q", f.read(8))
        header = json.loads(f.read(size))
    data = np.memmap(path, dtype=np.uint8, mode="r", offset=8 + size)
    out: dict[str, Any] = {}
    for name, entry in header.items():
        if name == "__metadata__":
            continue
        start, end = entry["data_offsets"]
        raw = data[start:end]
        dtype = entry["dtype"]
        if dtype == "BF16":  # the upper half of a float32
            wide = np.zeros(raw.size // 2, dtype="<u4")
            wide[:] = raw.view("<u2").astype("<u4") << 16
            out[name] = wide.view("<f4").reshape(entry["shape"])
        elif dtype in _DTYPES:
            out[name] = raw.view(_DTYPES[dtype]).reshape(entry["shape"])
        else:
            raise ValueError(f"{path.name}: tensor '{name}' has dtype {dtype}, which this reader does not know")
    return out
