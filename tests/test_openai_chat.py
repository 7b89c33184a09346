"""backend=openai against a real OpenAI-compatible server: ``transformers serve`` on 127.0.0.1
with the embedded SmolLM2 (see the ``openai_server`` fixture in conftest)."""

from __future__ import annotations

import json
import math

import pytest
from conftest import cli
from test_defaults import SAMPLE_INPUTS

FAKE_KEY = "sk-taskdeck-test-9f8e7d6c5b4a3210-never-stored"


def api(openai_server, *extra):
    base_url, model = openai_server
    return ("backend=openai", f"backend.base_url={base_url}", f"model={model}", *extra)


@pytest.fixture
def backend(session, openai_server):
    """The openai backend bound to the served model, loaded, as a task gets it."""
    from servers import openai_backend

    with openai_backend(session, *openai_server) as instance:
        yield instance


def files_under(path):
    return [p for p in path.rglob("*") if p.is_file()]


def test_chat_streams_records_api_usage_and_never_stores_the_key(openai_server, tmp_path):
    proc = cli(
        "task=chat",
        *api(openai_server, "prompt=Say hello.", "temperature=0", "max_new_tokens=6"),
        tmp_path=tmp_path,
        env={"OPENAI_API_KEY": FAKE_KEY},
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() and "tokens/s]" in proc.stderr
    run = tmp_path / "run"
    record = json.loads((run / "result.json").read_text())
    m = record["metrics"]
    assert m["completion_tokens"] == 6 and m["prompt_tokens"] > 6  # the server's usage: chat template + prompt
    assert m["time_to_first_token_s"] > 0
    (used,) = record["models"]
    assert used["backend"] == "openai" and used["model"] == openai_server[1]
    assert used["requests"] == 1 and used["completion_tokens"] == 6 and used["latency_s"] > 0
    assert 0 < used["time_to_first_token_s"] <= used["latency_s"]
    assert record["result"]["finish_reason"] == "length"
    saved = json.loads((run / "chat.json").read_text())
    assert saved["text"].strip() == proc.stdout.strip()
    written = files_under(run)
    assert any(p.name == "config.yaml" for p in written)  # the saved Hydra config is among those checked
    for path in written:
        assert FAKE_KEY not in path.read_text(errors="replace"), path
    assert FAKE_KEY not in proc.stdout + proc.stderr


def test_key_from_a_named_variable_is_not_stored(openai_server, tmp_path):
    proc = cli(
        "task=chat",
        *api(openai_server, "prompt=Hi", "max_new_tokens=2", "backend.api_key_env=MY_LLM_KEY"),
        tmp_path=tmp_path,
        env={"MY_LLM_KEY": FAKE_KEY},
    )
    assert proc.returncode == 0, proc.stderr
    assert all(FAKE_KEY not in p.read_text(errors="replace") for p in files_under(tmp_path / "run"))


def test_greedy_answer_matches_the_transformers_backend(run_in_process, openai_server, session, one_torch_thread):
    from servers import transformers_folder

    args = ("task=chat", "prompt='Name three colours.'", "temperature=0", "max_new_tokens=16")
    _, remote, _, _ = run_in_process(*args, *api(openai_server))
    _, local, _, _ = run_in_process(*args, "backend=transformers", f"model={transformers_folder(session)}")
    assert remote.text == local.text and remote.completion_tokens == local.completion_tokens == 16


def test_stream_arrives_in_pieces(backend):
    pieces = []
    gen = backend.chat([{"role": "user", "content": "Count to five."}], max_new_tokens=12, stream=pieces.append)
    assert len(pieces) > 1 and "".join(pieces) == gen.text


def test_system_turn_reaches_the_server(backend):
    def prompt_tokens(system):
        turns = [{"role": "system", "content": system}, {"role": "user", "content": "Hi"}]
        return backend.chat(turns, max_new_tokens=1).prompt_tokens

    short, longer = prompt_tokens("Be brief."), prompt_tokens("Be brief. " + "Answer like a pirate. " * 5)
    assert longer - short >= 20  # the server's usage counts the system turn's tokens


def test_stop_string_cuts_and_seed_repeats(backend):
    prompt = [{"role": "user", "content": "Write the numbers from 1 to 20, separated by commas."}]
    full = backend.chat(prompt, max_new_tokens=30)
    stop_at = full.text.split(",")[2]  # the third item, as the model writes it
    cut = backend.chat(prompt, max_new_tokens=30, stop=[stop_at])
    assert len(cut.text) < len(full.text) and cut.finish_reason == "stop"
    sampled = [backend.chat(prompt, max_new_tokens=12, temperature=1.0, seed=11).text for _ in range(2)]
    assert sampled[0] == sampled[1]


def test_structured_output_on_a_server_that_ignores_response_format(backend):
    """transformers serve ignores response_format: the answer is parsed, validated and, when
    invalid, asked again a bounded number of times."""
    from taskdeck.helpers.structured import StructuredOutputError, chat_json

    schema = {
        "type": "object",
        "properties": {"city": {"type": "string"}},
        "required": ["city"],
        "additionalProperties": False,
    }
    messages = [{"role": "user", "content": 'Reply with only this JSON, filled in: {"city": "<capital of France>"}'}]
    try:
        data = chat_json(backend, messages, schema, retries=1, max_new_tokens=24)
    except StructuredOutputError as exc:
        assert "after 2 tries" in str(exc) and exc.raw
        assert backend.usage()["requests"] == 2
    else:
        assert set(data) == {"city"} and isinstance(data["city"], str)
    assert backend.schema_accepted  # the server took the request with response_format


@pytest.mark.parametrize("task", ["summarization", "translation", "fill-mask", "qa", "ner"])
def test_text_tasks_fall_back_to_chat_over_the_api(run_in_process, openai_server, tmp_path, task):
    """Every chat fallback runs over the API. qa, ner and fill-mask ask for JSON, which the 135M
    model may not manage: then the run ends in the one-line schema error, after real requests."""
    from taskdeck.helpers.structured import StructuredOutputError

    try:
        record, _, _, _ = run_in_process(f"task={task}", *SAMPLE_INPUTS[task], *api(openai_server))
    except StructuredOutputError:
        assert task in ("qa", "ner", "fill-mask")
        record = json.loads((tmp_path / "run0" / "result.json").read_text())
        assert record["error_type"] == "StructuredOutputError"
    else:
        assert record["status"] == "ok"
    (used,) = record["models"]
    assert used["backend"] == "openai" and used["capability"] == "chat" and used["requests"] >= 1
    assert used["completion_tokens"] > 0


def test_remote_model_names_are_not_taken_for_aliases_or_paths(session):
    from taskdeck.engine.session_context import SessionContext
    from taskdeck.plugins.backends.openai_api import OpenAIParams

    ctx = SessionContext(session, OpenAIParams(base_url="http://127.0.0.1:9/v1"), quiet=True)
    for name in ("gpt-4o-mini", "smollm2-135m", "tests", "org/model:tag"):
        backend = ctx._choose(ctx._resolve(name, ctx.backend_params), ["chat"], ctx.backend_params)
        assert backend.model.source == "remote" and backend.model.id == name


# ---- label scoring (sentiment, zero-shot, ...) from the API's top logprobs ----
def logprobs_answer(top: dict[str, float]) -> dict:
    """A chat.completion with the first token's top_logprobs, as the API documents it."""
    entries = [{"token": t, "logprob": lp, "bytes": list(t.encode())} for t, lp in top.items()]
    first = entries[0]
    return {
        "id": "chatcmpl-1",
        "object": "chat.completion",
        "created": 0,
        "model": "gpt-test",
        "choices": [
            {
                "index": 0,
                "finish_reason": "length",
                "message": {"role": "assistant", "content": first["token"]},
                "logprobs": {"content": [{**first, "top_logprobs": entries}]},
            }
        ],
        "usage": {"prompt_tokens": 40, "completion_tokens": 1, "total_tokens": 41},
    }


def test_sentiment_scores_labels_from_top_logprobs(run_in_process, monkeypatch):
    from servers import api_shaped_server

    monkeypatch.setenv("OPENAI_API_KEY", FAKE_KEY)
    top = {" Negative": -0.2, "negative": -2.0, "Neutral": -3.0, "pos": -4.0, "The": -5.0}
    with api_shaped_server() as server:
        server.expect_request("/v1/chat/completions").respond_with_json(logprobs_answer(top))
        record, result, _, _ = run_in_process(
            "task=sentiment",
            "text='This was a waste of money.'",
            "backend=openai",
            f"backend.base_url={server.url_for('/v1')}",
            "backend.logprobs=true",
            "model=gpt-test",
        )
        sent = server.log[0][0].get_json()
    assert (sent["max_tokens"], sent["logprobs"], sent["top_logprobs"]) == (1, True, 20)
    scores = {s.label: s.score for s in result.labels}
    assert result.top.label == "negative" and result.method == "chat-label-scoring"
    mass = {"negative": math.exp(-0.2) + math.exp(-2.0), "neutral": math.exp(-3.0), "positive": math.exp(-4.0)}
    assert scores == pytest.approx({k: v / sum(mass.values()) for k, v in mass.items()}, abs=1e-4)
    assert record["models"][0]["capability"] == "score_labels" and record["models"][0]["prompt_tokens"] == 40


def test_label_scoring_is_off_for_servers_not_known_to_return_logprobs(run_in_process, openai_server):
    from taskdeck import CapabilityError

    with pytest.raises(
        CapabilityError,
        match="offers chat, chat_json, draw, speak, transcribe, vision_chat, "
        "but this task needs one of: classify, score_labels",
    ):
        run_in_process("task=sentiment", "text=Great", *api(openai_server))


def test_a_server_without_logprobs_is_one_line(run_in_process, openai_server):
    from taskdeck import CapabilityError

    with pytest.raises(CapabilityError) as exc:
        run_in_process("task=sentiment", "text=Great", *api(openai_server, "backend.logprobs=true"))
    assert str(exc.value).startswith(f"the server at {openai_server[0]} returned no logprobs for ")
