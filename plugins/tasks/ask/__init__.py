"""``task=ask``: questions to the archive of past minutes, and their open action items.

- ``question="what did we decide about the price?"``: the passages of past meetings that bear on
  it (by meaning and by words, :mod:`.search`), read by the chat model, which answers from them
  alone (:mod:`.answer`); the answer comes with the quotes it rests on (meeting, date, speaker,
  time), or says that nothing in the archive answers it;
- ``owner=Maria``: the open action items of that person across meetings (``owner=all``: everyone's);
  ``done=<id>`` marks one done;
- ``add=<a task=minutes run directory>``: add a run made before the archive (or with ``index=false``);
- none of these: the meetings the archive holds.

Every ``task=minutes`` run adds its meeting to the archive (:mod:`taskdeck.helpers.archive`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Optional

from taskdeck import CHAT, EMBED, InputError, Report, Section, Task, hookimpl, param

if TYPE_CHECKING:  # loaded with a run, not with a listing
    from .result import Answer, Quote

#: A question whose nearest passage is less similar than this has no answer in the archive (on the
#: benchmark's tuning questions: 0.42 and more for those with an answer, 0.28 for one without).
MIN_SIMILARITY = 0.35


class AskTask(Task):
    name = "ask"
    description = "ask the archive of past minutes: answers with quotes, open action items by owner"

    @dataclass
    class Params:
        question: Optional[str] = param(None, "what to ask the past meetings", input=True)
        owner: Optional[str] = param(None, "list this person's open action items (all: everyone's)")
        done: Optional[int] = param(None, "mark this action item (its id in owner= lists) done")
        add: Optional[str] = param(None, "add a task=minutes run directory made before (or with index=false)")
        archive: Optional[str] = param(None, "the archive (default: $TASKDECK_ARCHIVE, else outputs/archive.sqlite)")
        top: int = param(6, "passages the model reads", ge=1, le=20)
        embedder: str = param("all-minilm-l6-v2", "sentence-embedding model that finds passages by meaning")
        model: str = param("qwen2.5-coder-1.5b", "the chat model that answers from the passages")
        n_ctx: int = param(4096, "context window, where the backend has one to set (llama.cpp)", ge=512)
        seed: Optional[int] = param(0, "random seed for the chat model")

    def run(self, params, ctx):
        from taskdeck.helpers.archive import Archive, archive_path

        if params.question is not None and not params.question.strip():
            raise InputError("question= is empty: ask something, e.g. question='what did we decide about the price?'")
        path = archive_path(params.archive)
        if not path.is_file() and not (params.add or params.question or params.owner or params.done is not None):
            note = f"no archive at {path} yet: task=minutes adds every meeting it writes to it"
            return Report(title="meetings in the archive", sections=[Section("meetings", [], note=note)])
        if params.add:
            minutes = ctx.catalog.tasks.get("minutes")
            if minutes is None or not hasattr(minutes, "index_run"):
                raise InputError("add= needs task=minutes, which writes the runs it adds; it is not installed")
            minutes.index_run(Path(params.add).expanduser(), path)
        with Archive(path) as archive:
            if params.add and not params.question:
                return _meetings_report(archive)
            if params.done is not None:
                item = archive.set_done(params.done)
                return _actions_report(archive, item.owner, f"marked done: #{item.id} {item.owner}: {item.task}")
            if params.owner:
                return _actions_report(archive, params.owner, "")
            if params.question:
                return self._answer(archive, params, ctx)
            return _meetings_report(archive)

    def _answer(self, archive, params, ctx) -> Answer:
        from . import answer, search
        from .result import Answer

        meetings = len(archive.meetings())
        embedder, _ = ctx.model(params.embedder, needs=[EMBED])
        with ctx.watch.time("embed"):
            ctx.metrics["embedded"] = search.embed_new(archive, embedder, params.embedder)
        with ctx.watch.time("search"):
            found = search.search(archive, embedder, params.embedder, params.question, params.top)
        best = max((f.similarity for f in found), default=0.0)
        ctx.metrics.update(best_similarity=round(best, 3), meetings=meetings)
        if best < MIN_SIMILARITY:
            return Answer(params.question, answer.NOT_FOUND, False, meetings=meetings)
        shown = answer.excerpts(archive, found)
        backend, _ = ctx.model(params.model, needs=[CHAT], options={"n_ctx": params.n_ctx})
        with ctx.watch.time("answer"):
            reply = answer.answer(backend, params.question, shown, seed=params.seed)
        ctx.metrics.update(read=answer.render(shown), reply=reply.raw, support=reply.support)
        ctx.metrics.update(
            {f"{span}_s": round(ctx.watch.spans.get(span, 0.0), 3) for span in ("embed", "search", "answer")}
        )
        quotes = list(
            {(q.run, q.time, q.text): q for q in map(_quote, reply.cited)}.values()
        )  # an item and its turn: once
        return Answer(params.question, reply.answer, bool(quotes), quotes, meetings, params.model)


def _quote(e) -> Quote:
    from .answer import clock
    from .result import Quote

    turn = e.turn
    if e.speaker == "minutes" and turn is None:  # an item without a turn: the minutes' own words
        return Quote(e.meeting.title, e.meeting.when, "minutes", "", e.text, run=e.meeting.run)
    assert turn is not None
    return Quote(
        e.meeting.title,
        e.meeting.when,
        turn.speaker,
        clock(turn.start) if turn.start is not None else "",
        turn.text,
        item=e.text if e.speaker == "minutes" else "",
        run=e.meeting.run,
    )


def _actions_report(archive, owner: str, note: str) -> Report:
    everyone = owner.strip().lower() == "all"
    items = archive.actions(None if everyone else owner)
    rows = [
        {"id": a.id, "owner": a.owner, "task": a.task, "due": a.due or "not stated", "meeting": a.meeting.title,
         "date": a.meeting.when}
        for a in items
    ]  # fmt: skip
    if not rows and not everyone:
        owners = sorted({a.owner for a in archive.actions()})
        note = "; ".join(x for x in (note, f"open items' owners: {', '.join(owners) or 'none'}") if x)
    who = "everyone" if everyone else owner
    return Report(title=f"open action items of {who}", sections=[Section("action items", rows, note=note)])


def _meetings_report(archive) -> Report:
    open_items: dict[int, int] = {}
    for a in archive.actions():
        open_items[a.meeting.id] = open_items.get(a.meeting.id, 0) + 1
    rows = [
        {"meeting": m.title, "date": m.when, "source": m.source, "open items": open_items.get(m.id, 0), "run": m.run}
        for m in archive.meetings().values()
    ]
    note = "ask with question='...', or list open items with owner=<name>"
    return Report(title=f"meetings in the archive {archive.path}", sections=[Section("meetings", rows, note=note)])


@hookimpl
def register_tasks(register):
    register(AskTask)
