"""Zero-shot classification: a tiny NLI model compared with the raw transformers pipeline,
the embedded chat model's fallback (label scoring, yes/no per label), and bad inputs."""

import json

import pytest
from conftest import cli, tiny_bert, used

TEXTS = [
    "The striker scored twice in the final",
    "Parliament passed the budget late at night.",
    "ok",
    "Whisk the eggs with sugar until fluffy, then fold in the flour and bake for twenty minutes.",
]
LABELS = ["sport", "politics", "cooking"]


@pytest.fixture(scope="module")
def tiny_nli(tmp_path_factory, session):
    """A tiny random BERT NLI model (entailment/neutral/contradiction) with a real tokenizer."""
    return tiny_bert(
        session,
        "BertForSequenceClassification",
        tmp_path_factory.mktemp("tiny-nli"),
        labels=["entailment", "neutral", "contradiction"],
    )


@pytest.fixture(scope="module")
def raw_nli(tiny_nli):
    from transformers import pipeline

    return pipeline("zero-shot-classification", model=str(tiny_nli), device="cpu")


def _assert_same(result, expected):
    assert [s.label for s in result.labels] == expected["labels"]
    for got, want in zip(result.labels, expected["scores"]):
        assert got.score == pytest.approx(want, abs=1e-5)


@pytest.mark.parametrize("multi_label", [False, True])
def test_nli_model_equals_raw_pipeline(run_in_process, tiny_nli, raw_nli, multi_label):
    for text in TEXTS:
        record, result, _, _ = run_in_process(
            "task=zero-shot",
            f"text={text!r}",
            "labels=[sport,politics,cooking]",
            f"model={tiny_nli}",
            f"multi_label={str(multi_label).lower()}",
        )
        assert used(record) == [{"model": str(tiny_nli), "backend": "transformers", "capability": "zero_shot"}]
        assert result.method == "nli" and result.multi_label is multi_label
        _assert_same(result, raw_nli(text, candidate_labels=LABELS, multi_label=multi_label))
        if not multi_label:
            assert sum(s.score for s in result.labels) == pytest.approx(1, abs=1e-4)


def test_template_and_single_label_match_the_pipeline(run_in_process, tiny_nli, raw_nli):
    template = "This text is about {}."
    _, result, _, _ = run_in_process(
        "task=zero-shot",
        f"text={TEXTS[1]!r}",
        "labels=[sport,politics]",
        f"model={tiny_nli}",
        f"hypothesis_template={template!r}",
    )
    _assert_same(result, raw_nli(TEXTS[1], candidate_labels=["sport", "politics"], hypothesis_template=template))
    # One label: judged on its own (entailment vs contradiction), as transformers does.
    _, one, _, _ = run_in_process("task=zero-shot", f"text={TEXTS[0]!r}", "labels=[sport]", f"model={tiny_nli}")
    assert one.multi_label is True
    _assert_same(one, raw_nli(TEXTS[0], candidate_labels=["sport"]))
    assert 0 < one.top.score < 1


def test_batch_input_matches_the_pipeline_in_input_order(run_in_process, tiny_nli, raw_nli, tmp_path):
    path = tmp_path / "texts.txt"
    path.write_text("\n".join(TEXTS) + "\n")
    record, result, run_dir, _ = run_in_process(
        "task=zero-shot",
        f"input={path}",
        "labels=[sport,politics,cooking]",
        f"model={tiny_nli}",
        "backend=transformers",
        "backend.batch_size=4",
        "output=json",
    )
    assert record["status"] == "ok" and result.ok == len(TEXTS)
    rows = [json.loads(ln) for ln in (run_dir / "results.jsonl").read_text().splitlines()]
    assert [r["text"] for r in rows] == TEXTS
    for row, text in zip(rows, TEXTS):
        want = raw_nli(text, candidate_labels=LABELS)
        assert [d["label"] for d in json.loads(row["labels"])] == want["labels"]
        assert row["label"] == want["labels"][0]
        assert row["score"] == pytest.approx(want["scores"][0], abs=1e-5)


def test_chat_fallback_single_and_multi_label(run_in_process):
    record, result, run_dir, out = run_in_process(
        "task=zero-shot", f"text={TEXTS[0]!r}", "labels=[politics,sport,science,cooking]"
    )
    assert record["models"] == [{"model": "qwen2.5-coder-1.5b", "backend": "llama_cpp", "capability": "score_labels"}]
    assert result.method == "chat-label-scoring" and result.multi_label is False
    assert result.top.label == "sport" and result.top.score > 0.5
    assert sum(s.score for s in result.labels) == pytest.approx(1, abs=1e-3)
    assert out.startswith("sport")
    assert json.loads((run_dir / "zero-shot.json").read_text())["labels"][0]["label"] == "sport"

    text = "The new stadium was paid for with a controversial tax increase approved by parliament"
    _, multi, _, _ = run_in_process(
        "task=zero-shot", f"text={text!r}", "labels=[politics,science,cooking]", "multi_label=true"
    )
    scores = {s.label: s.score for s in multi.labels}
    assert multi.method == "chat-yes-no-per-label" and multi.multi_label is True
    assert multi.top.label == "politics" and scores["politics"] > 0.5
    assert scores["cooking"] < 0.5 and scores["science"] < 0.5


def test_missing_labels_is_one_line_on_the_cli(tmp_path):
    proc = cli("task=zero-shot", "text=hello", tmp_path=tmp_path)
    assert proc.returncode == 2
    assert proc.stderr.strip() == "error: zero-shot needs candidate labels: add labels=[a,b,...]"
    assert "Traceback" not in proc.stderr and proc.stdout == ""


@pytest.mark.parametrize(
    "overrides,match",
    [
        (("text=' '", "labels=[a,b]"), "text= is empty"),
        (("text=hi", "labels=[a,b]", "hypothesis_template=about"), "hypothesis_template needs {}"),
    ],
)
def test_bad_inputs_fail_before_loading(run_in_process, overrides, match):
    from taskdeck.errors import InputError

    with pytest.raises(InputError, match=match) as err:
        run_in_process("task=zero-shot", *overrides, "model=/nonexistent/model")
    assert "\n" not in str(err.value)


def test_classifier_without_entailment_is_refused(run_in_process, tiny_classifier):
    from taskdeck.errors import CapabilityError

    with pytest.raises(CapabilityError, match="zero_shot") as err:
        run_in_process("task=zero-shot", "text=hi", "labels=[a,b]", f"model={tiny_classifier}")
    assert "\n" not in str(err.value)
