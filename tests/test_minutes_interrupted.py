"""Ctrl-C at every stage of task=minutes: the run says it was interrupted, nothing is
half-written, and what finished stays: the transcript, once it exists, is kept in the run
directory, and minutes made from it skip speech-to-text.

The interrupt is raised where the signal handler would raise it, at the chosen stage."""

import json

import pytest
from conftest import REPO

EXAMPLE = REPO / "examples" / "meeting"
AUDIO = EXAMPLE / "launch_meeting.mp3"
SCRIPT = EXAMPLE / "launch_meeting.txt"
FAST = ("llm.model=qwen2.5-coder-0.5b", "backend.threads=2")


def _ctrl_c(*args, **kwargs):
    raise KeyboardInterrupt


def _ctrl_c_in_pass(name: str):
    """``Writer._ask`` that is interrupted when it reaches the pass ``name``."""
    from taskdeck.plugins.tasks.minutes.passes import Writer

    ask = Writer._ask

    def interrupted(self, prefix, question, schema, which):
        if which == name:
            raise KeyboardInterrupt
        return ask(self, prefix, question, schema, which)

    return interrupted


def _stopped(run_in_process, run_dir, *overrides) -> dict:
    """Run the minutes, expect the interrupt, return the run's record; nothing half-written."""
    with pytest.raises(KeyboardInterrupt):
        run_in_process("task=minutes", *overrides)
    record = json.loads((run_dir / "result.json").read_text())
    assert record["status"] == "interrupted" and record["error"] == "interrupted by the user"
    assert not (run_dir / "minutes.json").exists() and not (run_dir / "minutes.md").exists()
    assert not [p.name for p in run_dir.iterdir() if ".tmp" in p.name]
    return record


@pytest.mark.parametrize(
    "stage",
    ["decoding", "speech-to-text", "diarization"],
)
def test_ctrl_c_before_the_transcript_exists(run_in_process, tmp_path, monkeypatch, stage):
    from taskdeck.plugins.backends.faster_whisper import FasterWhisperBackend

    if stage == "decoding":
        monkeypatch.setattr("taskdeck.helpers.audio.stream_audio", _ctrl_c)
    elif stage == "speech-to-text":
        monkeypatch.setattr(FasterWhisperBackend, "transcribe", _ctrl_c)
    else:
        monkeypatch.setattr("taskdeck.plugins.tasks.minutes.diarize_transcript", _ctrl_c)
    _stopped(run_in_process, tmp_path / "run0", f"audio={AUDIO}", *FAST)
    assert not (tmp_path / "run0" / "transcript.json").exists()  # there was none yet


@pytest.mark.parametrize("name", ["facts", "action items", "decisions", "summary"])
def test_ctrl_c_in_each_pass(run_in_process, tmp_path, monkeypatch, name):
    from taskdeck.plugins.tasks.minutes.passes import Writer

    if name == "summary":
        monkeypatch.setattr(Writer, "summary", _ctrl_c)
    else:
        monkeypatch.setattr(Writer, "_ask", _ctrl_c_in_pass(name))
    _stopped(run_in_process, tmp_path / "run0", f"transcript={SCRIPT}", *FAST)


def test_the_transcript_is_kept_and_minutes_from_it_skip_speech_to_text(run_in_process, tmp_path, monkeypatch, capsys):
    from taskdeck.plugins.tasks.minutes.passes import Writer

    with monkeypatch.context() as patched:
        patched.setattr(Writer, "_ask", _ctrl_c_in_pass("facts"))
        _stopped(run_in_process, tmp_path / "run0", f"audio={AUDIO}", *FAST)
    kept = tmp_path / "run0" / "transcript.json"
    assert f"the transcript is kept: task=minutes transcript={kept}" in capsys.readouterr().err
    transcript = json.loads(kept.read_text())
    assert transcript["segments"] and {s["speaker"] for s in transcript["segments"]} >= {"S1", "S2"}
    assert (tmp_path / "run0" / "transcript.txt").read_text().startswith("[00:")

    record, result, run_dir, _ = run_in_process("task=minutes", f"transcript={kept}", *FAST)
    assert record["status"] == "ok" and result.models == {"minutes": "qwen2.5-coder-0.5b"}  # no speech-to-text
    assert "asr_s" not in record["metrics"] and result.action_items
