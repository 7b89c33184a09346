"""Audio input (taskdeck.helpers.audio): real decoding of wav/flac/ogg/mp3, mixdown, resampling,
bounded chunks cut at quiet moments, and one-line errors."""

import numpy as np
import pytest
import soundfile as sf
from conftest import REPO

from taskdeck import InputError
from taskdeck.helpers import audio
from taskdeck.helpers.audio import audio_duration, check_sound, ffmpeg_exe, load_audio, quiet_cut, stream_audio

EXAMPLE = REPO / "examples" / "meeting" / "launch_meeting.mp3"


def tone(seconds: float, rate: int, freq: float = 440.0, channels: int = 1) -> np.ndarray:
    t = np.arange(int(seconds * rate)) / rate
    wave = (0.5 * np.sin(2 * np.pi * freq * t)).astype("float32")
    return np.stack([wave] * channels, axis=1) if channels > 1 else wave


@pytest.mark.parametrize("fmt, suffix", [("WAV", ".wav"), ("FLAC", ".flac"), ("OGG", ".ogg"), ("MP3", ".mp3")])
def test_formats_decode_to_16k_mono(tmp_path, fmt, suffix):
    path = tmp_path / f"a{suffix}"
    sf.write(path, tone(2.0, 44100, channels=2), 44100, format=fmt)
    wave = load_audio(path)
    assert wave.sample_rate == 16000 and wave.samples.ndim == 1 and wave.samples.dtype == np.float32
    assert abs(wave.duration - 2.0) < 0.1  # mp3 adds encoder padding
    assert 0.3 < wave.peak <= 1.0
    assert abs(audio_duration(path) - 2.0) < 0.1


def test_stereo_is_mixed_down(tmp_path):
    left, right = tone(1.0, 16000), np.zeros(16000, dtype="float32")
    path = tmp_path / "stereo.wav"
    sf.write(path, np.stack([left, right], axis=1), 16000)
    samples = load_audio(path).samples
    assert np.allclose(samples, left / 2, atol=1e-4)


def test_chunks_cover_every_sample_and_cut_in_the_quiet(tmp_path):
    """70 s of tone with 1 s gaps every 10 s, read in 25 s chunks: nothing is lost, each cut
    falls inside a gap, and each chunk knows its offset."""
    rate = 16000
    parts = []
    for _ in range(7):
        parts += [tone(9.0, rate), np.zeros(rate, dtype="float32")]
    signal = np.concatenate(parts)
    path = tmp_path / "long.flac"
    sf.write(path, signal, rate)
    chunks = list(stream_audio(path, chunk_s=25.0))
    assert len(chunks) >= 3 and all(c.duration <= 25.0 for c in chunks)
    joined = np.concatenate([c.samples for c in chunks])
    assert len(joined) == len(signal) and np.allclose(joined, signal, atol=1e-4)
    for c in chunks[1:]:
        assert c.offset % 10 >= 9.0, c.offset  # inside a silent gap (9..10 s of each 10 s)
        assert abs(c.offset * rate - int(round(c.offset * rate))) < 1e-6


def test_quiet_cut_picks_the_silent_window():
    rate = 16000
    samples = tone(20.0, rate)
    samples[12 * rate : int(12.5 * rate)] = 0
    cut = quiet_cut(samples, 18 * rate, rate)
    assert 12 * rate <= cut <= 12.5 * rate


def test_example_mp3_streams_without_decoder_errors(capfd):
    """Reads end on whole MP3 frames: libmpg123 drops nothing and prints nothing."""
    total = sum(len(w.samples) for w in stream_audio(EXAMPLE, chunk_s=60.0))
    assert abs(total / 16000 - audio_duration(EXAMPLE)) < 0.05
    assert "error" not in capfd.readouterr().err


@pytest.mark.parametrize(
    "name, data, needle",
    [
        ("nope.wav", None, "does not exist"),
        ("empty.wav", b"", "is empty"),
        ("corrupt.mp3", b"definitely not audio " * 50, "cannot be decoded"),
        ("truncated.wav", b"RIFF\x10\x00\x00\x00WAVEfmt ", "cannot be decoded"),
    ],
)
def test_bad_files_are_one_line(tmp_path, name, data, needle):
    path = tmp_path / name
    if data is not None:
        path.write_bytes(data)
    with pytest.raises(InputError, match=needle) as err:
        load_audio(path)
    assert name in str(err.value) and "\n" not in str(err.value)


def test_containers_need_ffmpeg(tmp_path, monkeypatch):
    path = tmp_path / "talk.m4a"
    path.write_bytes(b"\x00\x00\x00\x20ftypM4A " + b"\x00" * 100)
    monkeypatch.setattr(audio, "ffmpeg_exe", lambda: None)
    with pytest.raises(InputError, match="needs ffmpeg to decode: install it"):
        load_audio(path)


def test_containers_through_ffmpeg(tmp_path):
    """m4a (AAC) through ffmpeg: imageio-ffmpeg's binary in the test install."""
    import subprocess

    wav, m4a = tmp_path / "a.wav", tmp_path / "a.m4a"
    sf.write(wav, tone(1.5, 22050), 22050)
    subprocess.run([ffmpeg_exe(), "-v", "error", "-i", str(wav), str(m4a)], check=True)
    wave = load_audio(m4a)
    assert abs(wave.duration - 1.5) < 0.1 and wave.peak > 0.3


def test_silence_is_one_line(tmp_path):
    path = tmp_path / "quiet.wav"
    sf.write(path, np.zeros(16000, dtype="float32"), 16000)
    wave = load_audio(path)
    assert wave.is_silent()
    with pytest.raises(InputError, match="quiet.wav' is silent"):
        check_sound(path, wave.peak)
