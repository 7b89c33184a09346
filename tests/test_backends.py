"""Backends on real embedded models: chat with streaming, JSON-schema output, label scoring."""

import json

import pytest

from taskdeck import CHAT, CHAT_JSON, SCORE_LABELS
from taskdeck.engine.session_context import SessionContext
from taskdeck.errors import CapabilityError, MissingDependencyError
from taskdeck.plugins.backends.hf_transformers import TransformersParams
from taskdeck.plugins.backends.llama_cpp import LlamaCppParams

MESSAGES = [
    {"role": "system", "content": "You are a helpful assistant."},
    {"role": "user", "content": "Name three colours."},
]


@pytest.fixture(scope="module")
def llama(session):
    ctx = SessionContext(session, LlamaCppParams(threads=2, n_ctx=1024), quiet=True)
    yield ctx.model("smollm2-135m", needs=[CHAT])[0]
    ctx.close()


def test_llama_cpp_streams_what_it_returns(llama):
    pieces = []
    gen = llama.chat(MESSAGES, max_new_tokens=24, stream=pieces.append)
    assert len(pieces) > 3 and "".join(pieces) == gen.text
    assert gen.completion_tokens == len(pieces) and gen.prompt_tokens > 10
    assert gen.tokens_per_second > 0 and gen.finish_reason in ("stop", "length")


def test_llama_cpp_json_schema_is_enforced(llama):
    schema = {
        "type": "object",
        "properties": {"colours": {"type": "array", "items": {"type": "string"}, "minItems": 1, "maxItems": 3}},
        "required": ["colours"],
    }
    gen = llama.chat(MESSAGES, max_new_tokens=64, json_schema=schema)
    data = json.loads(gen.text)
    assert isinstance(data["colours"], list) and 1 <= len(data["colours"]) <= 3


def test_llama_cpp_greedy_is_deterministic_and_stops(llama):
    a = llama.chat(MESSAGES, max_new_tokens=16).text
    b = llama.chat(MESSAGES, max_new_tokens=16).text
    assert a == b
    stopped = llama.chat(MESSAGES, max_new_tokens=16, stop=[a.split()[1]]).text
    assert len(stopped) < len(a)


@pytest.mark.parametrize(
    "schema",
    [
        None,
        {"type": "object", "properties": {"colours": {"type": "array", "items": {"type": "string"}}}},
        {"type": "object", "properties": {"pick": {"enum": ["teal", "ochre", "mauve"]}, "why": {"type": "string"}}},
    ],
    ids=["text", "json", "enum"],
)
def test_llama_cpp_greedy_path_equals_llama_cpp_python(llama, schema):
    """The greedy path (grammar checked on the chosen token only) writes what llama-cpp-python's
    own sampler chain (grammar over the whole vocabulary) writes, token for token."""
    response_format = {"type": "json_object", "schema": schema} if schema else None
    raw = llama.llm.create_chat_completion(
        messages=MESSAGES, max_tokens=48, temperature=0.0, response_format=response_format
    )
    ours = llama.chat(MESSAGES, max_new_tokens=48, json_schema=schema)
    assert ours.text == raw["choices"][0]["message"]["content"]
    assert ours.completion_tokens == raw["usage"]["completion_tokens"]
    assert ours.finish_reason == raw["choices"][0]["finish_reason"]
    if schema:  # the model's own first choice is prose, so the grammar overruled it
        assert ours.text.startswith("{") and not llama.chat(MESSAGES, max_new_tokens=4).text.startswith("{")


def test_label_scores_are_log_probabilities(llama):
    scores = llama.score_labels(MESSAGES, ["red", "blue", "green"])
    assert set(scores) == {"red", "blue", "green"}
    assert all(s < 0 for s in scores.values())


def test_transformers_chat_streams_on_converted_gguf(session):
    ctx = SessionContext(session, TransformersParams(threads=2), quiet=True)
    backend, how = ctx.model("smollm2-135m", needs=[CHAT])
    assert how == CHAT and SCORE_LABELS in backend.capabilities()
    pieces = []
    gen = backend.chat(MESSAGES, max_new_tokens=12, stream=pieces.append)
    assert "".join(pieces).strip() == gen.text.strip() and gen.completion_tokens <= 12
    ctx.close()


def test_auto_prefers_llama_cpp_for_gguf(session):
    ctx = SessionContext(session, LlamaCppParams(name="auto"), quiet=True)
    from taskdeck.models import resolve

    chosen = ctx._choose(resolve("smollm2-135m", session.packs), [CHAT_JSON], ctx.backend_params)
    assert chosen.name == "llama_cpp"


def test_capability_missing_names_backends_that_have_it(session, tiny_classifier):
    ctx = SessionContext(session, TransformersParams(), quiet=True)
    with pytest.raises(CapabilityError, match="needs one of: chat"):
        ctx.model(str(tiny_classifier), needs=[CHAT])


def test_missing_runtime_names_the_extra(session, monkeypatch):
    from taskdeck.plugins.backends.llama_cpp import LlamaCppBackend

    monkeypatch.setattr(LlamaCppBackend, "missing_package", classmethod(lambda cls: "llama-cpp-python"))
    ctx = SessionContext(session, LlamaCppParams(), quiet=True)
    with pytest.raises(MissingDependencyError, match=r"pip install 'taskdeck\[llama\]'"):
        ctx.model("smollm2-135m", needs=[CHAT])
