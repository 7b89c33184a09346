"""Batch mode: ``input=file.csv|jsonl|txt`` runs a task over every row.

Rows are read, turned into the task's Params (the row fills the task's ``batch_fields``),
and handed to ``Task.run_batch``. Each finished row is appended to a JSONL results file at
once, so Ctrl-C keeps what finished; rerunning with ``results=<that file>`` skips the rows
already done (failed rows are tried again). At the end the results are rewritten in input
order, and a CSV beside them.
"""
from __future__ import annotations

import csv
import dataclasses
import json
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any, Optional

from .errors import ConfigError, InputError
from .io import atomic_write_text
from .results import Result

if TYPE_CHECKING:
    from .context import RunContext
    from .tasks import Task


def read_rows(path: Path) -> tuple[list[dict[str, Any]], list[str]]:
    """The rows of a .csv/.tsv/.jsonl/.json/.txt file, and their column names."""
    if not path.is_file():
        raise InputError(f"input file '{path}' does not exist")
    suffix = path.suffix.lower()
    try:
        if suffix in (".csv", ".tsv"):
            with open(path, newline="", encoding="utf-8-sig") as f:
                reader = csv.DictReader(f, delimiter="\t" if suffix == ".tsv" else ",")
                rows = list(reader)
                return rows, list(reader.fieldnames or [])
        if suffix in (".jsonl", ".ndjson"):
            lines = [ln for ln in path.read_text(encoding="utf-8").splitlines() if ln.strip()]
            rows = [_as_row(json.loads(ln)) for ln in lines]
        elif suffix == ".json":
            data = json.loads(path.read_text(encoding="utf-8"))
            if not isinstance(data, list):
                raise InputError(f"input file '{path}' must hold a JSON list of rows")
            rows = [_as_row(r) for r in data]
        elif suffix == ".txt":
            rows = [{"text": ln} for ln in path.read_text(encoding="utf-8").splitlines() if ln.strip()]
        else:
            raise InputError(f"input file '{path}': use .csv, .tsv, .jsonl, .json or .txt")
    except (ValueError, UnicodeDecodeError) as exc:
        raise InputError(f"input file '{path}' cannot be read: {str(exc).splitlines()[0]}") from None
    columns = list(dict.fromkeys(k for r in rows for k in r))
    return rows, columns


def _as_row(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {"text": value}


def column_map(task_cls: type["Task"], columns: list[str], column: Optional[str], path: Path) -> dict[str, str]:
    """Which file column fills each batch field: ``column=`` names the main field's column,
    other fields use their own names."""
    fields = list(task_cls.batch_fields)
    mapping = {f: f for f in fields}
    if column:
        mapping[fields[0]] = column
    elif fields[0] not in columns and len(columns) == 1:
        mapping[fields[0]] = columns[0]
    missing = [c for c in mapping.values() if c not in columns]
    if missing:
        hint = f"add column=<name> for '{fields[0]}'" if mapping[fields[0]] in missing else \
            f"the file needs the column(s) {', '.join(missing)}"
        raise InputError(f"input file '{path.name}' has no column '{missing[0]}' "
                         f"(columns: {', '.join(columns) or 'none'}): {hint}")
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
        row[key] = value if isinstance(value, (str, int, float, bool)) or value is None else json.dumps(value, ensure_ascii=False)
    labels = getattr(result, "labels", None)
    if isinstance(labels, list) and labels and hasattr(labels[0], "label"):  # the best label, first
        row = {"label": labels[0].label, "score": labels[0].score, **row}
    return row


@dataclasses.dataclass
class BatchResult(Result):
    """What a batch run produced: counts and where the rows are."""

    kind = "batch"  # type: ignore[assignment]
    task: str
    total: int
    ok: int
    failed: int
    skipped: int
    results: str
    records: list[dict[str, Any]] = dataclasses.field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        d = super().to_dict()
        d["records"] = d["records"][:1000]  # the results files hold every row
        return d

    def rows(self) -> list[dict[str, Any]]:
        return self.records

    def summary(self) -> str:
        line = f"{self.total} rows: {self.ok} ok, {self.failed} failed"
        if self.skipped:
            line += f", {self.skipped} already done"
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


def run_batch(task: "Task", task_cls: type["Task"], params: Any, ctx: "RunContext", input_path: str,
              column: Optional[str], results_path: Optional[str],
              shard: Optional[tuple[int, int]] = None) -> BatchResult:
    """Run the task over the file's rows (``shard=(k, n)``: only part k of n; records keep
    the file's row index)."""
    path = Path(input_path).expanduser()
    rows, columns = read_rows(path)
    if not rows:
        raise InputError(f"input file '{path}' has no rows")
    mapping = column_map(task_cls, columns, column, path)
    out = Path(results_path).expanduser() if results_path else Path(ctx.run_dir or ".") / "results.jsonl"
    done = _finished(out, rows, mapping)
    selected = shard_rows(len(rows), shard)
    done &= set(selected)
    todo = [i for i in selected if i not in done]
    batch = [dataclasses.replace(params, **{f: _cell(rows[i][c]) for f, c in mapping.items()}) for i in todo]
    out.parent.mkdir(parents=True, exist_ok=True)
    ok = failed = tokens = 0
    with open(out, "a", encoding="utf-8") as sink:
        results = task.run_batch(batch, ctx)
        for j, outcome in ctx.progress(results, total=len(batch), desc=task_cls.name):
            i = todo[j]
            record: dict[str, Any] = {"index": i, **{f: _cell(rows[i][c]) for f, c in mapping.items()}}
            if isinstance(outcome, BaseException):
                if isinstance(outcome, KeyboardInterrupt):
                    raise outcome
                record["error"] = str(outcome).splitlines()[0] if str(outcome) else type(outcome).__name__
                failed += 1
            else:
                record.update(flatten(outcome, inputs=dict(record)))
                record["error"] = ""
                tokens += int(getattr(outcome, "completion_tokens", 0) or 0)
                ok += 1
            sink.write(json.dumps(record, ensure_ascii=False) + "\n")
            sink.flush()
    final = rewrite_in_order(out)
    ctx.metrics.update(items=ok + failed, ok=ok, failed=failed, skipped=len(done))
    if tokens:  # generated tokens of all rows: tasks that count into ctx.metrics either add up
        # every call (summarization, translation: more than the rows' final calls) or keep the
        # last call's count (chat); the larger of the two is the batch's
        ctx.metrics["completion_tokens"] = max(tokens, int(ctx.metrics.get("completion_tokens", 0) or 0))
    return BatchResult(task=task_cls.name, total=len(selected), ok=ok + len(done), failed=failed,
                       skipped=len(done), results=str(out), records=final)


def _cell(value: Any) -> Any:
    return "" if value is None else value


def _finished(out: Path, rows: list[dict[str, Any]], mapping: dict[str, str]) -> set[int]:
    """Indices of rows already done without error in an earlier run's results file. A file
    whose rows hold other inputs is refused rather than mixed with this run's results."""
    if not out.exists():
        return set()
    done = set()
    for line in out.read_text(encoding="utf-8").splitlines():
        try:
            rec = json.loads(line)
        except ValueError:
            continue  # a line cut off by an interruption
        i = int(rec.get("index", -1))
        same = 0 <= i < len(rows) and all(str(rec.get(f, "")) == str(_cell(rows[i][c])) for f, c in mapping.items())
        if not same:
            raise InputError(f"results file '{out}' holds results of other inputs (row {i}); "
                             "give a new results= path, or delete the file to start over")
        if not rec.get("error"):
            done.add(i)
    return done


def rewrite_in_order(out: Path) -> list[dict[str, Any]]:
    """Keep the last record per row, in input order; write the JSONL and a CSV beside it."""
    latest: dict[int, dict[str, Any]] = {}
    for line in out.read_text(encoding="utf-8").splitlines():
        try:
            rec = json.loads(line)
        except ValueError:
            continue
        if not rec.get("error") or int(rec["index"]) not in latest or latest[int(rec["index"])].get("error"):
            latest[int(rec["index"])] = rec
    ordered = [latest[i] for i in sorted(latest)]
    atomic_write_text(out, "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in ordered))
    columns = list(dict.fromkeys(k for r in ordered for k in r if k != "error")) + ["error"]
    import io
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=columns, extrasaction="ignore")
    writer.writeheader()
    writer.writerows(ordered)
    atomic_write_text(out.with_suffix(".csv"), buf.getvalue())
    return ordered
