"""What the page shows for a finished run, by the kind of its result.

Pure Python (no gradio): ``view(result, record, run_dir)`` maps each output slot of a tab to its value, None
for a slot that stays hidden. Labels become bars, entities and answers are highlighted in
their text, minutes are Markdown with the transcript beside, audio plays, images form a
gallery, batches and records are tables; every run offers its files for download. A result
kind no view knows is shown as its Markdown report.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any, Optional

#: The output slots of every tab, in the order the API returns them.
SLOTS = (
    "record", "status", "text", "html", "labels", "highlighted", "chat", "audio", "gallery", "table", "detail", "files",
)  # fmt: skip
TABLE_ROWS = 500  # rows shown on the page; the files hold them all


def empty() -> dict[str, Any]:
    return dict.fromkeys(SLOTS)


def status_line(record: dict[str, Any], command: str) -> str:
    """Status, timings and where the run's files are, and the same run on the command line."""
    metrics = record.get("metrics", {})
    state = record.get("status", "running")
    bits = [f"**{state}**"]
    if "wall_s" in metrics:
        bits.append(f"{metrics['wall_s']:.1f} s")
    if metrics.get("load_s"):
        bits.append(f"load {metrics['load_s']:.1f} s")
    warm = [m["model"] for m in record.get("models", []) if m.get("warm")]
    if warm:
        bits.append("warm: " + ", ".join(Path(str(m)).name for m in warm))
    if record.get("run_dir"):
        bits.append(f"`{record['run_dir']}`")
    if record.get("error"):
        bits.append(str(record["error"]))
    return " · ".join(bits) + f"\n\n```\n{command}\n```"


def streaming(text: str, chat: Optional[list] = None) -> dict[str, Any]:
    """The slots while a run streams its text."""
    out = empty()
    if chat is not None:
        out["chat"] = chat
    else:
        out["text"] = text
    return out


def view(result: Any, record: dict[str, Any], run_dir: Path, chat: Optional[list] = None) -> dict[str, Any]:
    """The slots for a finished run (``chat``: the conversation so far, for a chat tab)."""
    out = empty()
    out["record"] = record
    out["files"] = _files(record, run_dir, result)
    if result is None:
        return out
    kind = getattr(result, "kind", "")
    show = _VIEWS.get(kind, _report)
    show(result, out, run_dir)
    if chat is not None and kind == "generated":
        out["chat"] = [*chat, {"role": "assistant", "content": result.text}]
        out["text"] = None
    if out["html"] is None and kind not in _VIEWS:
        out["html"] = result.to_html()
    return out


def _labels(result: Any, out: dict, run_dir: Path) -> None:
    out["labels"] = {s.label: float(s.score) for s in result.labels}


def _entities(result: Any, out: dict, run_dir: Path) -> None:
    spans = [{"entity": e.entity, "start": e.start, "end": e.end} for e in result.entities]
    out["highlighted"] = {"text": result.text, "entities": spans}
    out["table"] = _table(result.rows())


def _answers(result: Any, out: dict, run_dir: Path) -> None:
    if not result.answers:
        out["text"] = "_No answer in the context._"
        return
    best = result.answers[0]
    out["text"] = f"**{best.answer}** ({best.score:.3f})"
    if result.context:
        spans = [
            {"entity": f"answer {i + 1}" if len(result.answers) > 1 else "answer", "start": a.start, "end": a.end}
            for i, a in enumerate(result.answers)
            if 0 <= a.start < a.end <= len(result.context)
        ]
        out["highlighted"] = {"text": result.context, "entities": spans}
    out["table"] = _table(result.rows())


def _fill_mask(result: Any, out: dict, run_dir: Path) -> None:
    out["labels"] = {c.token: float(c.score) for c in result.candidates}
    out["table"] = _table(result.rows())


def _generated(result: Any, out: dict, run_dir: Path) -> None:
    out["text"] = result.text


def _transcript(result: Any, out: dict, run_dir: Path) -> None:
    out["text"] = "\n\n".join(f"**{who}:** {text}" if who else text for who, text in result.turns())
    out["table"] = _table(result.rows())


def _audio(result: Any, out: dict, run_dir: Path) -> None:
    wavs = sorted(run_dir.glob("*.wav"))
    out["audio"] = str(wavs[0]) if wavs else (result.sample_rate, result.samples)
    out["text"] = result.summary()


def _images(result: Any, out: dict, run_dir: Path) -> None:
    out["gallery"] = [str(p) for p in sorted(run_dir.glob("*.png"))]
    out["text"] = result.summary()


def _detections(result: Any, out: dict, run_dir: Path) -> None:
    """The image with its boxes drawn, and the objects as a table."""
    _images(result, out, run_dir)
    out["table"] = _table(result.rows())


def _answer(result: Any, out: dict, run_dir: Path) -> None:
    """task=ask: the answer and its quotes as Markdown, the quotes as a table."""
    out["text"] = result.to_markdown()
    out["table"] = _table(result.rows())


def _minutes(result: Any, out: dict, run_dir: Path) -> None:
    out["text"] = result.to_markdown()
    transcript = run_dir / "transcript.txt"
    given = Path(result.source) if result.source else None
    if not transcript.exists() and given is not None and given.suffix in (".txt", ".srt", ".vtt") and given.is_file():
        transcript = given  # minutes of a transcript file: that file
    if transcript.exists():
        out["detail"] = "### Transcript\n\n" + "\n\n".join(
            line for line in transcript.read_text(encoding="utf-8").splitlines() if line.strip()
        )


def _records(result: Any, out: dict, run_dir: Path) -> None:
    out["table"] = _table(list(result.records))
    out["text"] = result.summary()


def _batch(result: Any, out: dict, run_dir: Path) -> None:
    out["text"] = result.summary()
    table = Path(result.table) if result.table else None
    if table is not None and table.suffix == ".csv" and table.exists():
        with table.open(newline="", encoding="utf-8") as f:
            out["table"] = _table([row for _, row in zip(range(TABLE_ROWS), csv.DictReader(f))])
    else:
        out["table"] = _table(_jsonl(Path(result.results)))


def _report(result: Any, out: dict, run_dir: Path) -> None:
    from taskdeck.helpers.markdown import to_markdown

    out["text"] = to_markdown(result, getattr(result, "kind", "result"))


def _tokens(result: Any, out: dict, run_dir: Path) -> None:
    out["html"] = result.to_html()
    out["text"] = result.to_markdown()


def _comparison(result: Any, out: dict, run_dir: Path) -> None:
    sweep = Path(result.sweep_dir)
    table = sweep / "comparison.md"
    out["text"] = table.read_text(encoding="utf-8") if table.exists() else "_No comparison was written._"
    plot = sweep / "comparison.png"
    out["gallery"] = [str(plot)] if plot.exists() else None
    rows = sweep / "comparison.csv"
    if rows.exists():
        with rows.open(newline="", encoding="utf-8") as f:
            out["table"] = _table(list(csv.DictReader(f)))


_VIEWS = {
    "labels": _labels,
    "entities": _entities,
    "answers": _answers,
    "answer": _answer,
    "fill_mask": _fill_mask,
    "generated": _generated,
    "text": _generated,
    "transcript": _transcript,
    "audio": _audio,
    "images": _images,
    "detections": _detections,
    "minutes": _minutes,
    "records": _records,
    "batch": _batch,
    "tokens": _tokens,
    "token_comparison": _tokens,
    "comparison": _comparison,
}


def _table(rows: list[dict[str, Any]]) -> Optional[dict[str, Any]]:
    """Rows as a Dataframe value; nested values as JSON text."""
    rows = rows[:TABLE_ROWS]
    if not rows:
        return None
    headers = list(dict.fromkeys(k for r in rows for k in r))
    cell = lambda v: v if isinstance(v, (str, int, float, bool)) or v is None else json.dumps(v, ensure_ascii=False)
    return {"headers": headers, "data": [[cell(r.get(h)) for h in headers] for r in rows]}


def _jsonl(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    rows = []
    with path.open(encoding="utf-8") as f:
        for line, _ in zip(f, range(TABLE_ROWS)):
            rows.append(json.loads(line))
    return rows


def _files(record: dict[str, Any], run_dir: Path, result: Any) -> Optional[list[str]]:
    """The run's files: what the formatters wrote, result.json, a batch's results and table,
    synthetic records, a transcript."""
    names = [*record.get("outputs", []), str(run_dir / "result.json")]
    for attr in ("results", "table", "path"):
        value = getattr(result, attr, None)
        if isinstance(value, str) and value:
            names.append(value)
    names += [str(p) for p in sorted(run_dir.glob("transcript.*"))]
    names += [str(p) for p in sorted(run_dir.glob("comparison.*"))]  # a sweep's table, CSV and plot
    found = [str(Path(n).resolve()) for n in dict.fromkeys(names) if Path(n).is_file()]
    return found or None
