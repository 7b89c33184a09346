"""Quality metrics: a batch's predictions scored against a gold column (``eval=file``).

``eval=labelled.csv`` runs the task over the file as a batch; the file's gold column
(``gold=`` names it, else a usual name for the task's kind) is compared with each row's
prediction from ``results.jsonl``. The metric family follows the task:

| kind | tasks | metrics | library |
|---|---|---|---|
| classification | sentiment, text-classification, zero-shot | accuracy, macro-F1 | — |
| entities | ner | entity-level precision / recall / F1 | seqeval |
| answers | qa | exact match, F1 (SQuAD normalisation) | — |
| translation | translation | chrF, BLEU | sacrebleu |
| summary | summarization | ROUGE-1/2/L F-measure | rouge-score |
| transcript | asr | WER | jiwer |

A third-party task picks one with a class attribute ``eval_metric = "<kind>"``; otherwise the
kind is read from the predictions (a label, entities, answers, else text → chrF/BLEU).
Rows that failed count as wrong (an empty prediction).
"""
from __future__ import annotations

import json
import re
import string
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Optional, Sequence

from .errors import InputError, MissingDependencyError

KIND_BY_TASK = {"sentiment": "classification", "text-classification": "classification",
                "zero-shot": "classification", "ner": "entities", "qa": "answers",
                "translation": "translation", "summarization": "summary", "asr": "transcript"}
#: Column names taken as the gold column when ``gold=`` is not given, per kind.
GOLD_COLUMNS = {"classification": ("label", "gold", "gold_label"),
                "entities": ("entities", "gold"),
                "answers": ("answer", "answers", "gold"),
                "translation": ("reference", "translation", "gold", "target_text"),
                "summary": ("reference", "summary", "gold", "highlights"),
                "transcript": ("reference", "text", "transcript", "gold", "sentence")}


def metric_kind(task_cls: type) -> Optional[str]:
    """Which metric family scores this task's predictions (None: read it from them)."""
    return getattr(task_cls, "eval_metric", None) or KIND_BY_TASK.get(getattr(task_cls, "name", ""))


def kind_of_records(records: Sequence[dict[str, Any]]) -> str:
    """A metric family guessed from the predictions' fields."""
    keys = {k for r in records for k in r}
    for key, guess in (("label", "classification"), ("entities", "entities"), ("answers", "answers")):
        if key in keys:
            return guess
    return "translation"


def gold_column(kind: Optional[str], columns: Sequence[str], given: Optional[str], inputs: Sequence[str], path: Path) -> str:
    """The gold column's name: ``gold=`` or the first usual name the file has."""
    if given:
        if given not in columns:
            raise InputError(f"eval file '{path.name}' has no gold column '{given}' (columns: {', '.join(columns)})")
        return given
    usual = GOLD_COLUMNS[kind] if kind else tuple(dict.fromkeys(n for v in GOLD_COLUMNS.values() for n in v))
    for name in usual:
        if name in columns and name not in inputs:
            return name
    raise InputError(f"eval file '{path.name}' has no gold column (looked for {', '.join(usual)}; "
                     f"columns: {', '.join(columns)}): add gold=<column>")


@dataclass
class EvalPlan:
    """What ``eval=`` scores: the file's rows, the metric family and the gold column."""

    path: Path
    kind: Optional[str]
    column: str
    rows: list[dict[str, Any]]

    def score(self, records: Sequence[dict[str, Any]]) -> dict[str, Any]:
        """Metrics of the predictions ``records`` (flat rows with the file's ``index``)."""
        by_index = {int(r["index"]): r for r in records}
        indices = sorted(by_index)
        return evaluate(self.kind or kind_of_records(records), [self.rows[i].get(self.column) for i in indices],
                        [by_index[i] for i in indices])


def plan(task_cls: type, path: str, gold: Optional[str]) -> EvalPlan:
    """Check ``eval=`` before anything loads: the file, its gold column, the metric library."""
    from .batch import read_rows

    file = Path(path).expanduser()
    rows, columns = read_rows(file)
    kind = metric_kind(task_cls)
    column = gold_column(kind, columns, gold, getattr(task_cls, "batch_fields", ()), file)
    if kind:
        _library(kind)
    return EvalPlan(file, kind, column, rows)


def evaluate(kind: str, gold: Sequence[Any], records: Sequence[Optional[dict[str, Any]]]) -> dict[str, Any]:
    """Metrics for predictions ``records`` (flat result rows, ``None`` where a row is
    missing) against ``gold`` values, row by row."""
    if len(gold) != len(records):
        raise ValueError("gold and predictions differ in length")
    scorer = SCORERS[kind]
    metrics = scorer(list(gold), [r or {} for r in records])
    failed = sum(1 for r in records if not r or r.get("error"))
    return {**{k: round(float(v), 4) for k, v in metrics.items()}, "eval_rows": len(gold), "eval_failed": failed}


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
    seqeval = _library("entities")
    truth, pred = [], []
    for g, r in zip(gold, records):
        text = str(r.get("text", ""))
        truth.append(bio_tags(text, _spans(g)))
        pred.append(bio_tags(text, [] if r.get("error") else _spans(r.get("entities"))))
    return {"entity_precision": seqeval.precision_score(truth, pred, zero_division=0),
            "entity_recall": seqeval.recall_score(truth, pred, zero_division=0),
            "entity_f1": seqeval.f1_score(truth, pred, zero_division=0)}


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
    sacrebleu = _library("translation")
    hyps, refs = [_main_text(r) for r in records], [str(g) for g in gold]
    return {"chrf": sacrebleu.corpus_chrf(hyps, [refs]).score,
            "bleu": sacrebleu.corpus_bleu(hyps, [refs]).score}


def summary(gold: list, records: list[dict]) -> dict[str, float]:
    rouge = _library("summary")
    scorer = rouge.RougeScorer(["rouge1", "rouge2", "rougeL"], use_stemmer=True)
    totals = Counter()
    for g, r in zip(gold, records):
        for name, score in scorer.score(str(g), _main_text(r)).items():
            totals[name] += score.fmeasure
    return {name: totals[name] / len(gold) for name in ("rouge1", "rouge2", "rougeL")}


def transcript(gold: list, records: list[dict]) -> dict[str, float]:
    jiwer = _library("transcript")

    def norm(text: str) -> str:  # case and punctuation are not errors; every word counts
        words = re.sub(r"[^\w\s']|(?<!\w)'|'(?!\w)", " ", str(text).lower()).split()
        return " ".join(words) or "<empty>"

    return {"wer": jiwer.wer([norm(str(g)) for g in gold], [norm(_main_text(r)) for r in records])}


SCORERS: dict[str, Callable[[list, list], dict[str, float]]] = {
    "classification": classification, "entities": entities, "answers": answers,
    "translation": translation, "summary": summary, "transcript": transcript}


#: kind → (module, package, purpose) of the library its scorer needs.
LIBRARIES = {"entities": ("seqeval.metrics", "seqeval", "entity-level F1 for ner"),
             "translation": ("sacrebleu", "sacrebleu", "chrF/BLEU for translation"),
             "summary": ("rouge_score.rouge_scorer", "rouge-score", "ROUGE for summarization"),
             "transcript": ("jiwer", "jiwer", "WER for speech recognition")}


def _library(kind: str) -> Any:
    """The metric library of ``kind`` (None when it needs none); one line naming the extra if missing."""
    if kind not in LIBRARIES:
        return None
    import importlib

    module, package, purpose = LIBRARIES[kind]
    try:
        return importlib.import_module(module)
    except ImportError:
        raise MissingDependencyError(package, purpose, "eval") from None
