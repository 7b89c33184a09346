"""Quality metrics for ``eval=``: one :class:`taskdeck.Metric` per family of task outputs.

A task names its metric with ``eval_metric = CLASSIFICATION`` (or another below); the engine
(:mod:`taskdeck.scoring`) finds the gold column and calls the metric's ``score``.

| metric | tasks | scores | library |
|---|---|---|---|
| ``CLASSIFICATION`` | sentiment, text-classification, zero-shot | accuracy, macro-F1 | — |
| ``ENTITIES`` | ner | entity-level precision / recall / F1 | seqeval |
| ``ANSWERS`` | qa | exact match, F1 (SQuAD normalisation) | — |
| ``TRANSLATION`` | translation | chrF, BLEU | sacrebleu |
| ``SUMMARY`` | summarization | ROUGE-1/2/L F-measure | rouge-score |
| ``TRANSCRIPT`` | asr | WER | jiwer |

Rows that failed count as wrong (an empty prediction).
"""

from __future__ import annotations

import json
import re
import string
from collections import Counter
from collections.abc import Callable, Sequence
from typing import Any, Optional

from taskdeck.scoring import Metric

# ---- predictions from flat rows ----


def _decoded(value: Any) -> Any:
    if isinstance(value, str) and value[:1] in "[{":
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def _main_text(rec: dict[str, Any]) -> str:
    """A text task's output: ``output_text`` where the output field shares an input's name."""
    for key in ("output_text", "text", "summary", "translation", "answer"):
        if isinstance(rec.get(key), str) and not rec.get("error"):
            return rec[key]
    return ""


# ---- classification ----


def _norm_label(value: Any) -> str:
    return str(value if value is not None else "").strip().lower()


def classification(gold: list, records: list[dict]) -> dict[str, float]:
    truth = [_norm_label(g) for g in gold]
    pred = ["" if r.get("error") else _norm_label(r.get("label")) for r in records]
    accuracy = sum(t == p for t, p in zip(truth, pred)) / len(truth)
    f1s = []
    for label in sorted(set(truth) | (set(pred) - {""})):
        tp = sum(t == label and p == label for t, p in zip(truth, pred))
        fp = sum(t != label and p == label for t, p in zip(truth, pred))
        fn = sum(t == label and p != label for t, p in zip(truth, pred))
        f1s.append(2 * tp / (2 * tp + fp + fn) if tp else 0.0)
    return {"accuracy": accuracy, "macro_f1": sum(f1s) / len(f1s)}


# ---- entities (seqeval over BIO tags of word tokens) ----

_TOKEN = re.compile(r"\w+|[^\w\s]")


def _spans(value: Any) -> list[tuple[int, int, str]]:
    """``[{"start", "end", "entity"|"label"|"type"}, ...]`` (or JSON of it) → spans."""
    spans = []
    for e in _decoded(value) or []:
        if not isinstance(e, dict):
            continue
        label = e.get("entity", e.get("label", e.get("type", e.get("entity_group", ""))))
        label = str(label).upper().removeprefix("B-").removeprefix("I-")
        spans.append((int(e["start"]), int(e["end"]), label))
    return spans


def bio_tags(text: str, spans: list[tuple[int, int, str]]) -> list[str]:
    """One tag per word token of ``text``: B-/I- where a token overlaps a span, else O."""
    tags = []
    previous: Optional[tuple] = None
    for m in _TOKEN.finditer(text):
        span = next((s for s in spans if m.start() < s[1] and m.end() > s[0]), None)
        if span is None:
            tags.append("O")
        else:
            tags.append(("I-" if span == previous else "B-") + span[2])
        previous = span
    return tags


def entities(gold: list, records: list[dict]) -> dict[str, float]:
    seqeval = ENTITIES.check()
    truth, pred = [], []
    for g, r in zip(gold, records):
        text = str(r.get("text", ""))
        truth.append(bio_tags(text, _spans(g)))
        pred.append(bio_tags(text, [] if r.get("error") else _spans(r.get("entities"))))
    return {
        "entity_precision": seqeval.precision_score(truth, pred, zero_division=0),
        "entity_recall": seqeval.recall_score(truth, pred, zero_division=0),
        "entity_f1": seqeval.f1_score(truth, pred, zero_division=0),
    }


# ---- extractive QA (SQuAD's exact match and token F1) ----


def _norm_answer(text: str) -> list[str]:
    text = "".join(ch for ch in str(text).lower() if ch not in set(string.punctuation))
    text = re.sub(r"\b(a|an|the)\b", " ", text)
    return text.split()


def _gold_answers(value: Any) -> list[str]:
    value = _decoded(value)
    if isinstance(value, dict):  # SQuAD: {"text": [...], "answer_start": [...]}
        value = value.get("text", [])
    if isinstance(value, list):
        return [str(v.get("text", v.get("answer", "")) if isinstance(v, dict) else v) for v in value] or [""]
    return [str(value if value is not None else "")]


def _token_f1(pred: list[str], truth: list[str]) -> float:
    if not pred or not truth:
        return float(pred == truth)
    common = sum((Counter(pred) & Counter(truth)).values())
    if not common:
        return 0.0
    p, r = common / len(pred), common / len(truth)
    return 2 * p * r / (p + r)


def answers(gold: list, records: list[dict]) -> dict[str, float]:
    em = f1 = 0.0
    for g, r in zip(gold, records):
        found = [] if r.get("error") else _decoded(r.get("answers")) or []
        pred = _norm_answer(found[0]["answer"] if found and isinstance(found[0], dict) else "")
        truths = [_norm_answer(t) for t in _gold_answers(g)]
        em += max(float(pred == t) for t in truths)
        f1 += max(_token_f1(pred, t) for t in truths)
    return {"exact_match": em / len(gold), "f1": f1 / len(gold)}


# ---- text outputs ----


def translation(gold: list, records: list[dict]) -> dict[str, float]:
    sacrebleu = TRANSLATION.check()
    hyps, refs = [_main_text(r) for r in records], [str(g) for g in gold]
    return {"chrf": sacrebleu.corpus_chrf(hyps, [refs]).score, "bleu": sacrebleu.corpus_bleu(hyps, [refs]).score}


def summary(gold: list, records: list[dict]) -> dict[str, float]:
    rouge = SUMMARY.check()
    scorer = rouge.RougeScorer(["rouge1", "rouge2", "rougeL"], use_stemmer=True)
    totals: Counter[str] = Counter()
    for g, r in zip(gold, records):
        for name, score in scorer.score(str(g), _main_text(r)).items():
            totals[name] += score.fmeasure
    return {name: totals[name] / len(gold) for name in ("rouge1", "rouge2", "rougeL")}


def transcript(gold: list, records: list[dict]) -> dict[str, float]:
    jiwer = TRANSCRIPT.check()

    def norm(text: str) -> str:  # case and punctuation are not errors; every word counts
        words = re.sub(r"[^\w\s']|(?<!\w)'|'(?!\w)", " ", str(text).lower()).split()
        return " ".join(words) or "<empty>"

    return {"wer": jiwer.wer([norm(str(g)) for g in gold], [norm(_main_text(r)) for r in records])}


class _Family(Metric):
    """A metric made of a scoring function over (gold, records)."""

    def __init__(
        self,
        name: str,
        scorer: Callable[[list, list], dict[str, float]],
        gold_columns: tuple[str, ...],
        library: Optional[tuple[str, str, str]] = None,
    ):
        self.name, self._scorer, self.gold_columns, self.library = name, scorer, gold_columns, library

    def score(self, gold: list[Any], records: list[dict[str, Any]]) -> dict[str, float]:
        return self._scorer(list(gold), [r or {} for r in records])

    def __repr__(self) -> str:
        return f"<metric {self.name}>"


CLASSIFICATION = _Family("classification", classification, ("label", "gold", "gold_label"))
ENTITIES = _Family(
    "entities", entities, ("entities", "gold"), ("seqeval.metrics", "seqeval", "entity-level F1 for ner")
)
ANSWERS = _Family("answers", answers, ("answer", "answers", "gold"))
TRANSLATION = _Family(
    "translation",
    translation,
    ("reference", "translation", "gold", "target_text"),
    ("sacrebleu", "sacrebleu", "chrF/BLEU for translation"),
)
SUMMARY = _Family(
    "summary",
    summary,
    ("reference", "summary", "gold", "highlights"),
    ("rouge_score.rouge_scorer", "rouge-score", "ROUGE for summarization"),
)
TRANSCRIPT = _Family(
    "transcript",
    transcript,
    ("reference", "text", "transcript", "gold", "sentence"),
    ("jiwer", "jiwer", "WER for speech recognition"),
)
METRICS: dict[str, Metric] = {m.name: m for m in (CLASSIFICATION, ENTITIES, ANSWERS, TRANSLATION, SUMMARY, TRANSCRIPT)}


def evaluate(metric: str | Metric, gold: Sequence[Any], records: Sequence[Optional[dict[str, Any]]]) -> dict[str, Any]:
    """Metrics for predictions ``records`` (flat result rows, ``None`` where a row is missing)
    against ``gold`` values, row by row, with the counts ``eval=`` reports."""
    return (METRICS[metric] if isinstance(metric, str) else metric).report(gold, records)
