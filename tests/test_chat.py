"""task=chat: streaming, conversations, generation parameters, equality with transformers."""

import json

import pytest
from conftest import cli


def test_chat_streams_and_reports_speed(tmp_path):
    proc = cli(
        "task=chat",
        "prompt=Name the capital of France in one word.",
        "temperature=0",
        "max_new_tokens=8",
        tmp_path=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    assert "Paris" in proc.stdout
    assert "tokens/s]" in proc.stderr
    record = json.loads((tmp_path / "run" / "result.json").read_text())
    m = record["metrics"]
    assert m["completion_tokens"] >= 1 and m["tokens_per_s"] > 0 and m["time_to_first_token_s"] > 0
    saved = json.loads((tmp_path / "run" / "chat.json").read_text())
    assert saved["text"].strip() == proc.stdout.strip()


def test_conversation_file_is_remembered(run_in_process, tmp_path):
    convo = tmp_path / "convo.json"
    convo.write_text(
        json.dumps(
            [
                {"role": "user", "content": "My name is Ada and I live in Oslo."},
                {"role": "assistant", "content": "Nice to meet you, Ada!"},
            ]
        )
    )
    _, result, _, _ = run_in_process(
        "task=chat", f"conversation={convo}", "prompt='Which city do I live in?'", "temperature=0", "max_new_tokens=16"
    )
    assert "Oslo" in result.text


def test_bad_conversation_file_is_one_line(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps([{"role": "robot", "content": "hi"}]))
    proc = cli("task=chat", f"conversation={bad}", tmp_path=tmp_path)
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1
    assert "message 1: needs role (system/user/assistant)" in proc.stderr


def test_greedy_is_deterministic_and_stop_strings_cut(run_in_process):
    args = (
        "task=chat",
        "prompt='Count from one to ten in words, separated by commas.'",
        "temperature=0",
        "max_new_tokens=40",
        "model=qwen2.5-coder-0.5b",
    )
    _, a, _, _ = run_in_process(*args)
    _, b, _, _ = run_in_process(*args)
    assert a.text == b.text and "five" in a.text.lower()
    word = a.text.split(",")[4].strip()  # "five", as the model spells it
    _, cut, _, _ = run_in_process(*args, f"stop=[{word}]")
    assert "six" not in cut.text.lower() and len(cut.text) < len(a.text)


def test_seeded_sampling_repeats(run_in_process):
    args = (
        "task=chat",
        "prompt='Invent a name for a cat.'",
        "temperature=1.0",
        "max_new_tokens=12",
        "model=smollm2-135m",
        "seed=7",
    )
    _, a, _, _ = run_in_process(*args)
    _, b, _, _ = run_in_process(*args)
    assert a.text == b.text


@pytest.mark.parametrize("extra", [[], ["num_beams=3"], ["repetition_penalty=1.3", "top_k=5"]])
def test_chat_equals_raw_text_generation_pipeline(run_in_process, tiny_chat_model, extra):
    from transformers import pipeline

    messages = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hello there"}]
    _, result, _, _ = run_in_process(
        "task=chat",
        "system='Be brief.'",
        "prompt='Hello there'",
        f"model={tiny_chat_model}",
        "do_sample=false",
        "max_new_tokens=12",
        *extra,
    )
    kwargs = dict(kv.split("=") for kv in extra)
    kwargs = {k: (float(v) if "." in v else int(v)) for k, v in kwargs.items()}
    raw = pipeline("text-generation", model=str(tiny_chat_model), device="cpu")
    expected = raw(messages, max_new_tokens=12, do_sample=False, **kwargs)[0]["generated_text"][-1]["content"]
    assert result.text == expected
