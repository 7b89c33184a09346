"""backend=openai when things go wrong, against a real local HTTP server answering in the API's
documented shapes (pytest-httpserver): every fault is one line naming the fix."""

from __future__ import annotations

import json
import time

import pytest
from conftest import cli
from servers import api_error, api_shaped_server, chat_chunk, free_port, openai_backend, sse, streamed_answer
from werkzeug import Response

KEY = "sk-faults-test-0123456789abcdef"
HI = [{"role": "user", "content": "Hi"}]
CHAT = "/v1/chat/completions"


@pytest.fixture
def server():
    with api_shaped_server() as s:
        yield s


@pytest.fixture
def base_url(server):
    return server.url_for("/v1")


@pytest.fixture
def backend(session, base_url, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    with openai_backend(session, base_url, "test-model", timeout=5.0, max_retries=2) as b:
        yield b


def stream(body: str, status: int = 200, headers: dict | None = None) -> Response:
    return Response(body, status=status, content_type="text/event-stream", headers=headers)


def error(status: int, message: str, kind: str, headers: dict | None = None) -> Response:
    return Response(
        json.dumps(api_error(message, kind)),
        status=status,
        content_type="application/json",
        headers={"retry-after-ms": "10", **(headers or {})},
    )


def one_line(exc_info) -> str:
    text = str(exc_info.value)
    assert "\n" not in text
    return text


def test_answer_and_usage_from_a_streamed_completion(server, backend):
    server.expect_request(CHAT, method="POST").respond_with_response(stream(streamed_answer("Hello there friend")))
    pieces = []
    gen = backend.chat(
        HI, max_new_tokens=10, stream=pieces.append, temperature=0.2, top_p=0.9, seed=3, stop=["\n"], top_k=5
    )
    assert gen.text == "Hello there friend" and pieces == ["Hello", " there", " friend"]
    assert (gen.prompt_tokens, gen.completion_tokens, gen.finish_reason) == (7, 3, "stop")
    sent = server.log[0][0].get_json()
    assert sent["model"] == "test-model" and sent["messages"] == HI and sent["stream"] is True
    assert (sent["max_tokens"], sent["temperature"], sent["top_p"], sent["seed"], sent["stop"]) == (
        10,
        0.2,
        0.9,
        3,
        ["\n"],
    )
    assert sent["top_k"] == 5  # not an OpenAI field: sent in the body for servers that read it
    assert server.log[0][0].headers["Authorization"] == f"Bearer {KEY}"


def test_429_then_200_is_retried(server, backend):
    server.expect_ordered_request(CHAT).respond_with_response(error(429, "Rate limit reached", "requests"))
    server.expect_ordered_request(CHAT).respond_with_response(stream(streamed_answer("ok")))
    assert backend.chat(HI).text == "ok"
    assert len(server.log) == 2


def test_429_every_time_gives_one_line_after_the_retries(server, backend):
    server.expect_request(CHAT).respond_with_response(error(429, "Rate limit reached", "requests"))
    from taskdeck import TaskdeckError

    with pytest.raises(TaskdeckError) as exc:
        backend.chat(HI)
    assert one_line(exc).startswith(
        f"the server at {backend.base_url} is limiting requests (429) and still "
        "was after 2 retries: wait and run again, or raise backend.max_retries"
    )
    assert len(server.log) == 3


def test_500s_are_retried_then_reported(server, backend):
    server.expect_ordered_request(CHAT).respond_with_response(error(500, "boom", "server_error"))
    server.expect_ordered_request(CHAT).respond_with_response(stream(streamed_answer("recovered")))
    assert backend.chat(HI).text == "recovered"
    server.clear_log()
    server.expect_request(CHAT).respond_with_response(error(503, "overloaded", "server_error"))
    from taskdeck import TaskdeckError

    with pytest.raises(TaskdeckError) as exc:
        backend.chat(HI)
    assert one_line(exc) == f"the server at {backend.base_url} failed with 503 after 2 retries: overloaded"
    assert len(server.log) == 3


def test_bad_key_is_401_in_one_line_without_the_key(server, base_url, session, monkeypatch):
    wrong = "sk-wrong-key-abcdef0123456789"
    monkeypatch.setenv("OPENAI_API_KEY", wrong)
    server.expect_request(CHAT).respond_with_response(
        error(401, f"Incorrect API key provided: {wrong}. You can find your API key at ...", "invalid_request_error")
    )
    from taskdeck import ConfigError

    with openai_backend(session, base_url, "test-model") as backend, pytest.raises(ConfigError) as exc:
        backend.chat(HI)
    text = one_line(exc)
    assert text.startswith(f"the server at {base_url} rejected the API key (401) read from $OPENAI_API_KEY")
    assert wrong not in text and "***" in text
    assert len(server.log) == 1  # a bad key is not retried


def test_unknown_model_lists_what_the_server_offers(server, backend):
    server.expect_request(CHAT).respond_with_response(
        error(404, "The model `test-model` does not exist or you do not have access to it.", "invalid_request_error")
    )
    server.expect_request("/v1/models", method="GET").respond_with_json(
        {
            "object": "list",
            "data": [
                {"id": "gpt-4o-mini", "object": "model", "created": 0, "owned_by": "system"},
                {"id": "whisper-1", "object": "model", "created": 0, "owned_by": "system"},
            ],
        }
    )
    from taskdeck import ModelNotFoundError

    with pytest.raises(ModelNotFoundError) as exc:
        backend.chat(HI)
    assert one_line(exc) == f"model 'test-model' is not served at {backend.base_url}; it offers: gpt-4o-mini, whisper-1"


def test_missing_endpoint_of_a_known_model_is_a_capability_error(server, backend):
    server.expect_request("/v1/audio/speech").respond_with_response(error(404, "Not Found", "not_found"))
    server.expect_request("/v1/models").respond_with_json(
        {"object": "list", "data": [{"id": "test-model", "object": "model", "created": 0, "owned_by": "me"}]}
    )
    from taskdeck import CapabilityError

    with pytest.raises(CapabilityError) as exc:
        backend.speak("hello")
    assert "has no /audio/speech endpoint (404)" in one_line(exc)


def test_slow_answer_times_out_after_retries(server, session, base_url, monkeypatch):
    def slow(request):
        time.sleep(1.5)
        return stream(streamed_answer("too late"))

    server.expect_request(CHAT).respond_with_handler(slow)
    from taskdeck import TaskdeckError

    with (
        openai_backend(session, base_url, "test-model", timeout=0.3, max_retries=1) as backend,
        pytest.raises(TaskdeckError) as exc,
    ):
        backend.chat(HI)
    assert one_line(exc) == (
        f"no answer from {base_url} within backend.timeout=0.3 s after 1 retries: raise "
        "backend.timeout, or check the server"
    )
    assert len(server.log) <= 2  # the log holds finished answers only; the client gave up on both tries


def test_stream_cut_off_midway_keeps_what_arrived(server, backend, capsys):
    cut = sse([chat_chunk("The answer"), chat_chunk(" is")], done=False)  # the connection closes here
    server.expect_request(CHAT).respond_with_response(stream(cut))
    gen = backend.chat(HI, max_new_tokens=20)
    assert gen.text == "The answer is" and gen.finish_reason == "incomplete"
    assert "cut off after 2 pieces" in capsys.readouterr().err


def test_stream_broken_before_any_text_is_an_error(server, backend):
    server.expect_request(CHAT).respond_with_response(stream(sse([], done=False)))
    from taskdeck import TaskdeckError

    with pytest.raises(TaskdeckError) as exc:
        backend.chat(HI)
    assert "broke off before any text arrived" in one_line(exc)


def test_server_that_honours_json_schema(server, backend):
    from taskdeck.helpers.structured import chat_json

    schema = {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}
    server.expect_request(CHAT).respond_with_response(stream(streamed_answer('{"city": "Paris"}')))
    assert chat_json(backend, HI, schema) == {"city": "Paris"}
    fmt = server.log[0][0].get_json()["response_format"]
    assert fmt == {"type": "json_schema", "json_schema": {"name": "answer", "schema": schema, "strict": False}}


def test_invalid_json_is_asked_again_then_fails_in_one_line(server, backend):
    from taskdeck.helpers.structured import StructuredOutputError, chat_json

    schema = {"type": "object", "properties": {"n": {"type": "integer"}}, "required": ["n"]}
    server.expect_ordered_request(CHAT).respond_with_response(stream(streamed_answer('{"n": "three"}')))
    server.expect_ordered_request(CHAT).respond_with_response(stream(streamed_answer('{"n": 3}')))
    assert chat_json(backend, HI, schema) == {"n": 3}
    retry = server.log[1][0].get_json()["messages"]
    assert "n: 'three' is not of type 'integer'" in retry[-1]["content"]
    server.clear_log()
    server.expect_request(CHAT).respond_with_response(stream(streamed_answer("I cannot do JSON")))
    with pytest.raises(StructuredOutputError) as exc:
        chat_json(backend, HI, schema, retries=2)
    assert one_line(exc) == "the model's answer did not match the schema after 3 tries (no JSON object in the answer)"
    assert len(server.log) == 3


def test_server_that_rejects_response_format_is_asked_plainly(server, backend, capsys):
    from taskdeck.helpers.structured import chat_json

    def rejects_schemas(request):
        if "response_format" in request.get_json():
            return error(400, "response_format is not supported", "invalid_request_error")
        return stream(streamed_answer('{"ok": true}'))

    server.expect_request(CHAT).respond_with_handler(rejects_schemas)
    schema = {"type": "object", "properties": {"ok": {"type": "boolean"}}, "required": ["ok"]}
    assert chat_json(backend, HI, schema) == {"ok": True}
    assert chat_json(backend, HI, schema) == {"ok": True}
    assert len(server.log) == 3  # rejected once, then asked without it from then on
    assert not backend.schema_accepted and "rejects response_format" in capsys.readouterr().err


# ---- through the command line: exit code 2, one line ----
def test_connection_refused_names_the_base_url(tmp_path):
    url = f"http://127.0.0.1:{free_port()}/v1"
    proc = cli(
        "task=chat",
        "backend=openai",
        f"backend.base_url={url}",
        "model=m",
        "prompt=hi",
        "backend.max_retries=0",
        tmp_path=tmp_path,
    )
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1, proc.stderr
    assert proc.stderr.startswith(
        f"error: cannot connect to {url} (connection refused): start the server, "
        "or point backend.base_url (or OPENAI_BASE_URL) at one"
    )


@pytest.mark.parametrize("variable", ["OPENAI_API_KEY", "TEAM_LLM_KEY"])
def test_missing_key_names_the_variable(tmp_path, variable):
    env = {k: "" for k in ("OPENAI_API_KEY", "TEAM_LLM_KEY")}
    proc = cli(
        "task=chat",
        "backend=openai",
        "backend.base_url=https://llm.example.invalid/v1",
        "model=m",
        "prompt=hi",
        f"backend.api_key_env={variable}",
        tmp_path=tmp_path,
        env=env,
    )
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1, proc.stderr
    assert proc.stderr == (
        f"error: backend 'openai' needs an API key for https://llm.example.invalid/v1: set "
        f"{variable} in the environment (or backend.api_key_env=<VARIABLE> to read another one)\n"
    )


def test_base_url_defaults_to_the_environment(server, base_url, tmp_path):
    server.expect_request(CHAT).respond_with_response(stream(streamed_answer("from env")))
    proc = cli(
        "task=chat",
        "backend=openai",
        "model=test-model",
        "prompt=hi",
        tmp_path=tmp_path,
        env={"OPENAI_BASE_URL": base_url, "OPENAI_API_KEY": ""},
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "from env"
    assert server.log[0][0].headers["Authorization"] == "Bearer no-key"  # loopback: no key needed
