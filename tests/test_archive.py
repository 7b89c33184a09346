"""The minutes archive (helpers/archive.py, minutes/archiving.py) and the torch-free encoder that
searches it (backend=numpy), offline on the embedded MiniLM pack."""

from __future__ import annotations

import sqlite3

import pytest
from conftest import REPO

from taskdeck import ConfigError, InputError
from taskdeck.helpers.archive import Archive, Turn, archive_path, same_owner
from taskdeck.helpers.transcripts import read_transcript
from taskdeck.plugins.tasks.minutes.archiving import transcript_turns, turn_of

CLINIC = REPO / "examples" / "meeting" / "clinic_meeting.txt"


def clinic_turns() -> list[Turn]:
    return transcript_turns(read_transcript(str(CLINIC)), {}, timed=False)


def add_clinic(archive: Archive, run: str = "runs/clinic") -> int:
    turns = clinic_turns()
    return archive.add(
        run=run,
        source=str(CLINIC),
        title="Weekly operations",
        date="Wednesday, 17 September",
        language="en",
        duration=0.0,
        turns=turns,
        decisions=[("No deposits at launch", turn_of("Priya Shah: Then no deposits at launch.", turns))],
        actions=[
            ("Omar Haddad", "Have the reminders working", "next Friday", None),
            ("Daniel Brooks", "Get three quotes for new chairs", "within two weeks", None),
        ],
    )


def test_turns_are_a_speakers_cleaned_words_and_items_find_the_turn_they_quote():
    turns = clinic_turns()
    assert [t.number for t in turns] == list(range(1, len(turns) + 1)) and turns[0].speaker == "Priya"
    assert all(t.start is None for t in turns)
    deposits = turn_of("Priya: Then no deposits at launch. / Daniel: ok", turns)
    assert deposits is not None and "no deposits at launch" in turns[deposits - 1].text
    assert turn_of("Tom: the firmware is signed off", turns) is None  # no turn says it


def test_an_archive_keeps_meetings_passages_and_open_items(tmp_path):
    path = tmp_path / "a" / "archive.sqlite"
    with Archive(path, create=True) as archive:
        first = add_clinic(archive)
        again = add_clinic(archive)  # the same run indexed again replaces it
        assert list(archive.meetings()) == [again] and again != first
        passages = archive.passages()
        kinds = [p.kind for p in passages.values()]
        assert kinds.count("decision") == 1 and kinds.count("action") == 2 and kinds.count("transcript") > 5
        windows = [p for p in passages.values() if p.kind == "transcript"]
        assert windows[0].first == 1 and windows[-1].last == len(clinic_turns())
        assert all(b.first <= a.last + 1 for a, b in zip(windows, windows[1:]))  # no turn left out
        decision = next(p for p in passages.values() if p.kind == "decision")
        assert (
            decision.first is not None and "no deposits" in archive.turns(again, decision.first, decision.first)[0].text
        )
        best = archive.by_words("How many flu vaccine doses arrived?", 3)
        assert "four hundred doses" in passages[best[0]].text
        assert archive.by_words("what did the and for", 3) == []  # only stop words
        assert [a.owner for a in archive.actions("omar")] == ["Omar Haddad"]
        assert len(archive.actions()) == 2 and archive.actions("Maria") == []
        done = archive.set_done(archive.actions("Daniel Brooks")[0].id)
        assert done.done and [a.owner for a in archive.actions()] == ["Omar Haddad"]
        assert len(archive.actions(open_only=False)) == 2
        with pytest.raises(InputError, match=r"done=999: no action item has that id; ids: \d+, \d+"):
            archive.set_done(999)


def test_vectors_are_kept_per_model(tmp_path):
    import numpy as np

    with Archive(tmp_path / "archive.sqlite", create=True) as archive:
        add_clinic(archive)
        missing = archive.unembedded("m")
        archive.store_vectors("m", {pid: np.full(3, pid, dtype=np.float32) for pid in missing})
        ids, matrix = archive.vectors("m")
        assert ids == sorted(missing) and matrix.shape == (len(ids), 3) and matrix[0, 0] == ids[0]
        assert archive.unembedded("m") == {} and len(archive.unembedded("other")) == len(ids)


def test_a_missing_or_foreign_archive_is_one_line(tmp_path, monkeypatch):
    with pytest.raises(InputError, match="no archive at .*task=minutes adds every meeting"):
        Archive(tmp_path / "none.sqlite")
    junk = tmp_path / "junk.sqlite"
    junk.write_bytes(b"not a database at all" * 100)
    with pytest.raises(ConfigError, match="is not a taskdeck archive"):
        Archive(junk)
    other = tmp_path / "other.sqlite"
    sqlite3.connect(other).executescript(
        "CREATE TABLE info (key TEXT PRIMARY KEY, value TEXT); INSERT INTO info VALUES ('format', '9');"
    )
    with pytest.raises(ConfigError, match="archive of format 9"):
        Archive(other)
    monkeypatch.delenv("TASKDECK_ARCHIVE")
    assert str(archive_path()) == "outputs/archive.sqlite" and archive_path("x.db").name == "x.db"


def test_an_owner_is_found_by_a_name_of_theirs():
    assert same_owner("maria", "Maria Lopez") and same_owner("Maria Lopez", "maria lopez")
    assert not same_owner("Maria Lopez", "Maria Garcia") and not same_owner("Mar", "Maria Lopez")


def test_the_numpy_encoder_reads_safetensors_and_is_chosen_for_minilm(session):
    """backend=auto embeds with backend=numpy (no torch); its tensors are the safetensors
    package's, its vectors transformers' (test_synthetic holds them to sentence-transformers')."""
    import numpy as np
    from safetensors.numpy import load_file

    from taskdeck import EMBED, BackendParams
    from taskdeck.engine.session_context import SessionContext
    from taskdeck.helpers.safetensors_file import read_safetensors

    folder = session.packs.get("all-minilm-l6-v2").path()
    ours, theirs = read_safetensors(folder / "model.safetensors"), load_file(str(folder / "model.safetensors"))
    assert ours.keys() == theirs.keys() and all(np.array_equal(ours[k], theirs[k]) for k in ours)
    texts = ["We decided to launch on the fifteenth of April.", "Omar will have the reminders working."]
    ctx = SessionContext(session, BackendParams(threads=1))
    try:
        auto, _ = ctx.model("all-minilm-l6-v2", needs=[EMBED])
        torch_backed, _ = ctx.model("all-minilm-l6-v2", needs=[EMBED], backend="transformers")
        assert auto.name == "numpy" and torch_backed.name == "transformers"
        assert np.abs(np.array(auto.embed(texts)) - np.array(torch_backed.embed(texts))).max() < 1e-5
    finally:
        ctx.close()
