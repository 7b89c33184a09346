"""Records to files and back: JSON (a list), JSONL (one object a line), CSV, Parquet and a
``datasets`` folder (``save_to_disk``, what ``datasets.load_from_disk`` reads).

Every write replaces the whole file atomically (a folder: written beside, then swapped in by
renames), so a reader (or an interrupted run) never sees half a file. CSV holds only flat
records: a field that is an object or a list is refused with one line before anything is
generated. Reading a CSV back gives each column its schema type, so records round-trip. A
sidecar ``<file>.meta.json`` keeps the schema and the batches done, so rerunning with the
same ``out=`` continues where the last run stopped.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any, Optional

from taskdeck import ConfigError, InputError, MissingDependencyError
from taskdeck.io import atomic_write_arrow, atomic_write_json, atomic_write_text

FORMATS = ("jsonl", "json", "csv", "parquet", "dataset")
#: The file name ending of each format (a ``datasets`` folder has none).
EXTENSIONS = {"jsonl": ".jsonl", "json": ".json", "csv": ".csv", "parquet": ".parquet", "dataset": ""}


def file_name(stem: str, fmt: str) -> str:
    """``records`` + jsonl → ``records.jsonl``; a dataset is the folder ``records``."""
    return stem + EXTENSIONS[fmt]


def choose_format(fmt: Optional[str], out: Optional[str]) -> str:
    """``format=``, else the extension of ``out=``, else jsonl; the two must agree."""
    ext = Path(out).suffix.lower().lstrip(".") if out else ""
    ext = ext if ext != "dataset" else ""  # only a format name, never a file's ending
    chosen = (fmt or (ext if ext in FORMATS else "jsonl")).lower()
    if chosen not in FORMATS:
        raise ConfigError(f"unknown format '{fmt}'; choices: {', '.join(FORMATS)}")
    if ext in FORMATS and ext != chosen:
        raise ConfigError(f"out='{out}' is a .{ext} file but format={chosen}: make them agree")
    return chosen


def check_writable(fmt: str, schema: dict[str, Any]) -> None:
    """CSV needs flat records: refuse a shape with objects or lists, naming the field."""
    if fmt != "csv":
        return
    for name, node in schema.get("properties", {}).items():
        kind = node.get("type")
        if kind in ("object", "array") or "properties" in node or "items" in node:
            raise ConfigError(
                f"format=csv cannot hold field '{name}' ({'a list' if kind == 'array' else 'an object'}"
                f"); use format=jsonl or format=json, or a flat shape"
            )


def write_records(path: Path, records: list[dict[str, Any]], fmt: str, schema: dict[str, Any]) -> Path:
    if fmt in ("parquet", "dataset"):
        return _write_arrow(path, records, fmt)
    if fmt == "json":
        return atomic_write_json(path, records)
    if fmt == "jsonl":
        return atomic_write_text(path, "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records))
    columns = list(schema.get("properties", {}))
    columns += [k for r in records for k in r if k not in columns]
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    for r in records:
        writer.writerow({k: _cell(r.get(k)) for k in columns})
    return atomic_write_text(path, buf.getvalue())


def read_records(path: Path, fmt: str, schema: Optional[dict[str, Any]] = None) -> list[dict[str, Any]]:
    """The records of a file written by :func:`write_records` (CSV cells typed by the schema;
    Arrow's empty values of optional fields left out)."""
    if fmt in ("parquet", "dataset"):
        return _read_arrow(Path(path), fmt, schema)
    text = Path(path).read_text(encoding="utf-8")
    try:
        if fmt == "json":
            data = json.loads(text) if text.strip() else []
        elif fmt == "jsonl":
            data = [json.loads(ln) for ln in text.splitlines() if ln.strip()]
        else:
            props = (schema or {}).get("properties", {})
            data = [
                {k: _typed(v, props.get(k, {})) for k, v in row.items() if v != "" or k not in props}
                for row in csv.DictReader(io.StringIO(text))
            ]
    except ValueError as exc:
        raise InputError(f"out='{path}' exists but is not valid {fmt}: {exc}; use a new out=") from None
    if not isinstance(data, list) or not all(isinstance(r, dict) for r in data):
        raise InputError(f"out='{path}' exists but does not hold records; use a new out=")
    return data


def _write_arrow(path: Path, records: list[dict[str, Any]], fmt: str) -> Path:
    pa, _ = _pyarrow(fmt)
    return atomic_write_arrow(path, pa.Table.from_pylist(records), fmt, f"format={fmt}")


def _read_arrow(path: Path, fmt: str, schema: Optional[dict[str, Any]]) -> list[dict[str, Any]]:
    _, pq = _pyarrow(fmt)
    try:
        if fmt == "parquet":
            rows = pq.read_table(path).to_pylist()
        else:
            rows = _datasets().load_from_disk(str(path)).to_list()
    except MissingDependencyError:
        raise
    except Exception as exc:  # noqa: BLE001 - pyarrow's and datasets' errors: one line
        raise InputError(
            f"out='{path}' exists but is not {fmt} data: {str(exc).splitlines()[0]}; use a new out="
        ) from None
    required = set((schema or {}).get("required", []))
    return [{k: v for k, v in r.items() if v is not None or k in required} for r in rows]


def _pyarrow(fmt: str) -> tuple[Any, Any]:
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError:
        raise MissingDependencyError("pyarrow", f"format={fmt}", extra="datasets") from None
    return pa, pq


def _datasets() -> Any:
    try:
        import datasets
    except ImportError:
        raise MissingDependencyError("datasets", "format=dataset", extra="datasets") from None
    return datasets


def _cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return value


def _typed(value: str, node: dict[str, Any]) -> Any:
    kind = node.get("type")
    try:
        if kind == "integer":
            return int(value)
        if kind == "number":
            number = float(value)
            return int(number) if number.is_integer() and "." not in value else number
        if kind == "boolean":
            return {"true": True, "false": False}.get(value.strip().lower(), value)
    except ValueError:
        return value
    return value


def meta_path(path: Path) -> Path:
    return path.with_name(path.name + ".meta.json")


def read_meta(path: Path) -> Optional[dict[str, Any]]:
    p = meta_path(path)
    if not p.is_file():
        return None
    try:
        return json.loads(p.read_text(encoding="utf-8"))
    except ValueError:
        return None


def write_meta(path: Path, meta: dict[str, Any]) -> Path:
    return atomic_write_json(meta_path(path), meta)
