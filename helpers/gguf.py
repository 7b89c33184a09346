"""A GGUF file's header, read without llama.cpp or the ``gguf`` package (only the transformers
extra installs it): the metadata key/values and the tensor infos, never the weights.

The layout (GGUF v2 and v3): the magic ``GGUF``, the version (uint32), the tensor count and
the key/value count (uint64 each); then each key/value: a string key, a value type (uint32)
and the value (numbers, bool, a string as a uint64 length and UTF-8 bytes, or an array: its
element type, uint64 count and elements); then each tensor's info: name, dimension count,
the dimensions (uint64, fastest-varying first), its ggml type and its offset in the data
section, which starts at the next multiple of ``general.alignment`` (32 by default). A file
written on a big-endian machine shows its version byte-swapped; it is read as such.

The file is memory-mapped, so a header of tens of megabytes (a 150,000-token vocabulary)
is parsed without reading the weights behind it. A file that is not GGUF, or ends before its
header or its tensor data does, is one :class:`GGUFError` line.
"""

from __future__ import annotations

import mmap
import re
import struct
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional

from taskdeck import InputError

MAGIC = b"GGUF"
DEFAULT_ALIGNMENT = 32

#: ggml tensor type id -> (name, elements per block, bytes per block), as in ggml.h.
GGML_TYPES: dict[int, tuple[str, int, int]] = {
    0: ("F32", 1, 4),
    1: ("F16", 1, 2),
    2: ("Q4_0", 32, 18),
    3: ("Q4_1", 32, 20),
    6: ("Q5_0", 32, 22),
    7: ("Q5_1", 32, 24),
    8: ("Q8_0", 32, 34),
    9: ("Q8_1", 32, 40),
    10: ("Q2_K", 256, 84),
    11: ("Q3_K", 256, 110),
    12: ("Q4_K", 256, 144),
    13: ("Q5_K", 256, 176),
    14: ("Q6_K", 256, 210),
    15: ("Q8_K", 256, 292),
    16: ("IQ2_XXS", 256, 66),
    17: ("IQ2_XS", 256, 74),
    18: ("IQ3_XXS", 256, 98),
    19: ("IQ1_S", 256, 50),
    20: ("IQ4_NL", 32, 18),
    21: ("IQ3_S", 256, 110),
    22: ("IQ2_S", 256, 82),
    23: ("IQ4_XS", 256, 136),
    24: ("I8", 1, 1),
    25: ("I16", 1, 2),
    26: ("I32", 1, 4),
    27: ("I64", 1, 8),
    28: ("F64", 1, 8),
    29: ("IQ1_M", 256, 56),
    30: ("BF16", 1, 2),
    34: ("TQ1_0", 256, 54),
    35: ("TQ2_0", 256, 66),
    39: ("MXFP4", 32, 17),
    40: ("NVFP4", 64, 36),
    41: ("Q1_0", 128, 18),
}

#: ``general.file_type`` (llama.cpp's ``llama_ftype``) -> the name quantizers give it.
FILE_TYPES: dict[int, str] = {
    0: "F32", 1: "F16", 2: "Q4_0", 3: "Q4_1", 7: "Q8_0", 8: "Q5_0", 9: "Q5_1", 10: "Q2_K",
    11: "Q3_K_S", 12: "Q3_K_M", 13: "Q3_K_L", 14: "Q4_K_S", 15: "Q4_K_M", 16: "Q5_K_S",
    17: "Q5_K_M", 18: "Q6_K", 19: "IQ2_XXS", 20: "IQ2_XS", 21: "Q2_K_S", 22: "IQ3_XS",
    23: "IQ3_XXS", 24: "IQ1_S", 25: "IQ4_NL", 26: "IQ3_S", 27: "IQ3_M", 28: "IQ2_S",
    29: "IQ2_M", 30: "IQ4_XS", 31: "IQ1_M", 32: "BF16", 36: "TQ1_0", 37: "TQ2_0",
    38: "MXFP4_MOE", 39: "NVFP4", 40: "Q1_0",
}  # fmt: skip

#: GGUF value type id -> struct format of one scalar (8 = string and 9 = array are read apart).
_SCALARS = {0: "B", 1: "b", 2: "H", 3: "h", 4: "I", 5: "i", 6: "f", 7: "?", 10: "Q", 11: "q", 12: "d"}
_STRING, _ARRAY = 8, 9
_BLOCK = re.compile(r"(^|\.)blk\.\d+\.")


class GGUFError(InputError):
    """A file that is not GGUF, or that ends before its header or its tensor data does."""


@dataclass(frozen=True)
class GGUFTensor:
    """One tensor's info from the header."""

    name: str
    shape: tuple[int, ...]  # GGUF order: the fastest-varying dimension first ([576, 49152] for token_embd)
    type: str  # ggml type name: "Q4_K", "F32", ... ("type 99" for one this table does not know)
    offset: int  # from the start of the data section

    @property
    def n_elements(self) -> int:
        n = 1
        for d in self.shape:
            n *= d
        return n

    @property
    def n_bytes(self) -> Optional[int]:
        """Bytes of the tensor's data; None for a type this table does not know."""
        found = next((v for v in GGML_TYPES.values() if v[0] == self.type), None)
        if found is None:
            return None
        _, block, size = found
        return self.n_elements // block * size


@dataclass
class GGUFHeader:
    """What a GGUF file says about itself: metadata, tensor infos, sizes."""

    path: Path
    version: int
    metadata: dict[str, Any]
    tensors: list[GGUFTensor]
    data_offset: int  # where the tensor data starts
    file_size: int

    @property
    def architecture(self) -> str:
        return str(self.metadata.get("general.architecture", ""))

    def arch_value(self, key: str, default: Any = None) -> Any:
        """``{architecture}.{key}``, e.g. ``arch_value("block_count")``."""
        return self.metadata.get(f"{self.architecture}.{key}", default)

    @property
    def parameters(self) -> int:
        return sum(t.n_elements for t in self.tensors)

    @property
    def file_type(self) -> str:
        """The file's quantization as its maker named it (``Q4_K_M``), else its commonest tensor type."""
        code = self.metadata.get("general.file_type")
        if isinstance(code, int) and code in FILE_TYPES:
            return FILE_TYPES[code]
        by_elements: Counter[str] = Counter()
        for t in self.tensors:
            by_elements[t.type] += t.n_elements
        return by_elements.most_common(1)[0][0] if by_elements else ""


class _Cursor:
    """Reads little- or big-endian values from a buffer, refusing to read past its end."""

    def __init__(self, buf: Any, path: Path, endian: str = "<"):
        self.buf, self.path, self.endian, self.pos = buf, path, endian, 0

    def take(self, fmt: str, count: int = 1) -> tuple:
        layout = struct.Struct(f"{self.endian}{count}{fmt}")
        self._need(layout.size)
        values = layout.unpack_from(self.buf, self.pos)
        self.pos += layout.size
        return values

    def one(self, fmt: str) -> Any:
        return self.take(fmt)[0]

    def string(self) -> str:
        size = self.one("Q")
        self._need(size)
        raw = bytes(self.buf[self.pos : self.pos + size])
        self.pos += size
        return raw.decode("utf-8", errors="replace")

    def strings(self, count: int) -> list[str]:
        """``count`` strings in a row (a vocabulary: the one loop that must be quick)."""
        buf, pos, end, out = self.buf, self.pos, len(self.buf), []
        length = struct.Struct(f"{self.endian}Q").unpack_from
        for _ in range(count):
            if pos + 8 > end:
                break
            (size,) = length(buf, pos)
            pos += 8
            if pos + size > end:
                break
            out.append(buf[pos : pos + size].decode("utf-8", errors="replace"))
            pos += size
        self.pos = pos
        if len(out) < count:
            self._need(end + 1 - pos)  # past the end: the truncation error
        return out

    def value(self, kind: int) -> Any:
        if kind == _STRING:
            return self.string()
        if kind == _ARRAY:
            element, count = self.one("I"), self.one("Q")
            if element == _STRING:
                return self.strings(count)
            if element == _ARRAY:
                return [self.value(_ARRAY) for _ in range(count)]
            return list(self.take(self._scalar(element), count))
        return self.one(self._scalar(kind))

    def _scalar(self, kind: int) -> str:
        if kind not in _SCALARS:
            raise GGUFError(f"'{self.path}' is not a readable GGUF file: unknown value type {kind} at byte {self.pos}")
        return _SCALARS[kind]

    def _need(self, size: int) -> None:
        if size < 0 or self.pos + size > len(self.buf):
            raise GGUFError(
                f"'{self.path}' is truncated: its GGUF header needs byte {self.pos + size:,} of a "
                f"{len(self.buf):,}-byte file; download it again"
            )


def read_header(path: str | Path) -> GGUFHeader:
    """The header of the GGUF file at ``path`` (metadata and tensor infos; no weights read)."""
    path = Path(path)
    try:
        with path.open("rb") as f:
            size = path.stat().st_size
            if size < 24:
                raise _not_gguf(path, f.read(4))
            with mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as buf:
                return _parse(buf, path, size)
    except OSError as exc:
        raise GGUFError(f"cannot read GGUF file '{path}': {exc.strerror or exc}") from None


def _not_gguf(path: Path, start: bytes) -> GGUFError:
    return GGUFError(f"'{path}' is not a GGUF file (it starts with {start!r}, not {MAGIC!r})")


def _parse(buf: Any, path: Path, size: int) -> GGUFHeader:
    if bytes(buf[:4]) != MAGIC:
        raise _not_gguf(path, bytes(buf[:4]))
    cursor = _Cursor(buf, path)
    cursor.pos = 4
    version = cursor.one("I")
    if version & 0xFFFF == 0:  # written big-endian: the version reads byte-swapped
        cursor.endian = ">"
        version = struct.unpack(">I", struct.pack("<I", version))[0]
    if version not in (2, 3):
        raise GGUFError(f"'{path}' is GGUF version {version}; this reader knows versions 2 and 3")
    n_tensors, n_keys = cursor.one("Q"), cursor.one("Q")
    metadata: dict[str, Any] = {}
    for _ in range(n_keys):
        key = cursor.string()
        metadata[key] = cursor.value(cursor.one("I"))
    tensors = []
    for _ in range(n_tensors):
        name = cursor.string()
        dims = cursor.take("Q", cursor.one("I"))
        kind, offset = cursor.one("I"), cursor.one("Q")
        type_name = GGML_TYPES[kind][0] if kind in GGML_TYPES else f"type {kind}"
        tensors.append(GGUFTensor(name=name, shape=tuple(dims), type=type_name, offset=offset))
    alignment = metadata.get("general.alignment", DEFAULT_ALIGNMENT)
    alignment = alignment if isinstance(alignment, int) and alignment > 0 else DEFAULT_ALIGNMENT
    data_offset = -(-cursor.pos // alignment) * alignment
    ends = [data_offset + t.offset + (t.n_bytes or 0) for t in tensors]
    if ends and max(ends) > size:
        raise GGUFError(
            f"'{path}' is truncated: its tensors end at byte {max(ends):,} of a {size:,}-byte file; download it again"
        )
    return GGUFHeader(path, version, metadata, tensors, data_offset, size)


def tensor_group(name: str) -> str:
    """A tensor's name without its block number: ``blk.7.attn_q.weight`` -> ``attn_q.weight``."""
    return _BLOCK.sub(r"\1", name)


def types_by_group(tensors: list[GGUFTensor]) -> dict[str, dict[str, int]]:
    """Tensor types per group, in file order: ``{"attn_q.weight": {"Q4_K": 24, "Q6_K": 4}, ...}``."""
    groups: dict[str, Counter[str]] = {}
    for t in tensors:
        groups.setdefault(tensor_group(t.name), Counter())[t.type] += 1
    return {g: dict(c.most_common()) for g, c in groups.items()}


def kv_cache_bytes(header: GGUFHeader, tokens: int = 1000, bytes_per_value: int = 2) -> Optional[int]:
    """Bytes llama.cpp's KV cache (f16 by default) takes for ``tokens`` tokens of context:
    keys and values of every KV head in every block. None when the metadata lacks the sizes."""
    blocks, heads = header.arch_value("block_count"), header.arch_value("attention.head_count")
    kv_heads = header.arch_value("attention.head_count_kv", heads)
    if not isinstance(blocks, int) or not blocks:
        return None
    per_block = kv_heads if isinstance(kv_heads, list) else [kv_heads] * blocks  # a list: one count per block
    key_length = header.arch_value("attention.key_length")
    if not isinstance(key_length, int):
        width, head_count = header.arch_value("embedding_length"), heads[0] if isinstance(heads, list) else heads
        if not isinstance(width, int) or not isinstance(head_count, int) or not head_count:
            return None
        key_length = width // head_count
    value_length = header.arch_value("attention.value_length", key_length)
    if not all(isinstance(n, int) for n in per_block):
        return None
    return sum(per_block) * (key_length + value_length) * bytes_per_value * tokens


def shown_value(value: Any, max_items: int = 8, max_chars: int = 200) -> Any:
    """A metadata value fit to show: a long array as ``"array of N strings"``, a long string
    cut with its length."""
    if isinstance(value, list) and len(value) > max_items:
        kinds = {type(v).__name__ for v in value}
        kind = {"str": "strings", "int": "integers", "float": "floats", "bool": "booleans"}.get(
            kinds.pop() if len(kinds) == 1 else "", "values"
        )
        return f"array of {len(value):,} {kind}"
    if isinstance(value, str) and len(value) > max_chars:
        return f"{value[:max_chars]}… ({len(value):,} characters)"
    if isinstance(value, float):
        return float(f"{value:.7g}")  # float32 noise: 9.999999747e-06 -> 1e-05
    return value
