"""backend=openai for speech to text, text to speech and images, against a real local HTTP
server answering in the API's documented shapes (``transformers serve`` has no such endpoints
for these models)."""

from __future__ import annotations

import base64
import io
import json
import wave

import numpy as np
import pytest
from servers import api_error, api_shaped_server, openai_backend
from werkzeug import Response

KEY = "sk-media-test-key"


@pytest.fixture
def server():
    with api_shaped_server() as s:
        yield s


@pytest.fixture
def backend(session, server, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    with openai_backend(session, server.url_for("/v1"), "whisper-1") as b:
        yield b


def wav(samples: np.ndarray, rate: int) -> bytes:
    out = io.BytesIO()
    with wave.open(out, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes((np.clip(samples, -1, 1) * 32767).astype("<i2").tobytes())
    return out.getvalue()


def verbose_transcriber(uploads: list):
    """A handler answering /audio/transcriptions as response_format=verbose_json does: the
    uploaded audio's real duration, two segments, words when asked for. Each upload's file
    name, bytes and form fields are appended to ``uploads``."""

    def answer(request) -> Response:
        upload = request.files["file"]
        data = upload.read()
        n = len(uploads)
        uploads.append((upload.filename, data, request.form))
        with wave.open(io.BytesIO(data), "rb") as w:
            duration = w.getnframes() / w.getframerate()
        half = duration / 2
        body = {
            "task": "transcribe",
            "language": request.form.get("language", "english"),
            "duration": duration,
            "text": f"first part {n}. second part {n}.",
            "segments": [
                {"id": 0, "seek": 0, "start": 0.0, "end": half, "text": f" first part {n}."},
                {"id": 1, "seek": 0, "start": half, "end": duration, "text": f" second part {n}."},
            ],
        }
        if "word" in request.form.getlist("timestamp_granularities[]"):
            body["words"] = [
                {"word": "first", "start": 0.1, "end": 0.4},
                {"word": "second", "start": half + 0.1, "end": half + 0.5},
            ]
        return Response(json.dumps(body), content_type="application/json")

    return answer


def test_transcription_with_segments_and_words(server, backend, tmp_path):
    audio = tmp_path / "hello.wav"
    audio.write_bytes(wav(np.sin(np.linspace(0, 2000, 32000)) * 0.3, 16000))
    uploads = []
    server.expect_request("/v1/audio/transcriptions", method="POST").respond_with_handler(verbose_transcriber(uploads))
    done = []
    t = backend.transcribe(str(audio), language="en", word_timestamps=True, progress=done.append)
    ((name, data, form),) = uploads
    assert name == "hello.wav" and data == audio.read_bytes()  # a small file goes up as it is
    assert form["model"] == "whisper-1" and form["response_format"] == "verbose_json" and form["language"] == "en"
    assert form.getlist("timestamp_granularities[]") == ["segment", "word"]
    assert t.text == "first part 0. second part 0." and t.duration == pytest.approx(2.0)
    assert [(s.start, s.end) for s in t.segments] == [(0.0, 1.0), (1.0, 2.0)]
    assert [[w.word for w in s.words] for s in t.segments] == [["first"], ["second"]]
    assert done == [pytest.approx(2.0)] and backend.usage()["requests"] == 1


def test_audio_over_25_mb_is_split_at_a_quiet_moment(server, backend, tmp_path):
    rate = 16000
    rng = np.random.default_rng(0)
    samples = (rng.standard_normal(840 * rate) * 0.2).astype(np.float32)  # 14 minutes: 26.9 MB as WAV
    samples[int(595.0 * rate) : int(595.5 * rate)] = 0.0  # the one quiet moment before the 600 s limit
    big = tmp_path / "meeting.wav"
    big.write_bytes(wav(samples, rate))
    assert big.stat().st_size > 25 * 1024 * 1024
    uploads = []
    server.expect_request("/v1/audio/transcriptions").respond_with_handler(verbose_transcriber(uploads))
    done = []
    t = backend.transcribe(str(big), progress=done.append)
    assert [name for name, _, _ in uploads] == ["meeting-1.wav", "meeting-2.wav"]
    assert all(len(data) < 25 * 1024 * 1024 for _, data, _ in uploads)
    cut = t.segments[2].start  # the second piece's first segment, shifted back by the first piece
    assert 595.0 < cut < 595.5
    assert t.duration == pytest.approx(840.0, abs=0.01) and t.segments[-1].end == pytest.approx(840.0, abs=0.01)
    assert len(t.segments) == 4 and done == [pytest.approx(cut, abs=0.01), pytest.approx(840.0, abs=0.01)]


def test_model_without_verbose_json_gives_text_without_timestamps(server, backend, tmp_path, capsys):
    audio = tmp_path / "a.wav"
    audio.write_bytes(wav(np.zeros(1600), 16000))

    def answer(request):
        if request.form["response_format"] == "verbose_json":
            return Response(
                json.dumps(
                    api_error(
                        "response_format 'verbose_json' is not compatible with model "
                        "'gpt-4o-transcribe'. Use 'json' or 'text' instead.",
                        "invalid_request_error",
                    )
                ),
                status=400,
                content_type="application/json",
            )
        return Response(json.dumps({"text": "just text"}), content_type="application/json")

    server.expect_request("/v1/audio/transcriptions").respond_with_handler(answer)
    t = backend.transcribe(str(audio))
    assert t.text == "just text" and t.segments == []
    assert "gives no segments" in capsys.readouterr().err
    assert "timestamp_granularities[]" not in server.log[-1][0].form


def test_translation_uses_its_endpoint(server, backend, tmp_path):
    audio = tmp_path / "fr.wav"
    audio.write_bytes(wav(np.zeros(16000), 16000))
    server.expect_request("/v1/audio/translations").respond_with_handler(verbose_transcriber([]))
    t = backend.transcribe(str(audio), translate=True)
    assert t.text.startswith("first part") and "translation" in t.method


def test_missing_audio_file_is_one_line(backend, tmp_path):
    from taskdeck import InputError

    with pytest.raises(InputError, match="audio file '.*nope.wav' does not exist"):
        backend.transcribe(str(tmp_path / "nope.wav"))


def test_speech_comes_back_as_samples(server, backend):
    rate = 24000
    tone = (0.5 * np.sin(2 * np.pi * 440 * np.arange(rate // 2) / rate)).astype(np.float32)
    server.expect_request("/v1/audio/speech", method="POST").respond_with_data(
        wav(tone, rate), content_type="audio/wav"
    )
    audio = backend.speak("Hello there.", speed=1.25)
    sent = server.log[0][0].get_json()
    assert sent == {
        "model": "whisper-1",
        "voice": "alloy",
        "input": "Hello there.",
        "response_format": "wav",
        "speed": 1.25,
    }
    assert audio.sample_rate == rate and audio.samples.dtype == np.float32
    assert np.abs(audio.samples - tone).max() < 1e-3 and audio.duration == pytest.approx(0.5)


def png(width: int, height: int, colour=(200, 30, 30), fmt="PNG") -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (width, height), colour).save(out, format=fmt)
    return out.getvalue()


def test_images_come_back_as_png(server, backend):
    def generate(request):
        body = request.get_json()
        w, h = (int(v) for v in body["size"].split("x"))
        data = [{"b64_json": base64.b64encode(png(w, h)).decode()} for _ in range(body["n"])]
        return Response(json.dumps({"created": 0, "data": data}), content_type="application/json")

    server.expect_request("/v1/images/generations", method="POST").respond_with_handler(generate)
    images = backend.draw("a red square", num_images=2, width=64, height=48)
    sent = server.log[0][0].get_json()
    assert sent == {
        "model": "whisper-1",
        "prompt": "a red square",
        "n": 2,
        "size": "64x48",
        "response_format": "b64_json",
    }
    assert len(images.images) == 2 and (images.width, images.height) == (64, 48)
    from PIL import Image

    assert Image.open(io.BytesIO(images.images[0])).getpixel((5, 5)) == (200, 30, 30)


def test_image_urls_and_jpegs_are_fetched_and_converted(server, backend):
    server.expect_request("/files/cat.jpg").respond_with_data(png(32, 32, fmt="JPEG"), content_type="image/jpeg")
    server.expect_request("/v1/images/generations").respond_with_json(
        {"created": 0, "data": [{"url": server.url_for("/files/cat.jpg")}]}
    )
    images = backend.draw("a cat")
    assert images.images[0].startswith(b"\x89PNG") and (images.width, images.height) == (32, 32)
