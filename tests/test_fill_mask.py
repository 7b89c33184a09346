"""task=fill-mask: a tiny random masked LM (real tokenizer) against the raw transformers
pipeline, the batch path, the embedded chat model proposing and scoring words, and
one-line errors."""

import json

import pytest
from conftest import cli, tiny_bert, used

TEXTS = [
    "Paris is the [MASK] of France.",
    "I drink a cup of <mask> every morning.",
    "The [mask] sat on the mat, and it was a long day for everyone involved in the story.",
]
# The chat model's answers are the same with 1 thread and faster on a busy machine.
CHAT = ("backend.threads=1",)


@pytest.fixture(scope="module")
def tiny_mlm(tmp_path_factory, session):
    """A tiny random BERT masked LM with all-MiniLM-L6-v2's WordPiece tokenizer."""
    return tiny_bert(session, "BertForMaskedLM", tmp_path_factory.mktemp("tiny-mlm"))


@pytest.fixture(scope="module")
def raw_pipeline(tiny_mlm):
    from transformers import pipeline

    return pipeline("fill-mask", model=str(tiny_mlm), device="cpu")


def _as_model_mask(text):
    return text.replace("<mask>", "[MASK]").replace("[mask]", "[MASK]")


def _same(result, expected):
    assert [c.token for c in result.candidates] == [d["token_str"] for d in expected]
    assert [c.sequence for c in result.candidates] == [d["sequence"] for d in expected]
    for got, want in zip(result.candidates, expected):
        assert got.score == pytest.approx(want["score"], abs=1e-6)


@pytest.mark.parametrize("text", TEXTS)
def test_dedicated_model_equals_raw_pipeline(run_in_process, tiny_mlm, raw_pipeline, text):
    record, result, run_dir, out = run_in_process("task=fill-mask", f"text={text!r}", f"model={tiny_mlm}", "top_k=4")
    assert record["status"] == "ok"
    assert used(record) == [{"model": str(tiny_mlm), "backend": "transformers", "capability": "fill_mask"}]
    assert result.text == text
    _same(result, raw_pipeline(_as_model_mask(text), top_k=4))
    assert out.splitlines()[0].split("\t")[0] == result.candidates[0].token
    saved = json.loads((run_dir / "fill-mask.json").read_text())
    assert [c["token"] for c in saved["candidates"]] == [c.token for c in result.candidates]


def test_targets_equal_raw_pipeline(run_in_process, tiny_mlm, raw_pipeline):
    text = TEXTS[0]
    _, result, _, _ = run_in_process(
        "task=fill-mask", f"text={text!r}", f"model={tiny_mlm}", "targets=[capital,city,heart]"
    )
    _same(result, raw_pipeline(text, targets=["capital", "city", "heart"], top_k=5))
    assert sorted(c.token for c in result.candidates) == ["capital", "city", "heart"]
    _, two, _, _ = run_in_process(
        "task=fill-mask", f"text={text!r}", f"model={tiny_mlm}", "targets=[capital,city,heart]", "top_k=2"
    )
    assert two.candidates == result.candidates[:2]


def test_batch_matches_single_runs(run_in_process, tiny_mlm, tmp_path):
    path = tmp_path / "texts.txt"
    path.write_text("\n".join([TEXTS[2], "no mask here", TEXTS[0], TEXTS[1]]) + "\n")
    _, result, run_dir, _ = run_in_process(
        "task=fill-mask",
        f"input={path}",
        f"model={tiny_mlm}",
        "top_k=3",
        "backend=transformers",
        "backend.batch_size=2",
    )
    assert result.ok == 3 and result.failed == 1
    rows = [json.loads(ln) for ln in (run_dir / "results.jsonl").read_text().splitlines()]
    assert "needs exactly one [MASK]" in rows[1]["error"]
    for row in (rows[0], rows[2], rows[3]):
        _, single, _, _ = run_in_process("task=fill-mask", f"text={row['text']!r}", f"model={tiny_mlm}", "top_k=3")
        batched = json.loads(row["candidates"])
        assert [c["token"] for c in batched] == [c.token for c in single.candidates]
        assert [c["score"] for c in batched] == pytest.approx([c.score for c in single.candidates], abs=1e-5)


def test_default_chat_model_proposes_and_scores_words(run_in_process):
    text = "The capital of France is [MASK]."
    record, result, _, out = run_in_process("task=fill-mask", f"text={text!r}", *CHAT)
    assert record["models"] == [{"model": "qwen2.5-coder-1.5b", "backend": "llama_cpp", "capability": "chat"}]
    tokens = [c.token for c in result.candidates]
    assert "Paris" in tokens and 1 <= len(tokens) <= 5 and len(set(tokens)) == len(tokens)
    scores = [c.score for c in result.candidates]
    assert scores == sorted(scores, reverse=True) and sum(scores) == pytest.approx(1.0, abs=1e-3)
    assert all(c.sequence == text.replace("[MASK]", c.token) for c in result.candidates)
    assert out.startswith(result.candidates[0].token)


def test_default_chat_model_scores_the_targets(run_in_process):
    _, result, _, _ = run_in_process(
        "task=fill-mask", "text='The capital of France is <mask>.'", "targets=[London,Paris,Berlin]", "top_k=2", *CHAT
    )
    assert [c.token for c in result.candidates][0] == "Paris" and len(result.candidates) == 2
    assert result.candidates[0].score > 0.5


def test_text_without_a_mask_is_one_line(tmp_path):
    proc = cli("task=fill-mask", "text=Paris is the capital of France.", tmp_path=tmp_path)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr and proc.stdout == ""
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: text= needs exactly one [MASK]"), proc.stderr
    assert "'text=\"Paris is the [MASK] of France.\"'" in lines[0]  # an example that survives the shell


def test_two_masks_and_empty_text(run_in_process, tiny_mlm):
    from taskdeck.errors import InputError

    with pytest.raises(InputError, match=r"exactly one \[MASK\] .*, found 2"):
        run_in_process("task=fill-mask", "text='[MASK] is the [MASK] of France.'", f"model={tiny_mlm}")
    with pytest.raises(InputError, match="text= is empty"):
        run_in_process("task=fill-mask", "text=' '", f"model={tiny_mlm}")
