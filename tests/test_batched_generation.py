"""Batched greedy generation on llama.cpp (``chat_batch``): the same answers as one at a time.

SmolLM2's Q4_1 weights multiply a row the same whatever the batch, so its answers must be
equal token for token; the 0.5B Qwen's repacked Q4_K weights can tip near ties, so its
prompts are ones where both agree (``batched.py`` says why)."""

import dataclasses
import json

import pytest
from conftest import cli

from taskdeck import CHAT, InputError
from taskdeck.engine.session_context import SessionContext
from taskdeck.helpers.structured import validate
from taskdeck.plugins.backends.llama_cpp import LlamaCppParams

SYSTEM = {"role": "system", "content": "You are a helpful assistant."}
QUESTIONS = [
    "Say hi.",
    "Name three colours.",
    "Write a haiku about the sea.",
    "What is 17 times 23? Explain step by step, then give the result on its own line.",
    "Tell me a short story about a robot who learns to paint, in five sentences, with a happy ending.",
    "List five prime numbers.",
]
LIMITS = [8, 40, 24, 40, 16, 40]  # some stop, some run out at different steps


def conversation(question: str) -> list[dict]:
    return [SYSTEM, {"role": "user", "content": question}]


def backend(session, model: str, n_ctx: int, n_parallel: int):
    ctx = SessionContext(session, LlamaCppParams(threads=1, n_ctx=n_ctx, n_parallel=n_parallel), quiet=True)
    return ctx, ctx.model(model, needs=[CHAT]).backend


@pytest.fixture(scope="module")
def smollm2(session):
    ctx, llama = backend(session, "smollm2-135m", 1024, 4)
    yield llama
    ctx.close()


def answers(gens) -> list[tuple]:
    return [(g.text, g.completion_tokens, g.prompt_tokens, g.finish_reason) for g in gens]


def test_batched_answers_equal_one_at_a_time_with_refill(smollm2):
    """Six prompts of different lengths and limits on 1, 2 and 4 slots: more prompts than
    slots, so finished slots take the next prompt, and the last ones move down."""
    convos = [conversation(q) for q in QUESTIONS]
    alone = answers([smollm2.chat(c, max_new_tokens=n) for c, n in zip(convos, LIMITS)])
    assert {a[3] for a in alone} == {"stop", "length"}
    for n_parallel in (1, 2, 4):
        smollm2.params = dataclasses.replace(smollm2.params, n_parallel=n_parallel)
        finished: list[int] = []
        gens = smollm2.chat_batch(convos, max_new_tokens=LIMITS, temperature=0.0, on_done=finished.append)
        assert answers(gens) == alone, f"n_parallel={n_parallel}"
        assert sorted(finished) == list(range(len(convos)))
        if n_parallel > 1:  # decoded together, in a context of n_parallel slots
            assert smollm2._batch_context.slots == n_parallel
            assert finished != sorted(finished)  # short answers finished first
            speeds = {round(g.tokens_per_second, 6) for g in gens}  # the batch's wall time shared by tokens
            assert len(speeds) == 1 and speeds.pop() > 0


def test_the_window_ends_a_sequence_as_it_ends_one_alone(session):
    """A 256-token window: prompts of about 180 tokens (a long shared system prompt) are cut
    by the window before their limit (or stop), at the same token as alone."""
    ctx, small = backend(session, "smollm2-135m", 256, 3)
    try:
        notes = {"role": "system", "content": "Notes: the market was busy and the weather mild. " * 14}
        convos = [[notes, {"role": "user", "content": q}] for q in QUESTIONS[2:5]]
        alone = answers([small.chat(c, max_new_tokens=120) for c in convos])
        assert any(a[3] == "length" and a[1] + a[2] == 256 for a in alone)  # the window, not the limit
        assert answers(small.chat_batch(convos, max_new_tokens=120)) == alone
    finally:
        ctx.close()


def test_a_prompt_too_long_fails_in_one_line(smollm2):
    long = conversation("word " * 1200)
    with pytest.raises(InputError) as alone:
        smollm2.chat(long)
    with pytest.raises(InputError) as together:
        smollm2.chat_batch([conversation("Say hi."), long], max_new_tokens=4)
    assert str(together.value) == str(alone.value) and "\n" not in str(together.value)
    assert "does not fit the model's 1024-token window" in str(together.value)


PERSON = {
    "type": "object",
    "properties": {"name": {"type": "string"}, "age": {"type": "integer"}},
    "required": ["name", "age"],
}
COLOURS = {
    "type": "object",
    "properties": {"colours": {"type": "array", "items": {"type": "string"}, "minItems": 3, "maxItems": 3}},
    "required": ["colours"],
}
CITY = {
    "type": "object",
    "properties": {"city": {"type": "string"}, "country": {"type": "string"}},
    "required": ["city", "country"],
}


def test_each_sequence_follows_its_own_schema(session):
    """The 0.5B model, five requests on four slots, each with its own schema (requests whose
    answers do not tip with the batch: see the module's docstring)."""
    asks = [
        ("Invent a person called Ada who is 36.", PERSON),
        ("Name three colours.", COLOURS),
        ("Give three colours of a rainbow.", COLOURS),
        ("Which city is the capital of Italy? Answer in JSON.", CITY),
        ("What are the colours of the German flag?", COLOURS),
    ]
    ctx, qwen = backend(session, "qwen2.5-coder-0.5b", 1024, 4)
    try:
        convos = [[{"role": "user", "content": q}] for q, _ in asks]
        schemas = [schema for _, schema in asks]
        gens = qwen.chat_batch(convos, max_new_tokens=40, json_schema=schemas)
        for gen, schema in zip(gens, schemas):
            assert validate(json.loads(gen.text), schema) is None and gen.finish_reason == "stop"
        alone = [qwen.chat(c, max_new_tokens=40, json_schema=s) for c, s in zip(convos, schemas)]
        assert answers(gens) == answers(alone)
    finally:
        ctx.close()


def test_a_chat_batch_on_the_cli_answers_as_one_at_a_time(tmp_path):
    rows = tmp_path / "prompts.jsonl"
    rows.write_text("".join(json.dumps({"prompt": q}) + "\n" for q in QUESTIONS))
    texts = {}
    for n_parallel in (4, 1):
        proc = cli(
            "task=chat",
            f"input={rows}",
            "model=smollm2-135m",
            "temperature=0",
            "max_new_tokens=32",
            "backend=llama_cpp",
            "backend.threads=1",
            f"backend.n_parallel={n_parallel}",
            tmp_path=tmp_path / str(n_parallel),
        )
        assert proc.returncode == 0, proc.stderr
        run = tmp_path / str(n_parallel) / "run"
        assert json.loads((run / "result.json").read_text())["result"]["ok"] == len(QUESTIONS)
        records = [json.loads(line) for line in (run / "results.jsonl").read_text().splitlines()]
        texts[n_parallel] = [(r["index"], r["text"], r["completion_tokens"]) for r in records]
    assert texts[4] == texts[1] and all(text for _, text, _ in texts[1])


def test_greedy_synthetic_batches_are_asked_together(run_in_process, tmp_path):
    """temperatures=[0]: the batches the count needs go in one chat_batch; the records are
    those that one request at a time writes."""
    args = (
        "task=synthetic",
        "kind='support tickets for an internet provider'",
        "fields=[subject:str,urgency:low|high]",
        "count=6",
        "batch_size=2",
        "temperatures=[0]",
        "tokens_per_record=40",
        "dedup=false",
        "model=smollm2-135m",
        "backend=llama_cpp",
        "backend.threads=1",
    )
    written = {}
    for n_parallel in (3, 1):
        record = run_in_process(*args, f"backend.n_parallel={n_parallel}", f"out={tmp_path / f'{n_parallel}.jsonl'}")[0]
        written[n_parallel] = (tmp_path / f"{n_parallel}.jsonl").read_text(), record["result"]["quality"]["batches"]
    assert written[3] == written[1] and written[1][0].strip()


@pytest.mark.parametrize(
    "task, extra",
    [("translation", ("target=French", "max_new_tokens=48")), ("summarization", ("length=short", "max_new_tokens=40"))],
)
def test_chat_model_batches_decode_every_rows_calls_together(run_in_process, tmp_path, task, extra):
    """input=file on a chat model: the calls of every row (chunks, partial summaries) go in one
    chat_batch per level, each row's answer as with one request at a time."""
    rows = tmp_path / "rows.txt"
    long = " ".join(f"Team {i % 5} met on day {i} and agreed to review the budget of project {i}." for i in range(40))
    rows.write_text(f"Good morning, how are you?\n{long}\nThe weather is mild today.\n")
    out = {}
    for n_parallel in (4, 1):
        _, result, run_dir, _ = run_in_process(
            f"task={task}",
            f"input={rows}",
            *extra,
            "model=smollm2-135m",
            "backend=llama_cpp",
            "backend.n_ctx=512",
            "backend.threads=1",
            f"backend.n_parallel={n_parallel}",
        )
        assert result.ok == 3
        records = [json.loads(line) for line in (run_dir / "results.jsonl").read_text().splitlines()]
        out[n_parallel] = [(r.get("output_text", r["text"]), r["method"]) for r in records]  # text: as the input
    assert out[4] == out[1] and all(text for text, _ in out[1])
    assert any("chunks" in method for _, method in out[1])  # the long row was cut
