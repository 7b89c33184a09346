"""Sentiment end to end: the embedded chat model's label scoring on both backends, and a
dedicated classifier compared with the raw transformers pipeline."""

import json

import pytest

POSITIVE = "I love this! Best coffee in town and the staff were wonderful."
NEGATIVE = "Terrible service. The food was cold and I will never come back."


@pytest.mark.parametrize("text,label", [(POSITIVE, "positive"), (NEGATIVE, "negative")])
def test_default_embedded_model_on_llama_cpp(run_in_process, text, label):
    record, result, run_dir, out = run_in_process("task=sentiment", f"text={text!r}")
    assert record["status"] == "ok"
    assert record["models"] == [{"model": "qwen2.5-coder-1.5b", "backend": "llama_cpp", "capability": "score_labels"}]
    assert result.method == "chat-label-scoring"
    assert result.top.label == label and result.top.score > 0.8
    assert abs(sum(s.score for s in result.labels) - 1) < 1e-3
    # outputs: terminal summary, JSON and Markdown, and result.json
    assert out.startswith(label)
    saved = json.loads((run_dir / "sentiment.json").read_text())
    assert saved["labels"][0]["label"] == label
    assert f"| {label} |" in (run_dir / "sentiment.md").read_text()
    metrics = json.loads((run_dir / "result.json").read_text())["metrics"]
    assert metrics["load_s"] > 0 and metrics["peak_rss_mb"] > 100


def test_custom_labels(run_in_process):
    _, result, _, _ = run_in_process(
        "task=sentiment",
        "text='I am furious, they lost my luggage again'",
        "labels=[happy,angry,bored]",
        "model=qwen2.5-coder-0.5b",
    )
    assert [s.label for s in result.labels][0] == "angry"
    assert {s.label for s in result.labels} == {"happy", "angry", "bored"}


def test_transformers_backend_matches_llama_cpp_on_same_gguf(run_in_process):
    """SmolLM2 (too weak for real answers) proves the plumbing: the dequantized weights on
    transformers score the labels like llama.cpp's quantized kernels do."""
    args = ("task=sentiment", f"text={NEGATIVE!r}", "model=smollm2-135m", "output=json")
    _, on_llama, _, _ = run_in_process(*args, "backend=llama_cpp")
    _, on_hf, _, _ = run_in_process(*args, "backend=transformers", "backend.threads=2")
    a = {s.label: s.score for s in on_llama.labels}
    b = {s.label: s.score for s in on_hf.labels}
    assert a.keys() == b.keys()
    assert max(abs(a[k] - b[k]) for k in a) < 0.05
    assert on_hf.method == "chat-label-scoring"


def test_dedicated_classifier_equals_raw_pipeline(run_in_process, tiny_classifier):
    from transformers import pipeline

    texts = [POSITIVE, NEGATIVE, "ok"]
    raw = pipeline("text-classification", model=str(tiny_classifier), device="cpu")
    for text in texts:
        _, result, _, _ = run_in_process("task=sentiment", f"text={text!r}", f"model={tiny_classifier}")
        assert result.method == "classifier"
        expected = sorted(raw(text, top_k=None), key=lambda d: -d["score"])
        assert [s.label for s in result.labels] == [d["label"] for d in expected]
        for got, want in zip(result.labels, expected):
            assert got.score == pytest.approx(want["score"], abs=1e-6)


def test_classifier_on_llama_cpp_is_refused_with_the_fix(run_in_process, tiny_classifier):
    from taskdeck.errors import CapabilityError

    with pytest.raises(CapabilityError, match="backend=transformers"):
        run_in_process("task=sentiment", "text=hi", f"model={tiny_classifier}", "backend=llama_cpp")
