"""The minutes archive: every ``task=minutes`` run kept in one SQLite file, for ``task=ask``.

A meeting is stored with its turns (speaker, words, start time when the minutes came from audio),
its decisions and action items. What ``task=ask`` searches are *passages*: windows of turns
(about :data:`WINDOW_WORDS` words, each overlapping the next by half) and the minutes' decisions
and action items, each tied to the turn its evidence quotes (the summary is left out: it is the
model's words, tied to no turn). Passages are found by words (SQLite's FTS5, BM25) and by
meaning (sentence vectors, stored per embedding model the first time ``task=ask`` reads them),
so writing minutes loads no extra model. Action items keep an ``open``/``done`` state.

The file is ``archive=`` when given, else ``$TASKDECK_ARCHIVE``, else ``outputs/archive.sqlite``
beside the runs Hydra writes under ``outputs/``. SQLite's write-ahead log lets parallel runs of a
sweep add their meetings at once.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional

from taskdeck.errors import ConfigError, InputError

ARCHIVE_FILE = "archive.sqlite"
FORMAT = 1
#: Words a transcript passage gathers before it closes (a turn is never cut).
WINDOW_WORDS = 60

_SCHEMA = """
CREATE TABLE IF NOT EXISTS info (key TEXT PRIMARY KEY, value TEXT);
CREATE TABLE IF NOT EXISTS meetings (
    id INTEGER PRIMARY KEY AUTOINCREMENT, run TEXT UNIQUE, source TEXT, title TEXT, date TEXT, indexed TEXT,
    language TEXT, duration REAL);
CREATE TABLE IF NOT EXISTS turns (
    meeting INTEGER REFERENCES meetings(id) ON DELETE CASCADE, number INTEGER, speaker TEXT,
    text TEXT, start REAL, PRIMARY KEY (meeting, number));
CREATE TABLE IF NOT EXISTS passages (
    id INTEGER PRIMARY KEY AUTOINCREMENT, meeting INTEGER REFERENCES meetings(id) ON DELETE CASCADE,
    kind TEXT, first INTEGER, last INTEGER, text TEXT);
CREATE TABLE IF NOT EXISTS vectors (
    passage INTEGER REFERENCES passages(id) ON DELETE CASCADE, model TEXT, vector BLOB,
    PRIMARY KEY (passage, model));
CREATE TABLE IF NOT EXISTS actions (
    id INTEGER PRIMARY KEY AUTOINCREMENT, meeting INTEGER REFERENCES meetings(id) ON DELETE CASCADE,
    owner TEXT, task TEXT, due TEXT, turn INTEGER, done INTEGER DEFAULT 0);
CREATE VIRTUAL TABLE IF NOT EXISTS passage_words USING fts5(text, content='passages', content_rowid='id');
CREATE TRIGGER IF NOT EXISTS passages_ai AFTER INSERT ON passages BEGIN
    INSERT INTO passage_words(rowid, text) VALUES (new.id, new.text); END;
CREATE TRIGGER IF NOT EXISTS passages_ad AFTER DELETE ON passages BEGIN
    INSERT INTO passage_words(passage_words, rowid, text) VALUES ('delete', old.id, old.text); END;
"""


@dataclass
class Turn:
    """One speaker's turn: its number in the meeting, the words, and when it began (seconds
    into the recording; None for a transcript without times)."""

    number: int
    speaker: str
    text: str
    start: Optional[float] = None


@dataclass
class Meeting:
    id: int
    run: str
    source: str
    title: str
    date: str  # as the minutes state it ("" when they do not)
    indexed: str  # the day the minutes were made (ISO)
    duration: float

    @property
    def when(self) -> str:
        """The date to show: the meeting's own, else the day its minutes were made."""
        return self.date or f"{self.indexed} (minutes made)"


@dataclass
class Passage:
    id: int
    meeting: int
    kind: str  # "transcript" | "decision" | "action"
    first: Optional[int]  # the turns it spans (a minutes item: the turn it quotes; None: none)
    last: Optional[int]
    text: str


@dataclass
class ActionRow:
    id: int
    meeting: Meeting
    owner: str
    task: str
    due: str
    turn: Optional[int]
    done: bool


def archive_path(given: Optional[str] = None) -> Path:
    """``given``, else ``$TASKDECK_ARCHIVE``, else ``outputs/archive.sqlite``."""
    if given:
        return Path(given).expanduser()
    env = os.environ.get("TASKDECK_ARCHIVE", "").strip()
    return Path(env).expanduser() if env else Path("outputs") / ARCHIVE_FILE


class Archive:
    """The archive in ``path``; ``create``: make it when missing (the minutes do, ``ask`` does not)."""

    def __init__(self, path: Path, create: bool = False):
        self.path = Path(path)
        if not create and not self.path.is_file():
            raise InputError(
                f"no archive at {self.path}: task=minutes adds every meeting it writes to it (or give archive=<file>)"
            )
        if create:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self.db = sqlite3.connect(self.path, timeout=30)
            self.db.execute("PRAGMA foreign_keys = ON")
            self.db.execute("PRAGMA journal_mode = WAL")
            self.db.executescript(_SCHEMA)
            found = self.db.execute("SELECT value FROM info WHERE key = 'format'").fetchone()
            if found is None:
                self.db.execute("INSERT INTO info VALUES ('format', ?)", (str(FORMAT),))
                self.db.commit()
            elif found[0] != str(FORMAT):
                raise ConfigError(
                    f"{self.path} is a taskdeck archive of format {found[0]}; this taskdeck reads {FORMAT}"
                )
        except sqlite3.DatabaseError as exc:
            raise ConfigError(f"{self.path} is not a taskdeck archive ({exc}): give another archive=<file>") from None

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> Archive:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    # ---- writing ----
    def add(
        self,
        *,
        run: str,
        source: str,
        title: str,
        date: str,
        language: str,
        duration: float,
        turns: Sequence[Turn],
        decisions: Iterable[tuple[str, Optional[int]]],
        actions: Iterable[tuple[str, str, str, Optional[int]]],
    ) -> int:
        """Store one meeting (a run indexed again replaces its earlier entry); its id.
        ``decisions``: (text, turn); ``actions``: (owner, task, due, turn)."""
        with self.db:
            self.db.execute("DELETE FROM meetings WHERE run = ?", (run,))
            cur = self.db.execute(
                "INSERT INTO meetings (run, source, title, date, indexed, language, duration) VALUES (?,?,?,?,?,?,?)",
                (run, source, title, date, dt.date.today().isoformat(), language, duration),
            )
            meeting = int(cur.lastrowid or 0)
            self.db.executemany(
                "INSERT INTO turns VALUES (?,?,?,?,?)", [(meeting, t.number, t.speaker, t.text, t.start) for t in turns]
            )
            rows: list[tuple[Any, ...]] = [
                (meeting, "transcript", first, last, text) for first, last, text in _windows(turns)
            ]
            rows += [(meeting, "decision", turn, turn, f"Decided: {text}") for text, turn in decisions]
            actions = list(actions)
            rows += [
                (meeting, "action", turn, turn, f"Action item: {owner}: {task}" + (f" (due {due})" if due else ""))
                for owner, task, due, turn in actions
            ]
            self.db.executemany("INSERT INTO passages (meeting, kind, first, last, text) VALUES (?,?,?,?,?)", rows)
            self.db.executemany(
                "INSERT INTO actions (meeting, owner, task, due, turn) VALUES (?,?,?,?,?)",
                [(meeting, owner, task, due, turn) for owner, task, due, turn in actions],
            )
        return meeting

    def store_vectors(self, model: str, vectors: dict[int, Any]) -> None:
        """Passage id → its vector (float32) under ``model``."""
        import numpy as np

        with self.db:
            self.db.executemany(
                "INSERT OR REPLACE INTO vectors VALUES (?,?,?)",
                [(pid, model, np.asarray(v, dtype=np.float32).tobytes()) for pid, v in vectors.items()],
            )

    def set_done(self, item: int, done: bool = True) -> ActionRow:
        with self.db:
            cur = self.db.execute("UPDATE actions SET done = ? WHERE id = ?", (int(done), item))
        if cur.rowcount == 0:
            ids = [str(r[0]) for r in self.db.execute("SELECT id FROM actions ORDER BY id")]
            raise InputError(f"done={item}: no action item has that id; ids: {', '.join(ids) or 'none'}")
        return next(a for a in self.actions(open_only=False) if a.id == item)

    # ---- reading ----
    def meetings(self) -> dict[int, Meeting]:
        rows = self.db.execute("SELECT id, run, source, title, date, indexed, duration FROM meetings ORDER BY id")
        return {r[0]: Meeting(*r) for r in rows}

    def passages(self, ids: Optional[Sequence[int]] = None) -> dict[int, Passage]:
        sql = "SELECT id, meeting, kind, first, last, text FROM passages"
        if ids is None:
            return {r[0]: Passage(*r) for r in self.db.execute(sql)}
        marks = ",".join("?" * len(ids))
        return {r[0]: Passage(*r) for r in self.db.execute(f"{sql} WHERE id IN ({marks})", list(ids))}

    def unembedded(self, model: str) -> dict[int, str]:
        """Passages without a vector of ``model``: id → text."""
        rows = self.db.execute(
            "SELECT id, text FROM passages WHERE id NOT IN (SELECT passage FROM vectors WHERE model = ?)", (model,)
        )
        return dict(rows.fetchall())

    def vectors(self, model: str) -> tuple[list[int], Any]:
        """Passage ids and their vectors (one row each) under ``model``."""
        import numpy as np

        rows = self.db.execute("SELECT passage, vector FROM vectors WHERE model = ? ORDER BY passage", (model,))
        found = rows.fetchall()
        if not found:
            return [], np.zeros((0, 0), dtype=np.float32)
        return [r[0] for r in found], np.stack([np.frombuffer(r[1], dtype=np.float32) for r in found])

    def by_words(self, question: str, limit: int) -> list[int]:
        """Passage ids whose words best match the question's (BM25), best first."""
        words = [w for w in re.findall(r"[\w']+", question.lower()) if len(w) > 2 and w not in STOP_WORDS]
        if not words:
            return []
        query = " OR ".join('"' + w.replace('"', "") + '"' for w in words)
        rows = self.db.execute(
            "SELECT rowid FROM passage_words WHERE passage_words MATCH ? ORDER BY bm25(passage_words) LIMIT ?",
            (query, limit),
        )
        return [r[0] for r in rows]

    def turns(self, meeting: int, first: int, last: int) -> list[Turn]:
        rows = self.db.execute(
            "SELECT number, speaker, text, start FROM turns WHERE meeting = ? AND number BETWEEN ? AND ? "
            "ORDER BY number",
            (meeting, first, last),
        )
        return [Turn(*r) for r in rows]

    def actions(self, owner: Optional[str] = None, open_only: bool = True) -> list[ActionRow]:
        """Action items, oldest meeting first; ``owner``: only those whose owner is that person
        (a first name finds the full name, case aside)."""
        meetings = self.meetings()
        sql = "SELECT id, meeting, owner, task, due, turn, done FROM actions"
        sql += " WHERE done = 0" if open_only else ""
        out = [
            ActionRow(r[0], meetings[r[1]], r[2], r[3], r[4], r[5], bool(r[6]))
            for r in self.db.execute(sql + " ORDER BY meeting, id")
        ]
        return [a for a in out if owner is None or same_owner(owner, a.owner)]


def same_owner(asked: str, owner: str) -> bool:
    """``asked`` names ``owner``: the same words, or a word of the owner's name (``Maria`` for
    ``Maria Lopez``), case aside."""
    a, o = asked.strip().lower().split(), owner.strip().lower().split()
    return bool(a) and (a == o or (len(a) == 1 and a[0] in o))


def _windows(turns: Sequence[Turn]) -> list[tuple[int, int, str]]:
    """Transcript passages: consecutive turns up to :data:`WINDOW_WORDS` words (a longer turn
    alone), each starting halfway through the one before."""
    out: list[tuple[int, int, str]] = []
    start = 0
    while start < len(turns):
        end, words = start, 0
        while end < len(turns) and (end == start or words + len(turns[end].text.split()) <= WINDOW_WORDS):
            words += len(turns[end].text.split())
            end += 1
        chosen = turns[start:end]
        out.append((chosen[0].number, chosen[-1].number, " ".join(f"{t.speaker}: {t.text}" for t in chosen)))
        if end >= len(turns):
            break
        start = max(start + 1, (start + end) // 2)
    return out


STOP_WORDS = frozenset(
    "the and for with that this what who whom when where which why how did does was were are is "
    "has have had about from into our their they them she his her its you your yes not can could "
    "would should will shall been being any all there then than also just very".split()
)
