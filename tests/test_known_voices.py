"""Known voices: the library (enrol, rename, merge, forget), recognition by the embedded
diarizer's voiceprints on the example meetings (rendered with shared voices: the launch
meeting's four voices speak again in the clinic meeting under other names, and the clinic's
Elena in a voice the launch meeting lacks), ``task=voices`` and ``task=minutes`` naming known
voices before the model reads, with a wrong name reported."""

import json
from collections import defaultdict

import pytest
from conftest import REPO, cli

from taskdeck import ConfigError, InputError
from taskdeck.helpers.voices import (
    VOICES_FILE,
    Profile,
    VoiceLibrary,
    Voiceprint,
    recognise,
    write_run_voices,
)
from taskdeck.plugins.tasks.minutes.evidence import Line
from taskdeck.plugins.tasks.minutes.speakers import check_known_voices, name_speakers

MEETING = REPO / "examples" / "meeting"
MODEL = "diarizer-campplus"
#: The synthetic voice each example speaker was rendered in (examples/meeting/render.py).
VOICE = {
    "Maria": 1, "Tom": 2, "Sarah": 3, "James": 4,  # launch
    "Priya": 1, "Daniel": 2, "Grace": 3, "Omar": 4, "Elena": 6,  # clinic
}  # fmt: skip


def unit(*xs):
    norm = sum(x * x for x in xs) ** 0.5
    return [x / norm for x in xs]


def test_the_library_enrols_renames_merges_and_forgets_and_keeps_no_audio(tmp_path):
    library = VoiceLibrary(tmp_path / "voices")
    assert library.profiles == {} and not (tmp_path / "voices").exists()  # nothing written unasked
    library.enrol("Maria Lopez", Voiceprint(unit(1, 0, 0), 30.0), model=MODEL, source="a.mp3")
    library.enrol("maria lopez", Voiceprint(unit(1, 0.2, 0), 10.0), model=MODEL, source="b.mp3")
    library.enrol("Tom", Voiceprint(unit(0, 1, 0), 12.0), model=MODEL, source="a.mp3")
    library.save()

    again = VoiceLibrary(tmp_path / "voices")
    assert sorted(again.profiles) == ["Maria Lopez", "Tom"]
    maria = again.get("MARIA LOPEZ")
    assert len(maria.enrolments) == 2 and maria.seconds == 40.0
    assert set(maria.enrolments[0]) == {"vector", "seconds", "source", "added"}  # numbers, never audio
    again.rename("Tom", "Tom Baker")
    again.enrol("Thomas", Voiceprint(unit(0, 1, 0.1), 5.0), model=MODEL, source="c.mp3")
    again.merge("Thomas", "Tom Baker")
    assert sorted(again.profiles) == ["Maria Lopez", "Tom Baker"] and len(again.get("Tom Baker").enrolments) == 2
    again.forget("Maria Lopez")
    again.save()
    assert sorted(VoiceLibrary(tmp_path / "voices").profiles) == ["Tom Baker"]

    with pytest.raises(InputError, match=r"^no known voice named 'Nobody' in .* \(known: Tom Baker\)$"):
        again.get("Nobody")
    again.enrol("Ann", Voiceprint(unit(0, 0, 1), 5.0), model=MODEL, source="d.mp3")
    with pytest.raises(InputError, match=r"^'Ann' is already a known voice: merge name=Tom Baker to=Ann$"):
        again.rename("Tom Baker", "Ann")
    with pytest.raises(InputError, match="was enrolled with diarizer-campplus, not voice-ge2e"):
        again.enrol("Ann", Voiceprint(unit(0, 0, 1), 5.0), model="voice-ge2e", source="e.mp3")
    (tmp_path / "voices" / "voices.json").write_text("{not json")
    with pytest.raises(ConfigError, match=r"^voices=.*: voices.json is not a voice library \("):
        VoiceLibrary(tmp_path / "voices")


def test_recognition_names_a_close_voice_once_and_no_voice_it_cannot_tell():
    profiles = [
        Profile("Maria", MODEL, [{"vector": unit(1, 0, 0, 0), "seconds": 20}]),
        Profile("Tom", MODEL, [{"vector": unit(0, 1, 0, 0), "seconds": 20}]),
        Profile("Twin", MODEL, [{"vector": unit(0, 0, 1, 0.05), "seconds": 20}]),
        Profile("Twin's sister", MODEL, [{"vector": unit(0, 0, 1, -0.05), "seconds": 20}]),
        Profile("Other model", "voice-ge2e", [{"vector": unit(0, 0, 0, 1), "seconds": 20}]),
    ]
    prints = {
        "S1": Voiceprint(unit(0.9, 0.1, 0, 0), 12.0),  # Maria
        "S2": Voiceprint(unit(0.85, 0.15, 0, 0), 8.0),  # close to Maria too: she is S1's
        "S3": Voiceprint(unit(0, 0, 1, 0), 9.0),  # the twins: too close to tell apart
        "S4": Voiceprint(unit(0, 0, 0, 1), 9.0),  # only like a profile of another model
        "S5": Voiceprint(unit(0, 1, 0, 0), 1.0),  # Tom, heard too briefly
        "S6": Voiceprint(unit(0.3, 0.3, 0.3, 0.8), 20.0),  # nobody known
    }
    found = recognise(prints, profiles, model=MODEL)
    assert {label: m.name for label, m in found.items()} == {"S1": "Maria"}
    assert 0.9 < found["S1"].similarity <= 1.0


@pytest.fixture(scope="module")
def diarizer():
    from taskdeck import DIARIZE, BackendParams
    from taskdeck.engine.plugin_manager import get_session
    from taskdeck.engine.session_context import SessionContext

    ctx = SessionContext(get_session(), BackendParams(), quiet=True)
    backend, _ = ctx.model(MODEL, needs=[DIARIZE])
    return backend


@pytest.fixture(scope="module")
def example_voices(diarizer):
    """Each example meeting's found speakers: voiceprint, and the rendered voice they are."""
    from taskdeck.evaluation.diarization import read_rttm
    from taskdeck.helpers.audio import load_audio

    backend = diarizer
    out = {}
    for meeting in ("launch_meeting", "clinic_meeting"):
        waveform = load_audio(str(MEETING / f"{meeting}.mp3"))
        turns = backend.diarize(waveform)
        prints = backend.voiceprints(waveform, turns)
        overlap: dict = defaultdict(lambda: defaultdict(float))
        for t in turns:
            for start, end, who in read_rttm(MEETING / f"{meeting}.rttm"):
                overlap[t.speaker][who] += max(0.0, min(t.end, end) - max(t.start, start))
        people = {label: max(who, key=lambda w: who[w]) for label, who in overlap.items()}
        out[meeting] = (prints, people)
    return out


def test_voiceprints_after_diarizing_are_those_of_a_fresh_pass(diarizer):
    """Right after diarize, voiceprints come from the features it computed (kept for the
    recording it diarized, not held in memory); for other samples they are computed afresh."""
    import numpy as np

    from taskdeck.helpers.audio import Waveform, load_audio

    waveform = load_audio(str(MEETING / "clinic_meeting.mp3"))
    turns = diarizer.diarize(waveform)
    kept = diarizer.voiceprints(waveform, turns)
    fresh = diarizer.voiceprints(Waveform(waveform.samples.copy()), turns)
    assert set(kept) == set(fresh) == {t.speaker for t in turns}
    for label, vp in kept.items():
        assert np.allclose(vp.vector, fresh[label].vector, atol=1e-5) and vp.seconds == fresh[label].seconds
        assert abs(np.linalg.norm(vp.vector) - 1) < 1e-6 and len(vp.vector) == 192


def test_voices_enrolled_from_one_meeting_are_known_in_another(example_voices):
    launch, people = example_voices["launch_meeting"]
    library = [Profile(f"voice {VOICE[people[label]]}", MODEL, [{**vp._asdict()}]) for label, vp in launch.items()]
    assert len(library) == 4 and all(vp.seconds > 20 for vp in launch.values())
    clinic, clinic_people = example_voices["clinic_meeting"]
    found = recognise(clinic, library, model=MODEL)
    heard = {clinic_people[label]: m.name for label, m in found.items()}
    # all four voices the launch meeting had, each under its own name; Elena's voice is new
    assert heard == {"Priya": "voice 1", "Daniel": "voice 2", "Grace": "voice 3", "Omar": "voice 4"}


def test_known_voices_keep_their_names_and_a_contradiction_is_reported():
    said = [
        Line(1, "Tom Baker", "Before we start, the vaccines arrived."),
        Line(2, "Priya Shah", "Grace, could you plan the nurse schedule?"),
        Line(3, "Tom Baker", "Sure, I'll send it on Monday."),
        Line(4, "S5", "I'm Elena, from reception. Tom Baker asked me to come."),
    ]
    proposed = [{"label": "S5", "name": "Tom Baker"}, {"label": "Tom Baker", "name": "Grace Liu"}]
    names, notes = name_speakers(proposed, said, ["Priya Shah", "Grace Liu", "Elena Petrova", "Tom Baker"])
    assert names == {"S5": "Elena Petrova"}  # the known voice is not renamed, and S5 is not given its name
    assert notes == ["speaker S5: not 'Tom Baker' (a known voice by that name speaks in the meeting)"]
    reported = check_known_voices(said, {"Tom Baker": "S2", "Priya Shah": "S1"}, ["Grace Liu", "Elena Petrova"])
    assert reported == {"S2": ["known voice Tom Baker (S2) is 'Grace' by what was said: check who spoke"]}
    # an introduction contradicts a known voice even when the minutes list nobody of that name
    intro = [Line(1, "Maria Lopez", "Good afternoon. I'm Priya Shah, the medical director.")]
    assert check_known_voices(intro, {"Maria Lopez": "S1"}, []) == {
        "S1": ["known voice Maria Lopez (S1) is 'Priya' by what was said: check who spoke"]
    }


@pytest.fixture(scope="module")
def launch_run(example_voices, tmp_path_factory):
    """A run directory as task=minutes leaves it for the launch meeting: its minutes.voices.json."""
    prints, _ = example_voices["launch_meeting"]
    run = tmp_path_factory.mktemp("launch-run")
    write_run_voices(run, prints, {"S1": "Maria Lopez"}, model=MODEL, source="launch_meeting.mp3")
    return run


def test_task_voices_enrols_from_a_run_and_lists_renames_merges_forgets(launch_run, tmp_path):
    voices = tmp_path / "voices"

    def voices_cli(*args):
        return cli("task=voices", f"voices={voices}", *args, tmp_path=tmp_path)

    saved = json.loads((launch_run / VOICES_FILE).read_text())
    assert saved["model"] == MODEL and set(saved["voices"]) == {"S1", "S2", "S3", "S4"}
    assert saved["voices"]["S1"]["name"] == "Maria Lopez" and saved["voices"]["S2"]["name"] is None

    proc = voices_cli("action=enrol", f"run={launch_run}")
    assert proc.returncode == 0, proc.stderr
    assert "enrolled Maria Lopez (S1)" in proc.stdout
    assert sorted(VoiceLibrary(voices).profiles) == ["Maria Lopez"]  # only the voices the minutes named
    proc = voices_cli("action=enrol", f"run={launch_run}", "label=S2", "name='Tom Baker'")
    assert proc.returncode == 0 and "enrolled Tom Baker (S2)" in proc.stdout
    assert voices_cli("action=enrol", f"run={launch_run}", "label=S3", "name=Tom").returncode == 0
    proc = voices_cli("action=merge", "name=Tom", "to='Tom Baker'")
    assert proc.returncode == 0 and "merged Tom into Tom Baker" in proc.stdout
    assert voices_cli("action=rename", "name='Maria Lopez'", "to=Maria").returncode == 0
    proc = voices_cli()
    assert proc.returncode == 0 and "Maria" in proc.stdout and "Tom Baker" in proc.stdout
    library = VoiceLibrary(voices)
    assert sorted(library.profiles) == ["Maria", "Tom Baker"] and len(library.get("Tom Baker").enrolments) == 2
    assert voices_cli("action=forget", "name=Maria").returncode == 0
    assert sorted(VoiceLibrary(voices).profiles) == ["Tom Baker"]

    wrong = {
        ("action=enrol",): "action=enrol needs run=<a task=minutes run directory>",
        ("action=enrol", f"run={tmp_path}"): f"run={tmp_path} has no minutes.voices.json",
        ("action=enrol", f"run={launch_run}", "label=S9", "name=X"): "label=S9: the run's voices are S1, S2, S3, S4",
        ("action=enrol", f"run={launch_run}", "label=S2"): "label=S2 needs name=<who it is>",
        ("action=forget", "name=Nobody"): "no known voice named 'Nobody'",
        ("action=merge", "name='Tom Baker'"): "action=merge needs to=<the known voice to merge into>",
        ("action=delete",): "action=delete is not allowed",
    }
    for args, message in wrong.items():
        proc = voices_cli(*args)
        assert proc.returncode == 2 and message in proc.stderr, (args, proc.stderr)
        assert "Traceback" not in proc.stderr and len(proc.stderr.strip().splitlines()) == 1


def test_minutes_name_known_voices_before_the_model_reads(example_voices, tmp_path):
    """The clinic meeting with four voices known from the launch meeting, one of them enrolled
    under a wrong name (Grace's voice as 'Tom Baker'): the others' lines carry their names
    and their action items their owners, Elena's new voice gets no known name, and the wrong
    name is reported as what was said contradicts it."""
    prints, people = example_voices["launch_meeting"]
    names = {1: "Priya Shah", 2: "Daniel Brooks", 3: "Tom Baker", 4: "Omar Haddad"}
    library = VoiceLibrary(tmp_path / "voices")
    for label, vp in prints.items():
        library.enrol(names[VOICE[people[label]]], vp, model=MODEL, source="launch_meeting.mp3")
    library.save()

    proc = cli("task=minutes", f"audio={MEETING / 'clinic_meeting.mp3'}", f"voices={tmp_path / 'voices'}",
               tmp_path=tmp_path)  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-2000:]
    minutes = json.loads((tmp_path / "run" / "minutes.json").read_text())
    _, clinic_people = example_voices["clinic_meeting"]
    expected = {"Priya": "Priya Shah", "Daniel": "Daniel Brooks", "Grace": "Tom Baker", "Omar": "Omar Haddad"}
    named = {clinic_people[label]: name for label, name in minutes["speakers"].items() if label in clinic_people}
    assert {who: name for who, name in named.items() if who != "Elena"} == expected
    assert named.get("Elena") not in expected.values()  # a new voice: left as S5, or named by what was said
    segments = json.loads((tmp_path / "run" / "transcript.json").read_text())["segments"]
    assert {s["speaker"] for s in segments} >= set(expected.values())
    known_note = next(c for c in minutes["checks"] if c.startswith("known voices"))
    assert all(name in known_note for name in expected.values()) and "Elena" not in known_note
    assert any(c.startswith("known voice Tom Baker") and "'Grace'" in c for c in minutes["checks"])
    owners = {a["owner"] for a in minutes["action_items"]}
    assert {"Priya Shah", "Daniel Brooks"} <= owners
    saved = json.loads((tmp_path / "run" / VOICES_FILE).read_text())
    assert {v["name"] for v in saved["voices"].values()} >= set(expected.values())
    assert [v["name"] for v in saved["voices"].values() if v.get("doubted")] == ["Tom Baker"]

    # enrolling from this run adds to the voices it confirmed, not to the one it contradicted
    proc = cli("task=voices", "action=enrol", f"run={tmp_path / 'run'}", f"voices={tmp_path / 'voices'}",
               tmp_path=tmp_path / "enrol")  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert "the transcript contradicts the name" in proc.stdout
    after = VoiceLibrary(tmp_path / "voices")
    assert len(after.get("Tom Baker").enrolments) == 1
    assert all(len(after.get(name).enrolments) == 2 for name in ("Priya Shah", "Daniel Brooks", "Omar Haddad"))
