"""Quality metrics of ``eval=``: each metric family on hand-checked predictions, the gold
column's discovery, and shards (``shard=k/n``) — no models needed here; the sweeps in
test_comparison.py run them end to end."""

import json

import pytest
from conftest import REPO

from taskdeck.engine.batch import parse_shard, shard_results, shard_rows
from taskdeck.engine.eval_plan import plan
from taskdeck.errors import ConfigError, InputError
from taskdeck.evaluation import TRANSCRIPT, bio_tags, evaluate

EXAMPLES = REPO / "examples" / "data"


def test_classification_accuracy_and_macro_f1():
    gold = ["positive", "negative", "neutral", "positive"]
    preds = [{"label": "Positive"}, {"label": "positive"}, {"label": "neutral"}, {"error": "boom"}]
    m = evaluate("classification", gold, preds)
    # positive: tp 1, fp 1, fn 1 -> 0.5; negative: 0; neutral: 1
    assert m["accuracy"] == 0.5 and m["macro_f1"] == pytest.approx((0.5 + 0 + 1) / 3, abs=1e-4)
    assert m["eval_rows"] == 4 and m["eval_failed"] == 1


def test_entity_f1_is_seqeval_over_word_tags():
    text = "Angela Merkel met Emmanuel Macron in Paris."
    gold = [
        {"start": 0, "end": 13, "entity": "PER"},
        {"start": 18, "end": 33, "entity": "PER"},
        {"start": 37, "end": 42, "entity": "LOC"},
    ]
    assert bio_tags(text, [(0, 13, "PER")]) == ["B-PER", "I-PER", "O", "O", "O", "O", "O", "O"]
    perfect = evaluate("entities", [json.dumps(gold)], [{"text": text, "entities": json.dumps(gold)}])
    assert perfect["entity_f1"] == 1.0
    # the model finds Merkel and Paris (as B-/I-PER tags of a pipeline, a partial span for Macron)
    found = [
        {"start": 0, "end": 13, "entity": "B-PER"},
        {"start": 27, "end": 33, "entity": "PER"},
        {"start": 37, "end": 42, "entity": "LOC"},
    ]
    m = evaluate("entities", [gold], [{"text": text, "entities": json.dumps(found)}])
    assert m["entity_precision"] == pytest.approx(2 / 3, abs=1e-4)
    assert m["entity_recall"] == pytest.approx(2 / 3, abs=1e-4)
    assert m["entity_f1"] == pytest.approx(2 / 3, abs=1e-4)


def test_qa_exact_match_and_token_f1():
    gold = ["Paris", json.dumps(["the Eiffel Tower", "Eiffel Tower"]), "in 1889"]
    preds = [
        {"answers": json.dumps([{"answer": "paris.", "score": 0.9, "start": 0, "end": 5}])},
        {"answers": json.dumps([{"answer": "Tower", "score": 0.5, "start": 0, "end": 5}])},
        {"error": "no answer"},
    ]
    m = evaluate("answers", gold, preds)
    assert m["exact_match"] == pytest.approx(1 / 3, abs=1e-4)
    assert m["f1"] == pytest.approx((1 + 2 / 3 + 0) / 3, abs=1e-4)  # "tower" vs "eiffel tower"


def test_translation_chrf_and_bleu_are_sacrebleu_corpus_scores():
    import sacrebleu

    refs = ["The cat sits on the mat.", "It is raining today."]
    hyps = ["The cat sits on the mat.", "Today it rains."]
    m = evaluate("translation", refs, [{"output_text": h} for h in hyps])
    assert m["chrf"] == pytest.approx(sacrebleu.corpus_chrf(hyps, [refs]).score, abs=1e-3)
    assert m["bleu"] == pytest.approx(sacrebleu.corpus_bleu(hyps, [refs]).score, abs=1e-3)
    assert evaluate("translation", refs, [{"output_text": r} for r in refs])["chrf"] == 100.0


def test_rouge_for_summaries():
    m = evaluate(
        "summary", ["the council approved the new budget"], [{"output_text": "the council approved the new budget"}]
    )
    assert m["rouge1"] == m["rouge2"] == m["rougeL"] == 1.0
    half = evaluate("summary", ["budget approved today"], [{"output_text": "budget rejected"}])
    assert 0 < half["rouge1"] < 1 and half["rouge2"] == 0


def test_wer_for_transcripts():
    """ASR results are ``text`` rows (the batch field is ``audio``); case and punctuation
    are not errors."""
    m = evaluate(
        "transcript",
        ["The meeting starts at nine.", "hello world"],
        [{"audio": "a.wav", "text": "the meeting starts at five"}, {"audio": "b.wav", "text": "Hello, world!"}],
    )
    assert m["wer"] == pytest.approx(1 / 7, abs=1e-4)


def test_gold_column_is_found_or_named(session, tmp_path):
    sentiment = session.tasks.get("sentiment")
    assert plan(sentiment, str(EXAMPLES / "sentiment_eval.csv"), None).column == "label"
    ner = plan(session.tasks.get("ner"), str(EXAMPLES / "ner_eval.jsonl"), None)
    assert ner.column == "entities" and ner.metric.name == "entities" and len(ner.gold) == 30
    odd = tmp_path / "odd.csv"
    odd.write_text("text,stars\ngood,5\n")
    with pytest.raises(InputError, match=r"no gold column \(looked for label, gold, gold_label.*add gold=<column>"):
        plan(sentiment, str(odd), None)
    with pytest.raises(InputError, match="no gold column 'grade'"):
        plan(sentiment, str(odd), "grade")
    assert plan(sentiment, str(odd), "stars").column == "stars"


def test_asr_task_scores_wer_when_present(session):
    if "asr" not in session.tasks.names():
        pytest.skip("no asr task installed")
    assert session.tasks.get("asr").eval_metric is TRANSCRIPT
    assert session.tasks.get("asr").batch_fields[0] == "audio"


def test_shards_cover_every_row_once_in_order():
    for count in (0, 1, 5, 30, 31):
        for n in (1, 2, 3, 7):
            parts = [list(shard_rows(count, (k, n))) for k in range(1, n + 1)]
            assert sum(parts, []) == list(range(count))
    assert parse_shard("2/4") == (2, 4) and parse_shard(None) is None
    for bad in ("0/3", "4/3", "1-3", "a/b"):
        with pytest.raises(ConfigError, match="give k/n with 1 <= k <= n"):
            parse_shard(bad)
    assert shard_results("out/res.jsonl", (2, 4)) == "out/res.part2of4.jsonl"
    assert shard_results("res.jsonl", None) == "res.jsonl" and shard_results(None, (1, 2)) is None


def test_a_task_without_an_eval_metric_says_how_to_declare_one(session):
    with pytest.raises(ConfigError, match="task 'chat' has no eval metric: its class sets eval_metric"):
        plan(session.tasks.get("chat"), str(EXAMPLES / "sentiment_eval.csv"), None)
