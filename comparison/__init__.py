"""Multirun comparisons: every job's ``result.json`` → one table and one plot in the sweep dir.

``python run.py -m task=sentiment model=a,b,c`` writes ``comparison.md``, ``comparison.csv``
and ``comparison.png`` into the sweep directory: one row per job, a column per swept
override, then quality metrics (when ``eval=`` was given) and speed/memory metrics. A failed
job is a row with its status and error.

The table is built from disk, never from Hydra's job returns: ``on_multirun_end`` receives
none and is skipped when a job raises (hydra #1465, #2284). So the callback remembers the
sweep directory when the sweep starts (reporting to the app's :class:`Sweeps`), and
``taskdeck.app.main`` writes the table after Hydra returns or raises.
``python -m taskdeck.comparison <sweep dir>`` rebuilds the table later (e.g. after a cluster
sweep whose submitting process went away).

Jobs that differ only in ``shard=k/n`` are merged: their ``results.jsonl`` are concatenated
in row order into ``merged/<group>/results.jsonl`` (and ``.csv``), rescored when ``eval=``
was given, and shown as one more row with ``shard=merged``.
"""

from __future__ import annotations

import csv
import io
import json
import re
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Optional

from hydra.experimental.callback import Callback

from taskdeck.io import atomic_write_bytes, atomic_write_text

QUALITY = [
    "accuracy",
    "macro_f1",
    "entity_f1",
    "entity_precision",
    "entity_recall",
    "exact_match",
    "f1",
    "chrf",
    "bleu",
    "rouge1",
    "rouge2",
    "rougeL",
    "wer",
]
# model_mb: the weights in memory, as the backends report them (``memory_footprint_mb`` in ``models``)
SPEED = [
    "items",
    "failed",
    "items_per_s",
    "tokens_per_s",
    "load_s",
    "run_s",
    "wall_s",
    "peak_rss_mb",
    "peak_gpu_mb",
    "model_mb",
]
PLOTTED = [*QUALITY, "items_per_s", "tokens_per_s", "load_s", "wall_s", "peak_rss_mb", "peak_gpu_mb", "model_mb"]
LOWER_IS_BETTER = {"wer", "load_s", "run_s", "wall_s", "peak_rss_mb", "peak_gpu_mb", "model_mb"}

_told_matplotlib = False
STOPPED_AT_START = "the job stopped as it started, before Hydra wrote its overrides (killed?)"


class Sweeps:
    """The sweeps that started in this process and whose table is not written yet. The app
    owns one for the length of a command (:func:`tracking`); the callback reports to it."""

    def __init__(self) -> None:
        self.pending: list[Path] = []

    def finish(self, stream: Any = None, stopped: Optional[str] = None) -> list[Path]:
        """Write and show the table of each pending sweep. ``stopped``: why the sweep ended
        early (the exception Hydra re-raised), shown as a last row."""
        written = []
        while self.pending:
            sweep_dir = self.pending.pop(0)
            sweep_dir.mkdir(parents=True, exist_ok=True)
            written.append(write_comparison(sweep_dir, stream if stream is not None else sys.stdout, stopped=stopped))
        return written


_listener: Optional[Sweeps] = None


@contextmanager
def tracking(sweeps: Sweeps) -> Iterator[Sweeps]:
    """Within the block, sweeps report to ``sweeps`` instead of writing their table at their end:
    the app writes it, also when Hydra skips ``on_multirun_end`` (hydra #1465, #2284)."""
    global _listener
    before, _listener = _listener, sweeps
    try:
        yield sweeps
    finally:
        _listener = before


class ComparisonCallback(Callback):
    """On by default (``hydra.callbacks.comparison`` in ``conf/config.yaml``)."""

    def on_multirun_start(self, config: Any, **kwargs: Any) -> None:
        if _listener is not None:
            _listener.pending.append(Path(str(config.hydra.sweep.dir)))

    def on_multirun_end(self, config: Any, **kwargs: Any) -> None:
        if _listener is not None:
            _listener.finish()
        else:  # Hydra run without taskdeck's app (e.g. the compose API): the table now
            write_comparison(Path(str(config.hydra.sweep.dir)), sys.stdout)


# ---- gathering ----


def job_dirs(sweep_dir: Path) -> list[Path]:
    """The sweep's job directories (those where Hydra made ``.hydra/``), in job order."""
    found = {p.parent for p in sweep_dir.glob("*/.hydra") if p.is_dir()}
    found |= {p.parent for p in sweep_dir.glob("*/*/.hydra") if p.is_dir()}

    def order(path: Path) -> tuple:
        rel = path.relative_to(sweep_dir).parts
        return tuple((0, int(p), "") if p.isdigit() else (1, 0, p) for p in rel)

    return sorted(found, key=order)


def read_job(job_dir: Path) -> dict[str, Any]:
    """One job: its overrides (``key -> value``) and its ``result.json`` (or why there is none)."""
    import yaml

    overrides = {}
    try:
        given = yaml.safe_load((job_dir / ".hydra" / "overrides.yaml").read_text()) or []
    except FileNotFoundError:  # stopped as it started, before Hydra wrote the job's config
        return {"dir": job_dir, "overrides": {}, "record": {"status": "no result", "error": STOPPED_AT_START}}
    except OSError as exc:
        return {"dir": job_dir, "overrides": {}, "record": {"status": "no result", "error": f"unreadable: {exc}"}}
    for item in given:
        key, _, value = str(item).partition("=")
        overrides[key.lstrip("+~")] = re.sub(r"\\(.)", r"\1", value)  # Hydra's escapes: I\ hate\ it
    result_file = job_dir / "result.json"
    try:
        record = json.loads(result_file.read_text())
    except FileNotFoundError:
        record = {"status": "no result", "error": "the job wrote no result.json (killed, or it failed in Hydra)"}
    except (ValueError, OSError) as exc:  # cut short, a folder, no permission: the job's row says so
        record = {"status": "no result", "error": f"result.json unreadable: {exc}"}
    return {"dir": job_dir, "overrides": overrides, "record": record}


def swept_keys(sweep_dir: Path) -> set[str]:
    """The keys the command line swept (``model=a,b``, ``range(..)``, ``choice(..)``), from the
    sweep's ``multirun.yaml``; empty when it cannot be read."""
    import yaml

    try:
        cfg = yaml.safe_load((sweep_dir / "multirun.yaml").read_text())
        given = [str(o) for o in cfg["hydra"]["overrides"]["task"]]
        from hydra.core.override_parser.overrides_parser import OverridesParser

        parsed = OverridesParser.create().parse_overrides(given)
    except Exception:  # noqa: BLE001 - a missing or odd file: columns come from differing values
        return set()
    return {o.key_or_group for o in parsed if o.is_sweep_override()}


def comparison_rows(
    jobs: list[dict[str, Any]], sweep_axes: frozenset[str] | set[str] = frozenset()
) -> tuple[list[str], list[dict[str, Any]], dict[str, str]]:
    """Columns, one row per job, and the overrides every job shares. A column per key the
    command line swept (``sweep_axes``) or whose value differs between jobs."""
    keys = list(dict.fromkeys(k for j in jobs for k in j["overrides"]))
    values = {k: {j["overrides"].get(k, "") for j in jobs} for k in keys}
    swept = [k for k in keys if len(values[k]) > 1 or k in sweep_axes]
    fixed = {k: next(iter(values[k])) for k in keys if k not in swept}
    rows = []
    for job in jobs:
        rec = job["record"]
        row: dict[str, Any] = {
            "job": job["dir"].name,
            **{k: job["overrides"].get(k, "") for k in swept},
            "status": rec.get("status", "?"),
        }
        row.update({k: v for k, v in (rec.get("metrics") or {}).items() if k in QUALITY or k in SPEED})
        footprints = [m["memory_footprint_mb"] for m in rec.get("models") or [] if "memory_footprint_mb" in m]
        if footprints:
            row["model_mb"] = round(sum(footprints), 1)
        row["error"] = rec.get("error", "") or ""
        rows.append(row)
    rows += merged_shards(jobs, swept)
    present = {k for r in rows for k, v in r.items() if v not in ("", None)}
    metrics = [m for m in [*QUALITY, *SPEED] if m in present and not (m == "failed" and not _any(rows, m))]
    columns = ["job", *swept, "status", *metrics, "error"]
    return columns, rows, fixed


def _any(rows: list[dict[str, Any]], key: str) -> bool:
    return any(r.get(key) for r in rows)


# ---- shards ----


def merged_shards(jobs: list[dict[str, Any]], swept: list[str]) -> list[dict[str, Any]]:
    """For each group of jobs differing only in ``shard=``: merge their results in row order
    (``<sweep>/merged/<n>/results.jsonl``) and return a row per complete group."""
    if "shard" not in swept:
        return []
    groups: dict[tuple, list[dict[str, Any]]] = {}
    for job in jobs:
        if not job["overrides"].get("shard"):  # a job stopped before its overrides were written
            continue
        key = tuple((k, job["overrides"].get(k, "")) for k in swept if k != "shard")
        groups.setdefault(key, []).append(job)
    rows = []
    for n, (key, members) in enumerate(groups.items()):
        recs = [m["record"] for m in members]
        row: dict[str, Any] = {"job": f"merged/{n}", **dict(key), "shard": "merged"}
        bad = [r for r in recs if r.get("status") != "ok"]
        missing = missing_shards([m["overrides"]["shard"] for m in members])
        if bad or missing:
            why = [f"{len(bad)} shard(s) failed"] if bad else []
            why += [f"no job for shard {', '.join(missing)}"] if missing else []
            rows.append({**row, "status": "incomplete", "error": "; ".join(why) + "; nothing merged"})
            continue
        out = members[0]["dir"].parent / "merged" / str(n) / "results.jsonl"
        counts = merge_results([Path(r["result"]["results"]) for r in recs], out)
        metrics = [r.get("metrics", {}) for r in recs]
        slowest = max(m.get("run_s", 0.0) for m in metrics)
        row.update(
            status="ok",
            items=counts["items"],
            failed=counts["failed"],
            wall_s=max(m.get("wall_s", 0.0) for m in metrics),
            error="",
        )
        if slowest:
            row["items_per_s"] = round(counts["items"] / slowest, 3)
        plan = recs[0].get("eval_plan")
        if plan:
            row.update(_rescore(recs[0].get("task", ""), plan, out))
        rows.append(row)
    return rows


def missing_shards(given: list[str]) -> list[str]:
    """The ``k/n`` shards of a group that no job ran (a sweep stopped early, a job lost before
    it wrote its overrides): a group merges only when all ``n`` are there."""
    parts = [re.fullmatch(r"\s*(\d+)\s*/\s*(\d+)\s*", s) for s in given]
    totals = {int(m.group(2)) for m in parts if m}
    if len(totals) != 1:
        return []  # not k/n shards: nothing to check against
    n = totals.pop()
    have = {int(m.group(1)) for m in parts if m}
    return [f"{k}/{n}" for k in range(1, n + 1) if k not in have]


def merge_results(paths: list[Path], out: Path) -> dict[str, int]:
    """Concatenate shards' JSONL results in row order into ``out`` (and a CSV beside it);
    the counts of rows and failed rows."""
    from taskdeck.engine.batch import put_in_order, read_records

    out.parent.mkdir(parents=True, exist_ok=True)
    out.unlink(missing_ok=True)
    put_in_order(out, sources=paths)
    items = failed = 0
    for rec in read_records(out):
        items += 1
        failed += bool(rec.get("error"))
    return {"items": items, "failed": failed}


def _rescore(task: str, plan: dict[str, Any], results: Path) -> dict[str, Any]:
    """The merged results scored as ``eval=`` scored each shard: the task's metric on its file."""
    from taskdeck.engine.eval_plan import EvalPlan
    from taskdeck.engine.plugin_manager import get_session
    from taskdeck.evaluation import METRICS

    tasks = get_session().tasks
    metric = (tasks.get(task).eval_metric if task in tasks else None) or METRICS[plan.get("metric", "")]
    return EvalPlan.of_file(plan["file"], metric, plan["column"], plan.get("split"), plan.get("subset")).score(results)


# ---- writing ----


def write_comparison(sweep_dir: Path, stream: Any = None, stopped: Optional[str] = None) -> Path:
    """Write ``comparison.md``, ``.csv`` and ``.png`` for the sweep; print the table to ``stream``.
    ``stopped``: why the sweep stopped before its last job (a row ``job=sweep, status=stopped``)."""
    jobs = [read_job(d) for d in job_dirs(sweep_dir)]
    columns, rows, fixed = comparison_rows(jobs, swept_keys(sweep_dir))
    if stopped:
        rows.append({"job": "sweep", "status": "stopped", "error": stopped})
    md = markdown(columns, rows, fixed, sweep_dir)
    atomic_write_text(sweep_dir / "comparison.md", md)
    atomic_write_text(sweep_dir / "comparison.csv", to_csv(columns, rows))
    png = plot(columns, rows, sweep_dir / "comparison.png")
    if stream is not None:
        stream.write(
            "\n"
            + md
            + f"\ncomparison: {sweep_dir / 'comparison.md'}, comparison.csv"
            + (", comparison.png" if png else "")
            + "\n"
        )
        stream.flush()
    return sweep_dir / "comparison.md"


def _cell(value: Any, width: int = 0) -> str:
    text = "" if value is None else str(value)
    text = text.replace("|", "\\|").replace("\n", " ")
    return text if not width or len(text) <= width else text[: width - 1] + "…"


def markdown(columns: list[str], rows: list[dict[str, Any]], fixed: dict[str, str], sweep_dir: Path) -> str:
    jobs = [r for r in rows if _is_job(r)]
    ok = sum(1 for r in jobs if r.get("status") == "ok")
    lines = [f"# Comparison: {len(jobs)} job(s), {ok} ok", ""]
    if fixed:
        lines += ["Fixed: " + ", ".join(f"`{k}={v}`" for k, v in fixed.items()), ""]
    lines += ["| " + " | ".join(columns) + " |", "|" + "|".join("---" for _ in columns) + "|"]
    for r in rows:
        lines.append("| " + " | ".join(_cell(r.get(c), 100 if c == "error" else 60) for c in columns) + " |")
    return "\n".join(lines) + "\n"


def _is_job(row: dict[str, Any]) -> bool:
    """A job's row (not a merged shard group's, not the sweep's ``stopped`` row)."""
    job = str(row.get("job", ""))
    return job != "sweep" and not job.startswith("merged")


def to_csv(columns: list[str], rows: list[dict[str, Any]]) -> str:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=columns, extrasaction="ignore")
    writer.writeheader()
    writer.writerows(rows)
    return buf.getvalue()


def _label(row: dict[str, Any], swept: list[str]) -> str:
    parts = []
    for k in swept:
        v = str(row.get(k, ""))
        if "/" in v and not re.fullmatch(r"\d+/\d+", v):
            v = Path(v).name or v  # a path: its last part
        parts.append(v if len(swept) == 1 else f"{k}={v}")
    label = ", ".join(parts) or str(row.get("job"))
    return label if len(label) <= 48 else label[:47] + "…"  # prompts and long values: the start


def plot(columns: list[str], rows: list[dict[str, Any]], out: Path) -> Optional[Path]:
    """One horizontal bar chart per metric, a bar per job (failed jobs: no bar, marked)."""
    global _told_matplotlib
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        if not _told_matplotlib:
            print("note: comparison.png needs matplotlib: pip install 'taskdeck[compare]'", file=sys.stderr)
            _told_matplotlib = True
        return None
    swept = columns[1 : columns.index("status")]
    metrics = [m for m in PLOTTED if m in columns]
    if not rows or not metrics:
        return None
    labels = [_label(r, swept) for r in rows]
    height = 0.9 + 0.32 * len(rows)
    ncols = min(3, len(metrics))
    nrows = -(-len(metrics) // ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(5.2 * ncols, height * nrows + 0.6), squeeze=False)
    for ax, metric in zip(axes.flat, metrics):
        values = [r.get(metric) if r.get("status") == "ok" else None for r in rows]
        ys = range(len(rows))
        ax.barh(ys, [v or 0 for v in values], color=["#4c78a8" if v is not None else "#dddddd" for v in values])
        for y, v in zip(ys, values):
            ax.text(v or 0, y, f" {v:g}" if v is not None else " error", va="center", fontsize=8)
        ax.set_yticks(list(ys), labels, fontsize=8)
        ax.invert_yaxis()
        ax.set_title(metric + (" (lower is better)" if metric in LOWER_IS_BETTER else ""), fontsize=9)
        ax.margins(x=0.25)
    for ax in list(axes.flat)[len(metrics) :]:
        ax.axis("off")
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110)
    plt.close(fig)
    atomic_write_bytes(out, buf.getvalue())
    return out


def main(argv: Optional[list[str]] = None) -> None:
    """``python -m taskdeck.comparison <sweep dir>``: rebuild a sweep's comparison."""
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1 or not Path(args[0]).is_dir():
        print("usage: python -m taskdeck.comparison <sweep dir>", file=sys.stderr)
        sys.exit(2)
    try:
        write_comparison(Path(args[0]), sys.stdout)
    except OSError as exc:  # a sweep folder that cannot be read or written
        print(f"error: cannot use {exc.filename or args[0]}: {exc.strerror or exc}", file=sys.stderr)
        sys.exit(2)
