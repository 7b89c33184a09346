"""task=tts and task=asr on the embedded packs (Piper joe, faster-whisper tiny.en and base),
through the real CLI: a TTS → ASR round trip scored with jiwer, subtitles, chunked long
audio, languages, and bad input as one line."""

import json

import jiwer
import numpy as np
import pytest
import soundfile as sf
from conftest import cli

SENTENCES = (
    "The quick brown fox jumps over the lazy dog. Please send the quarterly report to the finance team "
    "before the meeting. We agreed to launch the new product in the spring, and Sarah will prepare "
    "the press release."
)
#: Measured: 0.079 (3 of 38 words: "send" → "in", "agreed" → "agree") with tiny.en on the Piper voice.
WER_BOUND = 0.15
_NORMALISE = jiwer.Compose(
    [
        jiwer.ToLowerCase(),
        jiwer.RemovePunctuation(),
        jiwer.RemoveMultipleSpaces(),
        jiwer.Strip(),
        jiwer.ReduceToListOfListOfWords(),
    ]
)


def wer(reference: str, hypothesis: str) -> float:
    return jiwer.wer(reference, hypothesis, reference_transform=_NORMALISE, hypothesis_transform=_NORMALISE)


def run(tmp_path, name, *args):
    """``python run.py ARGS`` with the run directory tmp_path/name; (proc, run_dir)."""
    work = tmp_path / name
    work.mkdir()
    return cli(*args, tmp_path=work), work / "run"


@pytest.fixture(scope="module")
def spoken(tmp_path_factory):
    """SENTENCES spoken by task=tts: (wav path, tts result.json)."""
    tmp = tmp_path_factory.mktemp("tts")
    proc = cli("task=tts", f"text='{SENTENCES}'", tmp_path=tmp)
    assert proc.returncode == 0, proc.stderr
    return tmp / "run" / "tts.wav", json.loads((tmp / "run" / "result.json").read_text())


def test_tts_writes_a_wav_at_the_voice_rate(spoken):
    wav, record = spoken
    samples, rate = sf.read(wav)
    assert rate == 22050 == record["result"]["sample_rate"]
    assert abs(len(samples) / rate - record["result"]["duration_s"]) < 0.01
    assert 8.0 < record["result"]["duration_s"] < 20.0 and np.abs(samples).max() > 0.1
    assert record["metrics"]["characters_per_s"] > 0 and record["models"][0]["backend"] == "piper"


def test_round_trip_tts_then_asr(spoken, tmp_path):
    wav, _ = spoken
    proc, out = run(tmp_path, "asr", "task=asr", f"audio={wav}", "output=[text,json,srt,vtt]")
    assert proc.returncode == 0, proc.stderr
    record = json.loads((out / "result.json").read_text())
    text = record["result"]["text"]
    assert wer(SENTENCES, text) < WER_BOUND, text
    assert text in proc.stdout
    segments = record["result"]["segments"]
    assert segments and all(s["start"] <= s["end"] for s in segments)
    assert record["result"]["language"] == "en" and record["metrics"]["real_time_factor"] > 0
    srt = (out / "asr.srt").read_text()
    assert srt.startswith("1\n00:00:0") and " --> " in srt
    assert (out / "asr.vtt").read_text().startswith("WEBVTT\n\n00:00:0")


def test_subtitles_read_back_as_transcripts(spoken, tmp_path):
    from taskdeck.helpers.transcripts import read_transcript

    wav, _ = spoken
    proc, out = run(tmp_path, "asr", "task=asr", f"audio={wav}", "output=[json,srt,vtt]", "word_timestamps=true")
    assert proc.returncode == 0, proc.stderr
    record = json.loads((out / "result.json").read_text())
    words = [w for s in record["result"]["segments"] for w in s["words"]]
    assert len(words) >= 30 and all(w["start"] <= w["end"] for w in words)
    for name in ("asr.srt", "asr.vtt", "asr.json"):
        back = read_transcript(str(out / name))
        assert back.text == record["result"]["text"], name
        assert [round(s.start, 1) for s in back.segments] == [
            round(s["start"], 1) for s in record["result"]["segments"]
        ], name


def test_long_audio_in_small_chunks_drops_nothing(spoken, tmp_path):
    """Three copies with pauses, read in 12 s chunks cut at quiet moments: every sentence
    is there, in order, with times on the whole file's clock."""
    wav, _ = spoken
    samples, rate = sf.read(wav, dtype="float32")
    pause = np.zeros(rate, dtype="float32")
    long_wav = tmp_path / "long.flac"
    sf.write(long_wav, np.concatenate([samples, pause, samples, pause, samples]), rate)
    proc, out = run(tmp_path, "asr", "task=asr", f"audio={long_wav}", "chunk_s=12")
    assert proc.returncode == 0, proc.stderr
    result = json.loads((out / "result.json").read_text())["result"]
    assert wer(" ".join([SENTENCES] * 3), result["text"]) < WER_BOUND, result["text"]
    starts = [s["start"] for s in result["segments"]]
    assert starts == sorted(starts) and result["segments"][-1]["end"] > 2.5 * len(samples) / rate


def test_batched_decoding_gives_the_words_of_one_piece_at_a_time_in_sentences(spoken, tmp_path):
    """The default decodes VAD-cut pieces in batches (BatchedInferencePipeline): words as right
    as ``backend.batch_size=1`` (WhisperModel.transcribe), cut into sentences on the words' times.
    (Piper's voice differs a little per run, and the two decoders then differ in a word or two, so
    each is held to the script, not to the other.)"""
    wav, _ = spoken
    samples, rate = sf.read(wav, dtype="float32")
    pause = np.zeros(rate, dtype="float32")
    long_wav = tmp_path / "long.flac"
    sf.write(long_wav, np.concatenate([samples, pause, samples, pause, samples]), rate)
    proc, out = run(tmp_path, "batched", "task=asr", f"audio={long_wav}", "output=json", "word_timestamps=true")
    assert proc.returncode == 0, proc.stderr
    batched = json.loads((out / "result.json").read_text())["result"]
    proc, out = run(
        tmp_path,
        "one",
        "task=asr",
        f"audio={long_wav}",
        "output=json",
        "backend=faster_whisper",
        "backend.batch_size=1",
    )
    assert proc.returncode == 0, proc.stderr
    one = json.loads((out / "result.json").read_text())["result"]
    assert "batches of 8" in batched["method"] and "batches" not in one["method"]
    script = " ".join([SENTENCES] * 3)
    assert wer(script, batched["text"]) < WER_BOUND, batched["text"]
    assert wer(script, batched["text"]) <= wer(script, one["text"]) + 0.05, (one["text"], batched["text"])
    segments = batched["segments"]
    # three sentences, three times (two may run together where a full stop is not heard);
    # a batched piece runs up to 30 s, a sentence here under 10 s
    assert len(segments) >= 6 and all(s["end"] - s["start"] < 10 for s in segments), segments
    assert all(s["text"].endswith((".", "?", "!")) for s in segments[:-1])
    for s in segments:
        assert s["words"] and s["start"] == s["words"][0]["start"] and s["end"] == s["words"][-1]["end"]
    assert not any(s["words"] for s in one["segments"])  # words only when asked for


def test_multilingual_model_detects_the_language(spoken, tmp_path):
    wav, _ = spoken
    proc, out = run(tmp_path, "asr", "task=asr", f"audio={wav}", "model=whisper-base", "output=json")
    assert proc.returncode == 0, proc.stderr
    result = json.loads((out / "result.json").read_text())["result"]
    assert result["language"] == "en" and wer(SENTENCES, result["text"]) < WER_BOUND


def test_tts_pace_and_voice_options(tmp_path):
    proc, out = run(
        tmp_path, "slow", "task=tts", "text='Good morning, everyone.'", "length_scale=1.5", "output=[json,wav]"
    )
    assert proc.returncode == 0, proc.stderr
    slow = json.loads((out / "result.json").read_text())["result"]["duration_s"]
    proc, out = run(
        tmp_path, "fast", "task=tts", "text='Good morning, everyone.'", "length_scale=0.7", "output=[json,wav]"
    )
    fast = json.loads((out / "result.json").read_text())["result"]["duration_s"]
    assert slow > 1.5 * fast


def _one_line(proc, *needles):
    assert proc.returncode != 0
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), proc.stderr
    for needle in needles:
        assert needle in lines[0], lines[0]


def _silent(path):
    sf.write(path, np.zeros(16000 * 2, dtype="float32"), 16000)
    return path


@pytest.mark.parametrize(
    "case, args, needles",
    [
        ("missing", lambda t: [f"audio={t / 'nope.wav'}"], ["nope.wav", "does not exist"]),
        (
            "corrupt",
            lambda t: [f"audio={_bytes(t / 'bad.ogg', b'OggS garbage' * 40)}"],
            ["bad.ogg", "cannot be decoded"],
        ),
        ("empty", lambda t: [f"audio={_bytes(t / 'empty.wav', b'')}"], ["empty.wav", "is empty"]),
        ("silent", lambda t: [f"audio={_silent(t / 'quiet.wav')}"], ["quiet.wav", "silent"]),
        ("english-only", lambda t: [f"audio={_silent(t / 'x.wav')}", "language=de"], ["English only", "whisper-base"]),
        (
            "translate on english-only",
            lambda t: [f"audio={_silent(t / 'x.wav')}", "translate=true"],
            ["cannot translate", "whisper-base"],
        ),
    ],
)
def test_bad_audio_is_one_line_and_writes_nothing(tmp_path, case, args, needles):
    proc = cli("task=asr", *args(tmp_path), tmp_path=tmp_path)
    _one_line(proc, *needles)
    assert not (tmp_path / "run" / "asr.json").exists() and not (tmp_path / "run" / "asr.srt").exists()


def test_empty_text_to_speak_is_one_line(tmp_path):
    _one_line(cli("task=tts", "text=' '", tmp_path=tmp_path), "text is empty")
    assert not (tmp_path / "run" / "tts.wav").exists()


def _bytes(path, data: bytes):
    path.write_bytes(data)
    return path
