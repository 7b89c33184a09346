"""Speaker diarization on the embedded GE2E pack, end to end on recordings the tests make:
three voices taking turns (speaker count and turn boundaries), one voice, overlapping speech,
silence and music; the encoder against Resemblyzer's own; task=asr diarize=true outputs;
the DER scorer."""

from __future__ import annotations

import json

import numpy as np
import pytest
import soundfile as sf
from conftest import cli

from taskdeck.evaluation.diarization import diarization_error_rate, read_rttm, write_rttm

RATE = 16000
#: Piper's voice resampled: pitch and formants x0.8, x1.0 and x1.3 (three distinct speakers).
SHIFTS = {"A": 0.8, "B": 1.0, "C": 1.3}
TURNS = [
    ("A", "Good morning. Let us look at the numbers for the second quarter before lunch."),
    ("B", "Sales grew by eight percent, mostly in the northern region and online."),
    ("C", "That is better than we planned. The new shop in the harbour helped a lot."),
    ("A", "Then we keep the same budget for marketing until the end of the year."),
    ("B", "I will send the detailed report to the whole team tomorrow morning."),
    ("C", "And I will book the meeting room for next Tuesday afternoon."),
]
PAUSE_S = 0.7


@pytest.fixture(scope="module")
def voices(session):
    """speak(text, shift) -> 16 kHz samples from the embedded Piper voice, shifted."""
    import soxr

    from taskdeck import SPEAK, BackendParams
    from taskdeck.context import RunContext

    ctx = RunContext(session, BackendParams(threads=2), quiet=True)
    # No sampling noise: the same recording on every run.
    quiet_voice = {"name": "piper", "noise_scale": 0.0, "noise_w_scale": 0.0}
    piper, _ = ctx.model("piper-joe", needs=[SPEAK], backend=quiet_voice)

    def speak(text: str, shift: float) -> np.ndarray:
        audio = piper.speak(text, length_scale=shift)
        samples = soxr.resample(np.asarray(audio.samples, dtype="float32"), audio.sample_rate * shift, RATE)
        return (samples / max(1e-6, float(np.abs(samples).max())) * 0.8).astype("float32")

    yield speak
    ctx.close()


@pytest.fixture(scope="module")
def meeting(voices, tmp_path_factory):
    """Three voices taking turns: (wav path, reference turns)."""
    pause = np.zeros(int(PAUSE_S * RATE), dtype="float32")
    pieces, turns, t = [pause], [], PAUSE_S
    for who, text in TURNS:
        samples = voices(text, SHIFTS[who])
        turns.append((round(t, 3), round(t + len(samples) / RATE, 3), who))
        pieces += [samples, pause]
        t += len(samples) / RATE + PAUSE_S
    path = tmp_path_factory.mktemp("diarize") / "three_voices.wav"
    sf.write(path, np.concatenate(pieces), RATE)
    path.with_suffix(".rttm").write_text(write_rttm(turns, "three_voices"))
    return path, turns


@pytest.fixture(scope="module")
def diarizer(session):
    from taskdeck import DIARIZE, BackendParams
    from taskdeck.context import RunContext

    ctx = RunContext(session, BackendParams(threads=2), quiet=True)
    backend, capability = ctx.model("voice-ge2e", needs=[DIARIZE])
    assert (backend.name, capability) == ("resemblyzer", DIARIZE)
    yield backend
    ctx.close()


def test_three_voices_are_three_speakers_with_their_turns(diarizer, meeting):
    path, reference = meeting
    turns = diarizer.diarize(str(path))
    assert len({t.speaker for t in turns}) == 3
    assert [t.speaker for t in turns][:3] == ["S1", "S2", "S3"]  # labelled in order of appearance
    score = diarization_error_rate(reference, turns)
    assert score["der"] <= 0.15, score
    assert score["confusion"] <= 0.02, score
    mapping = score["mapping"]
    assert [mapping[t.speaker] for t in turns] == [who for *_, who in reference]  # one turn per turn
    for (start, end, _), turn in zip(reference, turns):  # boundaries within half a second
        assert abs(turn.start - start) <= 0.5 and abs(turn.end - end) <= 0.5, (turn, start, end)


def test_a_known_number_of_speakers_is_kept(diarizer, meeting):
    path, reference = meeting
    assert len({t.speaker for t in diarizer.diarize(str(path), speakers=2)}) == 2
    turns = diarizer.diarize(str(path), speakers=3)
    assert diarization_error_rate(reference, turns)["der"] <= 0.15


def test_one_voice_is_one_speaker(diarizer, voices, tmp_path):
    pause = np.zeros(int(0.6 * RATE), dtype="float32")
    samples = np.concatenate([x for _, text in TURNS[:4] for x in (voices(text, 1.0), pause)])
    path = tmp_path / "one.wav"
    sf.write(path, samples, RATE)
    turns = diarizer.diarize(str(path))
    assert {t.speaker for t in turns} == {"S1"}
    assert sum(t.end - t.start for t in turns) > 0.7 * len(samples) / RATE


def test_overlapping_speech_keeps_both_voices_apart_from_the_overlap(diarizer, voices, tmp_path):
    """A second voice starts before the first ends: each voice's own stretch is its speaker,
    the overlap goes to one of them, and nothing fails."""
    a = voices(TURNS[0][1] + " " + TURNS[3][1], 0.8)
    b = voices(TURNS[2][1] + " " + TURNS[4][1], 1.3)
    start_b = len(a) - 2 * RATE  # two seconds of overlap
    mix = np.zeros(start_b + len(b), dtype="float32")
    mix[: len(a)] += a
    mix[start_b:] += b
    path = tmp_path / "overlap.wav"
    sf.write(path, mix / np.abs(mix).max() * 0.8, RATE)
    turns = diarizer.diarize(str(path))
    assert len({t.speaker for t in turns}) == 2
    first = next(t for t in turns if t.start < 1.0)
    last = next(t for t in reversed(turns) if t.end > len(mix) / RATE - 1.0)
    assert first.speaker != last.speaker
    assert all(x.end <= y.start + 1e-6 for x, y in zip(turns, turns[1:]))  # one speaker at a time, in order


def test_silence_and_music_have_no_speakers(diarizer, voices, tmp_path):
    silent = tmp_path / "silent.wav"
    sf.write(silent, np.zeros(RATE * 5, dtype="float32"), RATE)
    assert diarizer.diarize(str(silent)) == []
    t = np.arange(RATE * 8) / RATE
    notes = [261.6, 329.6, 392.0, 523.3]  # a C major arpeggio, each note half a second, with harmonics
    pitch = np.array(notes)[(t * 2).astype(int) % 4]
    music = sum(np.sin(2 * np.pi * k * pitch * t) / k for k in (1, 2, 3)) * 0.2
    speech = voices(TURNS[1][1], 1.0)
    path = tmp_path / "music_then_speech.wav"
    sf.write(path, np.concatenate([music, np.zeros(RATE // 2), speech]).astype("float32"), RATE)
    turns = diarizer.diarize(str(path))
    assert sum(min(x.end, 8.0) - x.start for x in turns if x.start < 8.0) < 1.0  # the music is not a speaker
    assert len({x.speaker for x in turns}) == 1 and turns[-1].end > 9.0  # the voice after it is


def test_embeddings_and_features_match_resemblyzer_and_librosa(diarizer, voices):
    """taskdeck's mel spectrogram (numpy) equals librosa's, and its embedding of an utterance
    equals Resemblyzer's own VoiceEncoder on the same weights."""
    import warnings

    import librosa

    from taskdeck.plugins.backends.diarizer.features import mel_spectrogram

    samples = voices(TURNS[1][1], 1.0)
    ours = mel_spectrogram(samples)
    theirs = librosa.feature.melspectrogram(y=samples, sr=RATE, n_fft=400, hop_length=160, n_mels=40).T
    assert ours.shape == theirs.shape and np.allclose(ours, theirs, rtol=1e-4, atol=1e-6)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # webrtcvad's import of pkg_resources
        from resemblyzer import VoiceEncoder

    reference = VoiceEncoder("cpu", verbose=False).embed_utterance(samples)
    embedding = diarizer.embed_utterance(samples)
    assert embedding.shape == (256,) and float(embedding @ reference) > 0.9999


def test_asr_with_speakers_in_every_output(meeting, tmp_path):
    path, reference = meeting
    proc = cli("task=asr", f"audio={path}", "diarize=true", "output=[text,json,srt,vtt]", tmp_path=tmp_path)
    assert proc.returncode == 0, proc.stderr
    run = tmp_path / "run"
    segments = json.loads((run / "asr.json").read_text())["segments"]
    spoken = [s["speaker"] for s in segments]
    assert len(set(spoken)) == 3 and spoken[0] == "S1"
    assert all("words" not in s or not s["words"] for s in segments)  # words were only for alignment
    by_speaker = {}
    for seg in segments:
        by_speaker.setdefault(seg["speaker"], []).append(seg["text"].lower())
    assert any("eight percent" in t or "8%" in t for t in by_speaker["S2"])
    assert any("harbour" in t or "harbor" in t for t in by_speaker["S3"])
    assert "S1: " in (run / "asr.srt").read_text() and "<v S2>" in (run / "asr.vtt").read_text()
    lines = [ln for ln in proc.stdout.splitlines() if ln.strip()]
    assert [ln.split(":")[0] for ln in lines] == ["S1", "S2", "S3", "S1", "S2", "S3"]
    record = json.loads((run / "result.json").read_text())
    assert record["metrics"]["speakers"] == 3 and record["metrics"]["diarize_s"] > 0
    assert [m["model"] for m in record["models"]] == ["whisper-tiny.en", "voice-ge2e"]


def test_der_scorer():
    reference = [(0.0, 2.0, "ann"), (2.5, 5.0, "bob")]
    assert diarization_error_rate(reference, [(0.0, 2.0, "x"), (2.5, 5.0, "y")])["der"] == 0.0
    swapped = diarization_error_rate(reference, [(0.0, 2.0, "y"), (2.5, 5.0, "x")])
    assert swapped["der"] == 0.0 and swapped["mapping"] == {"y": "ann", "x": "bob"}
    one = diarization_error_rate(reference, [(0.0, 5.0, "x")])  # x is bob (longer): ann's time is confused
    assert one["mapping"] == {"x": "bob"} and one["confusion"] == pytest.approx(2.0 / 4.5, abs=1e-3)
    assert one["false_alarm"] == pytest.approx(0.5 / 4.5, abs=1e-3)
    missed = diarization_error_rate(reference, [(0.0, 2.0, "x")])
    assert missed["missed"] == pytest.approx(2.5 / 4.5, abs=1e-3) and missed["der"] == missed["missed"]
    assert diarization_error_rate(reference, [(0.0, 2.1, "x"), (2.4, 5.0, "y")], collar=0.25)["der"] == 0.0


def test_rttm_round_trip(tmp_path):
    turns = [(0.5, 1.75, "ann"), (2.0, 3.0, "bob")]
    path = tmp_path / "x.rttm"
    path.write_text(write_rttm(turns, "x"))
    assert read_rttm(path) == turns


def test_a_known_number_below_one_is_one_line(tmp_path, meeting):
    path, _ = meeting
    proc = cli("task=asr", f"audio={path}", "diarize=true", "speakers=0", tmp_path=tmp_path)
    assert proc.returncode == 2 and len(proc.stderr.strip().splitlines()) == 1
    assert "speakers=0" in proc.stderr
