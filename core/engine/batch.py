"""Batch mode: ``input=file.csv|jsonl|txt|parquet`` (a ``datasets`` folder, or a folder of images or
recordings) runs a task over every row, in flat memory.

Rows are read lazily (a first pass counts them and collects the column names; Parquet and
Arrow files say both in their metadata), turned into
the task's Params (the row fills the task's ``batch_fields``) and handed to
``Task.run_batch``. Each finished row is appended to a JSONL results file at once, so
Ctrl-C keeps what finished; rerunning with ``results=<that file>`` skips the rows already
done (failed rows are tried again). At the end the results are put in input order by an
external merge sort (bounded runs on disk), with a CSV beside them. ``result.json`` holds
counts and paths, never the records, so memory and ``result.json`` stay the same size from
a thousand rows to a million.
"""

from __future__ import annotations

import csv
import dataclasses
import heapq
import itertools
import json
import pickle
import re
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from contextlib import ExitStack
from pathlib import Path
from typing import TYPE_CHECKING, Any, Optional

from ..errors import ConfigError, InputError, MissingDependencyError
from ..io import atomic_write_arrow, atomic_writer
from ..models import hub_offline
from ..results import Result
from .hub_dataset import PREFIX, HubDataset, hub_dataset_id, pick_split

if TYPE_CHECKING:
    from ..context import RunContext
    from ..tasks import Task

SUFFIXES = (".csv", ".tsv", ".jsonl", ".ndjson", ".json", ".txt", ".parquet")
#: Files a plain folder given as ``input=`` is read for: a row per file (``path``, and ``label``
#: from the sub-folder when every file sits in one, as ``imagefolder`` datasets do).
MEDIA_SUFFIXES = (
    ".png", ".jpg", ".jpeg", ".webp", ".gif", ".bmp", ".tif", ".tiff",  # images
    ".wav", ".flac", ".ogg", ".opus", ".mp3", ".m4a", ".mp4", ".aac", ".webm",  # recordings
)  # fmt: skip
TABLE_FORMATS = ("csv", "parquet", "dataset")  # the results table beside results.jsonl
PARQUET_BATCH = 1024  # rows decoded at a time from a Parquet file
SORT_RUN = 20_000  # records per sorted run on disk when the results are put in order


class RowSource:
    """The rows of a .csv/.tsv/.jsonl/.json/.txt/.parquet file, of a ``datasets`` folder
    (``save_to_disk``), of a folder of images or recordings (a file a row) or of a Hub dataset
    (``org/name``, streamed; ``subset=``), read lazily;
    ``split=`` picks a split of the last two. ``count`` and ``columns`` come from one first
    pass, or from the metadata of Parquet and Arrow data and a Hub dataset's card (a .json list
    is the one format read whole). ``label`` names the input in messages, ``location`` in records."""

    def __init__(self, source: str | Path, split: Optional[str] = None, subset: Optional[str] = None):
        self.split, self.subset = split, subset
        self._dataset: Any = None
        repo = hub_dataset_id(str(source))
        if repo is not None:
            hub = HubDataset(repo, split, subset, hub_offline())
            self.path, self.suffix = Path(repo), "hub"
            self._dataset, self.split = hub.rows, hub.split
            self.label, self.location = hub.where, f"{PREFIX}{repo}"
            self.columns = hub.columns
            self.count = hub.count if hub.count is not None else sum(1 for _ in self.rows())
            return
        self.path = Path(source).expanduser()
        self.suffix = self.path.suffix.lower()
        kind = "folder" if self.path.is_dir() else "file"
        self.label, self.location = f"input {kind} '{self.path.name}'", str(self.path.resolve())
        if subset is not None:
            raise ConfigError(f"subset={subset} picks a subset of a Hub dataset; {self.label} has none: drop subset=")
        if self.path.is_dir() and not _is_saved_dataset(self.path):
            if split is not None:
                raise ConfigError(
                    f"split={split} picks a split of a datasets folder; {self.label} has none: drop split="
                )
            self._dataset = _media_files(self.path)
            self.suffix = "media"
            self.count, self.columns = len(self._dataset), list(self._dataset[0])
            return
        if self.path.is_dir():
            self._dataset = _saved_dataset(self.path, split)
            self.suffix = "dataset"
            self.count, self.columns = len(self._dataset), list(self._dataset.column_names)
            return
        if split is not None:
            raise ConfigError(
                f"split={split} picks a split of a datasets folder or Hub dataset; {self.label} has none: drop split="
            )
        if not self.path.is_file():
            raise InputError(f"input file '{self.path}' does not exist")
        if self.suffix not in SUFFIXES:
            raise InputError(
                f"input file '{self.path}': use .csv, .tsv, .jsonl, .json, .txt, .parquet, a datasets folder or a "
                "Hub dataset id (org/name)"
            )
        if self.suffix == ".parquet":
            meta = _parquet(self.path)
            self.count, self.columns = meta.metadata.num_rows, list(meta.schema_arrow.names)
            return
        columns: dict[str, None] = {}
        count = 0
        for _, row in self.rows():
            count += 1
            columns.update(dict.fromkeys(row))
        self.count, self.columns = count, list(columns)

    def rows(self, selected: Optional[range] = None) -> Iterator[tuple[int, dict[str, Any]]]:
        """``(index, row)`` of every row, or of those in ``selected`` (a contiguous range)."""
        stop = selected.stop if selected is not None else None
        start = selected.start if selected is not None else 0
        i = -1
        try:
            for i, row in enumerate(self._read()):
                if stop is not None and i >= stop:
                    return
                if i >= start:
                    yield i, row
        except ConnectionError as exc:
            raise InputError(
                f"{self.label} dropped mid-stream after {i + 1} rows (tried again for about 20 s: "
                f"{str(exc).splitlines()[0]})"
            ) from None
        except (ValueError, UnicodeDecodeError, csv.Error, OSError) as exc:
            raise InputError(f"{self.label} cannot be read: {str(exc).splitlines()[0]}") from None

    def _read(self) -> Iterator[dict[str, Any]]:
        if self._dataset is not None:
            yield from self._dataset  # memory-mapped Arrow or a Hub stream: rows decoded one at a time
        elif self.suffix == ".parquet":
            for batch in _parquet(self.path).iter_batches(batch_size=PARQUET_BATCH):
                yield from batch.to_pylist()
        elif self.suffix in (".csv", ".tsv"):
            with open(self.path, newline="", encoding="utf-8-sig") as f:
                yield from csv.DictReader(f, delimiter="\t" if self.suffix == ".tsv" else ",")
        elif self.suffix in (".jsonl", ".ndjson"):
            with open(self.path, encoding="utf-8") as f:
                for line in f:
                    if line.strip():
                        yield _as_row(json.loads(line))
        elif self.suffix == ".json":
            data = json.loads(self.path.read_text(encoding="utf-8"))
            if not isinstance(data, list):
                raise InputError(f"input file '{self.path}' must hold a JSON list of rows")
            yield from (_as_row(r) for r in data)
        else:
            with open(self.path, encoding="utf-8") as f:
                for line in f:
                    if line.strip():
                        yield {"text": line.rstrip("\r\n")}


def _parquet(path: Path) -> Any:
    try:
        import pyarrow.parquet as pq
    except ImportError:
        raise MissingDependencyError("pyarrow", f"input file '{path.name}' (Parquet)", extra="datasets") from None
    try:
        return pq.ParquetFile(path)
    except Exception as exc:  # noqa: BLE001 - pyarrow's errors: one line
        raise InputError(f"input file '{path}' is not a Parquet file: {str(exc).splitlines()[0]}") from None


def _is_saved_dataset(path: Path) -> bool:
    return any((path / m).is_file() for m in ("dataset_info.json", "state.json", "dataset_dict.json"))


def _media_files(path: Path) -> list[dict[str, str]]:
    """A row per image or recording under ``path`` (hidden files and folders left out), in
    natural name order; ``label`` is each file's folder when every file sits one folder down."""
    files = sorted(
        (
            f
            for f in path.rglob("*")
            if f.suffix.lower() in MEDIA_SUFFIXES
            and f.is_file()
            and not any(part.startswith(".") for part in f.relative_to(path).parts)
        ),
        key=lambda f: _natural(str(f.relative_to(path))),
    )
    if not files:
        raise InputError(
            f"input folder '{path}' holds no images or recordings ({', '.join(MEDIA_SUFFIXES)}) and is not a datasets "
            "folder: give a file or such a folder"
        )
    depths = {len(f.relative_to(path).parts) for f in files}
    labelled = depths == {2}
    return [{"path": str(f.resolve()), **({"label": f.parent.name} if labelled else {})} for f in files]


def _natural(text: str) -> list[Any]:
    return [(0, int(t), "") if t.isdigit() else (1, 0, t.lower()) for t in re.split(r"(\d+)", text)]


def _saved_dataset(path: Path, split: Optional[str]) -> Any:
    """The ``datasets.Dataset`` saved in ``path`` (a split of a ``DatasetDict`` by ``split=``)."""
    try:
        import datasets
    except ImportError:
        raise MissingDependencyError("datasets", f"input folder '{path.name}'", extra="datasets") from None
    loaded = datasets.load_from_disk(str(path))
    if isinstance(loaded, datasets.DatasetDict):
        return loaded[pick_split(list(loaded), split, f"input folder '{path.name}'")]
    if split is not None:
        raise ConfigError(f"input folder '{path.name}' holds one dataset, no splits: drop split={split}")
    return loaded


def _as_row(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {"text": value}


def column_map(task_cls: type[Task], columns: list[str], column: Optional[str], label: str) -> dict[str, str]:
    """Which file column fills each batch field: ``column=`` names the main field's column,
    other fields use their own names."""
    fields = list(task_cls.batch_fields)
    mapping = {f: f for f in fields}
    if column:
        mapping[fields[0]] = column
    elif fields[0] not in columns and len(columns) == 1:
        mapping[fields[0]] = columns[0]
    elif fields[0] not in columns and "path" in columns:  # a folder of files: their paths
        mapping[fields[0]] = "path"
    missing = [c for c in mapping.values() if c not in columns]
    if missing:
        hint = (
            f"add column=<name> for '{fields[0]}'"
            if mapping[fields[0]] in missing
            else f"the file needs the column(s) {', '.join(missing)}"
        )
        raise InputError(f"{label} has no column '{missing[0]}' (columns: {', '.join(columns) or 'none'}): {hint}")
    return mapping


def flatten(result: Result, inputs: dict[str, Any]) -> dict[str, Any]:
    """A result as one flat row: nested values JSON-encoded, inputs echoed back left out. A
    field named like an input but holding something else (the ``text`` of a summary or a
    translation) is the task's output, kept as ``output_<name>``."""
    row: dict[str, Any] = {}
    for key, value in result.to_dict().items():
        if key == "kind":
            continue
        if key in inputs:
            if str(value).strip() == str(inputs[key]).strip():
                continue
            key = f"output_{key}"
        row[key] = (
            value
            if isinstance(value, (str, int, float, bool)) or value is None
            else json.dumps(value, ensure_ascii=False)
        )
    best = result.best_label()
    if best is not None:
        row = {"label": best[0], "score": best[1], **row}
    return row


@dataclasses.dataclass
class BatchResult(Result):
    """What a batch run produced: counts and where the rows are."""

    kind = "batch"
    task: str
    total: int
    ok: int
    failed: int
    skipped: int
    results: str
    table: str = ""  # the CSV beside the results
    #: The task's ``batch_totals`` fields summed over every finished row (e.g. tokenize's tokens).
    totals: dict[str, float] = dataclasses.field(default_factory=dict)

    def rows(self) -> list[dict[str, Any]]:
        return [{k: v for k, v in dataclasses.asdict(self).items()}]

    def summary(self) -> str:
        line = f"{self.total} rows: {self.ok} ok, {self.failed} failed"
        if self.skipped:
            line += f", {self.skipped} already done"
        if self.totals:
            line += "; in all: " + ", ".join(f"{value:,g} {name}" for name, value in self.totals.items())
        return f"{line} -> {self.results}"


def parse_shard(value: Optional[str]) -> Optional[tuple[int, int]]:
    """``shard=k/n`` → ``(k, n)``, 1 <= k <= n; ``None`` when not given."""
    if value in (None, ""):
        return None
    m = re.fullmatch(r"\s*(\d+)\s*/\s*(\d+)\s*", str(value))
    if not m or not 1 <= int(m.group(1)) <= int(m.group(2)):
        raise ConfigError(f"shard={value}: give k/n with 1 <= k <= n, e.g. a sweep shard=1/4,2/4,3/4,4/4")
    return int(m.group(1)), int(m.group(2))


def shard_rows(count: int, shard: Optional[tuple[int, int]]) -> range:
    """The row indices of part k of n: contiguous, so merging shards is concatenating them."""
    if shard is None:
        return range(count)
    k, n = shard
    return range((k - 1) * count // n, k * count // n)


def shard_results(results: Optional[str], shard: Optional[tuple[int, int]]) -> Optional[str]:
    """A given ``results=`` file gets one file per shard (``out.jsonl`` → ``out.part2of4.jsonl``),
    so shards running at once never write the same file; each stays resumable on its own."""
    if not results or shard is None:
        return results
    path = Path(results)
    return str(path.with_name(f"{path.stem}.part{shard[0]}of{shard[1]}{path.suffix or '.jsonl'}"))


def run_batch_file(
    task: Task,
    task_cls: type[Task],
    params: Any,
    ctx: RunContext,
    input_path: str,
    column: Optional[str],
    results_path: Optional[str],
    shard: Optional[tuple[int, int]] = None,
    split: Optional[str] = None,
    table_format: str = "csv",
    subset: Optional[str] = None,
) -> BatchResult:
    """Run the task over the file's rows (``shard=(k, n)``: only part k of n; records keep
    the file's row index; ``split``/``subset``: the split of a datasets folder or Hub dataset,
    a Hub dataset's subset; ``table_format``: the table beside the results, csv, parquet or dataset)."""
    if table_format not in TABLE_FORMATS:
        raise ConfigError(f"table={table_format}: choose one of {', '.join(TABLE_FORMATS)}")
    source = RowSource(input_path, split, subset)
    if not source.count:
        raise InputError(f"{source.label} has no rows")
    mapping = column_map(task_cls, source.columns, column, source.label)
    out = Path(results_path).expanduser() if results_path else Path(ctx.run_dir or ".") / "results.jsonl"
    selected = shard_rows(source.count, shard)
    file_fields = [f for f in getattr(task_cls, "file_fields", ()) if f in mapping]
    done = finished(out, source, mapping, selected, file_fields)
    skipped = sum(done)
    in_flight: dict[int, dict[str, Any]] = {}  # inputs of the rows handed to the task, until their result

    def todo() -> Iterator[tuple[int, Any]]:
        for i, row in source.rows(selected):
            if not done[i - selected.start]:
                inputs = row_inputs(row, mapping, source, file_fields)
                in_flight[i] = inputs
                yield i, dataclasses.replace(params, **inputs)

    out.parent.mkdir(parents=True, exist_ok=True)
    ok = failed = tokens = 0
    with open(out, "a", encoding="utf-8") as sink:
        outcomes = task.run_batch(todo(), ctx)
        try:
            for i, outcome in ctx.progress(outcomes, total=len(selected) - skipped, desc=task_cls.name):
                record: dict[str, Any] = {"index": i, **in_flight.pop(i)}
                if isinstance(outcome, BaseException):
                    if isinstance(outcome, KeyboardInterrupt):
                        raise outcome
                    record["error"] = str(outcome).splitlines()[0] if str(outcome) else type(outcome).__name__
                    failed += 1
                else:
                    record.update(flatten(outcome, inputs=dict(record)))
                    record["error"] = ""
                    tokens += outcome.generated_tokens()
                    ok += 1
                sink.write(json.dumps(record, ensure_ascii=False) + "\n")
                sink.flush()
        except InputError as exc:  # the input failed part way (a Hub stream dropped): what finished stays
            if not ok + failed:
                raise
            raise InputError(
                f"{exc}; the {ok + failed} rows that finished are kept in {out}: "
                f"run again with results={out} to go on from there"
            ) from None
    table = put_in_order(out)
    if table_format != "csv":
        table = arrow_table(out, table_format)
    totals = column_totals(out, task_cls.batch_totals)
    ctx.metrics.update(
        items=ok + failed, ok=ok, failed=failed, skipped=skipped, **{f"total_{k}": v for k, v in totals.items()}
    )
    if tokens:  # every row's generated tokens, as its result counts them
        ctx.metrics["completion_tokens"] = tokens
    return BatchResult(
        task=task_cls.name,
        total=len(selected),
        ok=ok + skipped,
        failed=failed,
        skipped=skipped,
        results=str(out),
        table=str(table),
        totals=totals,
    )


def column_totals(out: Path, fields: Sequence[str]) -> dict[str, float]:
    """``fields`` summed over the rows of the ordered results that finished (this run's and
    those an earlier run did), read as a stream."""
    if not fields:
        return {}
    totals = dict.fromkeys(fields, 0.0)
    with open(out, encoding="utf-8") as f:
        for line in f:
            record = json.loads(line)
            if record.get("error"):
                continue
            for name in fields:
                value = record.get(name)
                if isinstance(value, (int, float)) and not isinstance(value, bool):
                    totals[name] += value
    return {k: int(v) if float(v).is_integer() else v for k, v in totals.items()}


def _cell(value: Any) -> Any:
    return "" if value is None else value


def row_inputs(row: dict[str, Any], mapping: dict[str, str], source: RowSource, file_fields: Sequence[str]) -> dict:
    """A row's values for the task's batch fields; a relative path in a file field is read
    from the batch file's folder when the file is there."""
    inputs = {f: _cell(row.get(c)) for f, c in mapping.items()}
    if source.suffix in SUFFIXES:
        for f in file_fields:
            value = inputs[f]
            if isinstance(value, str) and value and not Path(value).expanduser().is_absolute():
                beside = source.path.parent / value
                if beside.exists():
                    inputs[f] = str(beside.resolve())
    return inputs


def finished(
    out: Path, source: RowSource, mapping: dict[str, str], selected: range, file_fields: Sequence[str] = ()
) -> bytearray:
    """Which rows of ``selected`` an earlier run finished without error (a flag per row). A
    results file whose rows hold other inputs is refused rather than mixed with this run's."""
    done = bytearray(len(selected))
    if not out.exists():
        return done
    put_in_order(out)
    rows = source.rows()
    current = next(rows, None)
    for rec in read_records(out):  # in index order, one record per row
        i = int(rec.get("index", -1))
        while current is not None and current[0] < i:
            current = next(rows, None)
        same = (
            current is not None
            and current[0] == i
            and all(
                str(rec.get(f, "")) == str(v) for f, v in row_inputs(current[1], mapping, source, file_fields).items()
            )
        )
        if not same:
            raise InputError(
                f"results file '{out}' holds results of other inputs (row {i}); "
                "give a new results= path, or delete the file to start over"
            )
        if not rec.get("error") and i in selected:
            done[i - selected.start] = 1
    return done


def read_records(path: Path) -> Iterator[dict[str, Any]]:
    """The records of a JSONL results file, skipping a line cut off by an interruption."""
    for _, rec in _lines(path):
        yield rec


def _lines(path: Path) -> Iterator[tuple[str, dict[str, Any]]]:
    """``(line, record)`` of each whole record of a results file (a line ends with a newline)."""
    with open(path, encoding="utf-8") as f:
        for line in f:
            try:
                rec = json.loads(line)
            except ValueError:
                continue
            if isinstance(rec, dict) and "index" in rec:
                yield (line if line.endswith("\n") else line + "\n"), rec


def _unpickled(f: Any) -> Iterator[tuple[int, int, bool, str]]:
    while True:
        try:
            yield pickle.load(f)
        except EOFError:
            return


def arrow_table(out: Path, fmt: str) -> Path:
    """The ordered results as ``results.parquet`` or a datasets folder ``results`` beside
    ``out`` (read whole into Arrow's columns: about the size of the JSONL)."""
    try:
        import pyarrow.json as pj
    except ImportError:
        raise MissingDependencyError("pyarrow", f"table={fmt}", extra="datasets") from None
    dest = out.with_suffix(".parquet") if fmt == "parquet" else out.with_suffix("")
    return atomic_write_arrow(dest, pj.read_json(out), fmt, f"table={fmt}")


def put_in_order(out: Path, sources: Iterable[Path] = ()) -> Path:
    """Rewrite ``out`` (and any ``sources`` appended to it) as one record per row in input
    order, the last good record of a row winning over errors and earlier tries; write a CSV
    beside it. Memory holds one sorted run (``SORT_RUN`` records) at a time; runs are kept on
    disk as ``(index, try, failed, line)`` with each record's JSON line as it was written."""
    columns: dict[str, None] = {}
    with tempfile.TemporaryDirectory(prefix=".sorting-", dir=out.parent) as tmp, ExitStack() as stack:
        runs: list[Path] = []
        paths = [p for p in [out, *sources] if p.exists()]
        tries = itertools.count()
        entries = (
            (int(rec["index"]), next(tries), bool(rec.get("error")), line, rec)
            for p in paths
            for line, rec in _lines(p)
        )
        while batch := list(itertools.islice(entries, SORT_RUN)):
            batch.sort(key=lambda t: (t[0], t[1]))
            run = Path(tmp) / f"run{len(runs)}.pickle"
            with open(run, "wb") as f:
                for index, n, failed, line, rec in batch:
                    columns.update(dict.fromkeys(k for k in rec if k != "error"))
                    pickle.dump((index, n, failed, line), f)
            runs.append(run)
        merged = heapq.merge(*(_unpickled(stack.enter_context(open(r, "rb"))) for r in runs))
        jsonl = stack.enter_context(atomic_writer(out))
        table = stack.enter_context(atomic_writer(out.with_suffix(".csv")))
        writer = csv.DictWriter(table, fieldnames=[*columns, "error"], extrasaction="ignore")
        writer.writeheader()
        for _, group in itertools.groupby(merged, key=lambda t: t[0]):
            found = list(group)
            best = next((t for t in reversed(found) if not t[2]), found[-1])[3]
            jsonl.write(best)
            writer.writerow(json.loads(best))
    return out.with_suffix(".csv")
