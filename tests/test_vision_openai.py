"""``backend=openai`` for the image tasks a vision chat model can answer (zero-shot labels,
captions), against a real local HTTP server answering in the API's documented shapes: the
image travels as a JPEG data URL inside the user turn."""

from __future__ import annotations

import base64
import io
import math

import pytest
from servers import api_shaped_server, streamed_answer

Image = pytest.importorskip("PIL.Image")
KEY = "sk-vision-test-key"


@pytest.fixture
def photo(tmp_path):
    from skimage import data

    path = tmp_path / "cat.png"
    Image.fromarray(data.chelsea()).save(path)
    return path


@pytest.fixture
def server(monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    with api_shaped_server() as s:
        yield s


def api(server, *extra):
    return ("backend=openai", f"backend.base_url={server.url_for('/v1')}", "model=gpt-vision-test", *extra)


def sent_image(request: dict) -> tuple[str, tuple[int, int]]:
    """The question and the image size a chat request carried."""
    (turn,) = request["messages"]
    parts = {p["type"]: p for p in turn["content"]}
    url = parts["image_url"]["image_url"]["url"]
    assert url.startswith("data:image/jpeg;base64,")
    with Image.open(io.BytesIO(base64.b64decode(url.split(",", 1)[1]))) as image:
        return parts["text"]["text"], image.size


def logprobs_answer(top: dict[str, float]) -> dict:
    entries = [{"token": t, "logprob": lp, "bytes": list(t.encode())} for t, lp in top.items()]
    return {
        "id": "chatcmpl-1",
        "object": "chat.completion",
        "created": 0,
        "model": "gpt-vision-test",
        "choices": [
            {
                "index": 0,
                "finish_reason": "length",
                "message": {"role": "assistant", "content": entries[0]["token"]},
                "logprobs": {"content": [{**entries[0], "top_logprobs": entries}]},
            }
        ],
        "usage": {"prompt_tokens": 300, "completion_tokens": 1, "total_tokens": 301},
    }


def test_zero_shot_labels_scored_from_logprobs(run_in_process, server, photo):
    server.expect_request("/v1/chat/completions").respond_with_json(
        logprobs_answer({"cat": -0.1, " dog": -2.5, "A": -4})
    )
    record, result, _, _ = run_in_process(
        "task=zero-shot-image-classification",
        f"image={photo}",
        "labels=[cat,dog,car]",
        *api(server, "backend.logprobs=true"),
    )
    assert record["status"] == "ok", record
    request = server.log[0][0].get_json()
    question, size = sent_image(request)
    assert size == (451, 300) and "cat, dog, car" in question
    assert (request["max_tokens"], request["logprobs"]) == (1, True)
    assert result.method == "chat-label-scoring" and result.top.label == "cat"
    floor = math.exp(-4 - math.log(2))  # a label no listed token begins
    mass = {"cat": math.exp(-0.1), "dog": math.exp(-2.5), "car": floor}
    assert {s.label: s.score for s in result.labels} == pytest.approx(
        {k: v / sum(mass.values()) for k, v in mass.items()}, abs=1e-5
    )


def test_zero_shot_takes_the_answered_label_without_logprobs(run_in_process, server, photo):
    server.expect_request("/v1/chat/completions").respond_with_data(
        streamed_answer("Dog."), content_type="text/event-stream"
    )
    record, result, _, _ = run_in_process(
        "task=zero-shot-image-classification", f"image={photo}", "labels=[cat,dog]", *api(server)
    )
    assert record["status"] == "ok", record
    assert result.method == "chat-answer" and [(s.label, s.score) for s in result.labels] == [
        ("dog", 1.0),
        ("cat", 0.0),
    ]
    assert record["models"][0]["capability"] == "vision_chat"


def test_an_answer_naming_no_label_is_one_line(run_in_process, server, photo):
    from taskdeck import InputError

    server.expect_request("/v1/chat/completions").respond_with_data(
        streamed_answer("I cannot tell."), content_type="text/event-stream"
    )
    with pytest.raises(InputError, match=r"^the model answered 'I cannot tell.', none of the labels cat, dog"):
        run_in_process("task=zero-shot-image-classification", f"image={photo}", "labels=[cat,dog]", *api(server))


def test_caption_from_a_vision_chat_model(run_in_process, server, photo):
    server.expect_request("/v1/chat/completions").respond_with_data(
        streamed_answer("A ginger cat lies on a wooden floor."), content_type="text/event-stream"
    )
    record, result, run_dir, _ = run_in_process("task=image-to-text", f"image={photo}", *api(server))
    assert record["status"] == "ok", record
    question, size = sent_image(server.log[0][0].get_json())
    assert question == "Describe this image in one sentence." and size == (451, 300)
    assert result.text == "A ginger cat lies on a wooden floor." and result.completion_tokens == 8
    assert KEY not in (run_dir / "result.json").read_text()


def test_tasks_a_chat_model_cannot_do_say_so(run_in_process, server, photo):
    from taskdeck import TaskdeckError

    with pytest.raises(TaskdeckError) as failed:
        run_in_process("task=object-detection", f"image={photo}", *api(server))
    assert "detect" in str(failed.value) and "\n" not in str(failed.value)
    assert not server.log  # nothing was sent
