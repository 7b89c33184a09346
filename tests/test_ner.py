"""NER: a tiny token classifier compared with the raw transformers pipeline for every
aggregation strategy, the embedded chat model's JSON fallback with located spans, locating
listed strings in the text, and bad inputs."""

import json

import pytest
from conftest import cli, tiny_bert, used

STRATEGIES = ["none", "simple", "first", "average", "max"]
TEXTS = [
    "Maria Lopez flew from Paris to Berlin to meet Acme Corp.",
    "Zoë  Müller visited São Paulo with the Rolling Stones in 1969!",
    "ok",
]
SENTENCE = "Maria Lopez flew from Paris to Berlin to meet Acme Corp."


@pytest.fixture(scope="module")
def tiny_tagger(tmp_path_factory, session):
    """A tiny random BERT token classifier (BIO tags) with a real tokenizer (uncased WordPiece)."""
    return tiny_bert(
        session,
        "BertForTokenClassification",
        tmp_path_factory.mktemp("tiny-tagger"),
        labels=["O", "B-PER", "I-PER", "B-LOC", "I-LOC", "B-ORG", "I-ORG"],
    )


@pytest.fixture(scope="module")
def raw_tagger(tiny_tagger):
    from transformers import pipeline

    return pipeline("token-classification", model=str(tiny_tagger), device="cpu")


def _assert_same(result, text, expected):
    assert [(e.entity, e.start, e.end) for e in result.entities] == [
        (d.get("entity_group", d.get("entity")), d["start"], d["end"]) for d in expected
    ]
    for got, want in zip(result.entities, expected):
        assert got.score == pytest.approx(float(want["score"]), abs=1e-5)
        assert got.word == text[got.start : got.end]


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_token_classifier_equals_raw_pipeline(run_in_process, tiny_tagger, raw_tagger, strategy):
    found = 0
    for text in TEXTS:
        record, result, _, _ = run_in_process(
            "task=ner", f"text={text!r}", f"model={tiny_tagger}", f"aggregation_strategy={strategy}", "output=json"
        )
        assert used(record) == [{"model": str(tiny_tagger), "backend": "transformers", "capability": "tag"}]
        assert result.method == "token-classifier"
        _assert_same(result, text, raw_tagger(text, aggregation_strategy=strategy))
        found += len(result.entities)
    assert found > 3  # the random model does tag something, so the comparison is not vacuous


def test_words_are_source_spans_not_detokenized(run_in_process, tiny_tagger, raw_tagger):
    text = TEXTS[1]  # the uncased tokenizer strips accents: the pipeline says "zoe", the text "Zoë"
    _, result, run_dir, _ = run_in_process(
        "task=ner", f"text={text!r}", f"model={tiny_tagger}", "aggregation_strategy=first"
    )
    raw = raw_tagger(text, aggregation_strategy="first")
    assert any(d["word"] != text[d["start"] : d["end"]] for d in raw)
    assert all(e.word == text[e.start : e.end] for e in result.entities)
    saved = json.loads((run_dir / "ner.json").read_text())
    assert [e["word"] for e in saved["entities"]] == [e.word for e in result.entities]


def test_long_text_is_read_in_windows_not_cut(run_in_process, tiny_tagger, raw_tagger):
    text = " ".join([SENTENCE] * 60)  # ~900 tokens: more than the model's 512
    _, result, _, _ = run_in_process("task=ner", f"text={text!r}", f"model={tiny_tagger}")
    _assert_same(result, text, raw_tagger(text, aggregation_strategy="simple", stride=128))
    assert max(e.end for e in result.entities) > len(text) * 0.9  # the end of the text was tagged
    from taskdeck.errors import InputError

    with pytest.raises(InputError, match="aggregation_strategy=simple"):
        run_in_process("task=ner", f"text={text!r}", f"model={tiny_tagger}", "aggregation_strategy=none")


def test_batch_input_matches_the_pipeline_in_input_order(run_in_process, tiny_tagger, raw_tagger, tmp_path):
    path = tmp_path / "texts.jsonl"
    path.write_text("".join(json.dumps({"text": t}) + "\n" for t in [*TEXTS, ""]))
    record, result, run_dir, _ = run_in_process(
        "task=ner",
        f"input={path}",
        f"model={tiny_tagger}",
        "backend=transformers",
        "backend.batch_size=2",
        "output=json",
    )
    assert record["status"] == "ok" and result.ok == len(TEXTS) and result.failed == 1
    rows = [json.loads(ln) for ln in (run_dir / "results.jsonl").read_text().splitlines()]
    assert [r["text"] for r in rows] == [*TEXTS, ""]
    assert rows[-1]["error"].startswith("text= is empty")
    for row, text in zip(rows, TEXTS):
        got = json.loads(row["entities"])
        want = raw_tagger(text, aggregation_strategy="simple")
        assert [(e["entity"], e["start"], e["end"]) for e in got] == [
            (d["entity_group"], d["start"], d["end"]) for d in want
        ]
        assert [e["score"] for e in got] == pytest.approx([float(d["score"]) for d in want], abs=1e-5)


def test_chat_fallback_finds_people_and_places(run_in_process):
    record, result, run_dir, out = run_in_process("task=ner", f"text={SENTENCE!r}")
    assert record["models"] == [{"model": "qwen2.5-coder-1.5b", "backend": "llama_cpp", "capability": "chat"}]
    assert result.method == "chat-json"
    found = {(e.word, e.entity) for e in result.entities}
    assert ("Maria Lopez", "PER") in found
    assert {("Paris", "LOC"), ("Berlin", "LOC")} <= found
    for e in result.entities:
        assert SENTENCE[e.start : e.end] == e.word
        assert e.entity in {"PER", "ORG", "LOC", "MISC"}
        assert 0 < e.score <= 1
    assert [e.start for e in result.entities] == sorted(e.start for e in result.entities)
    assert "Maria Lopez\tPER" in out
    assert json.loads((run_dir / "ner.json").read_text())["method"] == "chat-json"


def test_locate_places_listed_strings_in_the_text():
    from taskdeck.plugins.tasks.ner import locate

    text = "Paris Hilton left paris for PARIS, then Parisians cheered Paris again."
    spans = locate(text, [("Paris", "LOC"), ("Paris Hilton", "PER"), ("Atlantis", "LOC"), ("Paris", "LOC")])
    assert [(d["word"], d["entity"], d["start"]) for d in spans] == [
        ("Paris Hilton", "PER", 0),  # longest first, so "Paris" does not take its first word
        ("Paris", "LOC", 58),
    ]  # every case-sensitive whole-word occurrence; "Parisians" is not one;
    # "Atlantis" is not in the text: dropped
    lower = locate(text, [("PARIS", "LOC")])
    assert [d["start"] for d in lower] == [28]  # the exact-case occurrence wins over the others
    nocase = locate("she met ACME corp and acme Corp", [("Acme Corp", "ORG")])
    assert [d["word"] for d in nocase] == ["ACME corp", "acme Corp"]  # no exact match: any case
    inside = locate("東京都に住む", [("東京", "LOC")])  # no spaces between words: parts of words count
    assert [(d["start"], d["end"]) for d in inside] == [(0, 2)]
    assert all(text[d["start"] : d["end"]] == d["word"] for d in spans + lower)


def test_unknown_aggregation_strategy_is_one_line_on_the_cli(tmp_path):
    proc = cli("task=ner", "text=hi", "aggregation_strategy=mean", tmp_path=tmp_path)
    assert proc.returncode == 2
    assert proc.stderr.strip() == (
        "error: aggregation_strategy=mean is not allowed: use one of none, simple, first, average, max"
    )
    assert "Traceback" not in proc.stderr


def test_empty_text_and_classifier_model_fail_with_one_line(run_in_process, tiny_classifier):
    from taskdeck.errors import CapabilityError, InputError

    with pytest.raises(InputError, match="text= is empty") as err:
        run_in_process("task=ner", "text='  '", "model=/nonexistent/model")
    assert "\n" not in str(err.value)
    with pytest.raises(CapabilityError, match="tag") as err:
        run_in_process("task=ner", "text=hi", f"model={tiny_classifier}")
    assert "\n" not in str(err.value)
