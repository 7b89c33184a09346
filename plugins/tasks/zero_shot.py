"""``task=zero-shot``: classify a text into labels given on the command line.

Two paths, chosen by what the model is:

- an NLI model (``model=`` names a sequence classifier with an "entailment" label): the
  transformers zero-shot-classification pipeline. Each label becomes a hypothesis from
  ``hypothesis_template`` and the model judges whether the text entails it.
- a chat model (the default, ``qwen2.5-coder-1.5b``): single-label scores every label as the
  model's one-word answer (one forward pass, normalised over the labels, method
  ``chat-label-scoring``); ``multi_label=true`` asks a yes/no question per label built from
  ``hypothesis_template`` and scores P(yes) against P(no) (method ``chat-yes-no-per-label``).

With a single candidate label both paths judge it on its own (as transformers does), since a
distribution over one label is always 1; the result is then marked ``multi_label``.
"""
from __future__ import annotations

from dataclasses import dataclass

from taskdeck import (SCORE_LABELS, ZERO_SHOT, InputError, Labels, LabelScore, Task, hookimpl, param,
                      required)
from taskdeck.label_scoring import normalise

DEFAULT_MODEL = "qwen2.5-coder-1.5b"
TEMPLATE = "This example is {}."
SYSTEM = "You are a precise text classifier. Answer with exactly one of the given labels."
PROMPT = ("Which label fits this text best? Choose one of: {labels}.\n\n"
          "Text: {text}\n\nAnswer with the label only.")
YES_NO_SYSTEM = "You are a careful annotator. Answer yes or no."
YES_NO_PROMPT = ("Read the text and decide whether the statement is true.\n\n"
                 "Text: {text}\nStatement: {hypothesis}\n\nIs the statement true? Answer yes or no.")
CHUNK = 256  # texts per pipeline call in batch mode (progress granularity)


class ZeroShotTask(Task):
    name = "zero-shot"
    description = "classify a text into any labels you give: an NLI model, or a chat model scoring them"

    @dataclass
    class Params:
        text: str = required("the text to classify")
        labels: list = param([], "candidate labels, e.g. labels=[sport,politics,science]", input=True)
        hypothesis_template: str = param(TEMPLATE, "hypothesis per label; {} is replaced by the label")
        multi_label: bool = param(False, "judge each label on its own (several may apply) instead of one distribution")
        model: str = param(DEFAULT_MODEL, "model pack alias, local path or Hub id (an NLI model for the dedicated path)")

    def run(self, params, ctx):
        text, labels = _inputs(params)
        backend, how = ctx.model(params.model, needs=[ZERO_SHOT, SCORE_LABELS])
        ctx.metrics["items"] = 1
        if how == ZERO_SHOT:
            scored = backend.zero_shot([text], labels, hypothesis_template=params.hypothesis_template,
                                       multi_label=params.multi_label)[0]
            return _result(text, scored, "nli", _independent(params, labels))
        if _independent(params, labels):
            scored = [(label, _yes_probability(backend, text, params.hypothesis_template.format(label)))
                      for label in labels]
            return _result(text, scored, "chat-yes-no-per-label", True)
        messages = [{"role": "system", "content": SYSTEM},
                    {"role": "user", "content": PROMPT.format(text=text, labels=", ".join(labels))}]
        probs = normalise(backend.score_labels(messages, labels))
        return _result(text, list(probs.items()), "chat-label-scoring", False)

    def run_batch(self, batch, ctx):
        """NLI path: texts sorted by length (little padding per forward batch), one pipeline
        call per chunk; results keep their input index. The chat path goes text by text."""
        backend, how = ctx.model(batch[0].model, needs=[ZERO_SHOT, SCORE_LABELS])
        if how != ZERO_SHOT:
            yield from super().run_batch(batch, ctx)
            return
        groups: dict[tuple, list[tuple[int, str]]] = {}
        options: dict[tuple, tuple[list[str], object]] = {}
        for i, p in enumerate(batch):
            try:
                text, labels = _inputs(p)
            except InputError as exc:
                yield i, exc
                continue
            key = (tuple(labels), p.hypothesis_template, bool(p.multi_label))
            groups.setdefault(key, []).append((i, text))
            options[key] = (labels, p)
        for key, rows in groups.items():
            labels, p = options[key]
            rows.sort(key=lambda it: len(it[1]))
            for start in range(0, len(rows), CHUNK):
                chunk = rows[start:start + CHUNK]
                outputs = backend.zero_shot([t for _, t in chunk], labels, hypothesis_template=p.hypothesis_template,
                                            multi_label=p.multi_label)
                for (i, text), scored in zip(chunk, outputs):
                    yield i, _result(text, scored, "nli", _independent(p, labels))


def _inputs(params) -> tuple[str, list[str]]:
    text = params.text.strip() if isinstance(params.text, str) else ""
    if not text:
        raise InputError("text= is empty: give the text to classify, e.g. text=\"The striker scored twice\"")
    labels = list(dict.fromkeys(str(lbl).strip() for lbl in (params.labels or []) if str(lbl).strip()))
    if not labels:
        raise InputError("zero-shot needs candidate labels: add labels=[a,b,...]")
    template = params.hypothesis_template
    if not isinstance(template, str) or "{}" not in template:
        raise InputError("hypothesis_template needs {} where the label goes, "
                         "e.g. hypothesis_template='This text is about {}.'")
    try:
        template.format("x")
    except (IndexError, KeyError, ValueError):
        raise InputError("hypothesis_template may hold only one {} (the label); write other braces as {{ }}") from None
    return text, labels


def _independent(params, labels) -> bool:
    return bool(params.multi_label) or len(labels) == 1


def _yes_probability(backend, text: str, hypothesis: str) -> float:
    messages = [{"role": "system", "content": YES_NO_SYSTEM},
                {"role": "user", "content": YES_NO_PROMPT.format(text=text, hypothesis=hypothesis)}]
    return normalise(backend.score_labels(messages, ["yes", "no"]))["yes"]


def _result(text, scored, method, multi_label) -> Labels:
    scored = sorted(scored, key=lambda kv: kv[1], reverse=True)
    return Labels(text=text, labels=[LabelScore(lbl, round(float(s), 6)) for lbl, s in scored],
                  method=method, multi_label=multi_label)


@hookimpl
def register_tasks(register):
    register(ZeroShotTask)
