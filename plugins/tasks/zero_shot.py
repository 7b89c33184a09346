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

from taskdeck import SCORE_LABELS, ZERO_SHOT, InputError, Labels, LabelScore, Task, hookimpl, param, required, route
from taskdeck.evaluation import CLASSIFICATION
from taskdeck.helpers.label_scoring import normalise, yes_probability

DEFAULT_MODEL = "qwen2.5-coder-1.5b"
TEMPLATE = "This example is {}."
SYSTEM = "You are a precise text classifier. Answer with exactly one of the given labels."
PROMPT = "Which label fits this text best? Choose one of: {labels}.\n\nText: {text}\n\nAnswer with the label only."
YES_NO_SYSTEM = "You are a careful annotator. Answer yes or no."
YES_NO_PROMPT = (
    "Read the text and decide whether the statement is true.\n\n"
    "Text: {text}\nStatement: {hypothesis}\n\nIs the statement true? Answer yes or no."
)


class ZeroShotTask(Task):
    name = "zero-shot"
    aliases = ("zero-shot-classification",)  # transformers' pipeline name
    description = "classify a text into any labels you give: an NLI model, or a chat model scoring them"

    @dataclass
    class Params:
        text: str = required("the text to classify")
        labels: list = param([], "candidate labels, e.g. labels=[sport,politics,science]", input=True)
        hypothesis_template: str = param(TEMPLATE, "hypothesis per label; {} is replaced by the label")
        multi_label: bool = param(False, "judge each label on its own (several may apply) instead of one distribution")
        model: str = param(
            DEFAULT_MODEL, "model pack alias, local path or Hub id (an NLI model for the dedicated path)"
        )

    eval_metric = CLASSIFICATION

    def prepare(self, params) -> str:
        return _inputs(params)[0]

    @route(ZERO_SHOT, batched=True)
    def forward(self, backend, items, params, ctx):
        """The NLI model over many texts at once (rows forwarded together share their labels)."""
        labels = _inputs(params)[1] if items else []
        outputs = backend.zero_shot(
            items, labels, hypothesis_template=params.hypothesis_template, multi_label=params.multi_label
        )
        return [_result(text, scored, "nli", _independent(params, labels)) for text, scored in zip(items, outputs)]

    @route(SCORE_LABELS)
    def score(self, backend, text, params, ctx):
        """A chat model: each label as its one-word answer, or a yes/no question per label."""
        labels = _inputs(params)[1]
        if _independent(params, labels):
            scored = [
                (label, yes_probability(backend, YES_NO_SYSTEM, _statement(text, params.hypothesis_template, label)))
                for label in labels
            ]
            return _result(text, scored, "chat-yes-no-per-label", True)
        messages = [
            {"role": "system", "content": SYSTEM},
            {"role": "user", "content": PROMPT.format(text=text, labels=", ".join(labels))},
        ]
        probs = normalise(backend.score_labels(messages, labels))
        return _result(text, list(probs.items()), "chat-label-scoring", False)


def _inputs(params) -> tuple[str, list[str]]:
    text = params.text.strip() if isinstance(params.text, str) else ""
    if not text:
        raise InputError('text= is empty: give the text to classify, e.g. text="The striker scored twice"')
    labels = list(dict.fromkeys(str(lbl).strip() for lbl in (params.labels or []) if str(lbl).strip()))
    if not labels:
        raise InputError("zero-shot needs candidate labels: add labels=[a,b,...]")
    template = params.hypothesis_template
    if not isinstance(template, str) or "{}" not in template:
        raise InputError(
            "hypothesis_template needs {} where the label goes, e.g. hypothesis_template='This text is about {}.'"
        )
    try:
        template.format("x")
    except (IndexError, KeyError, ValueError):
        raise InputError("hypothesis_template may hold only one {} (the label); write other braces as {{ }}") from None
    return text, labels


def _independent(params, labels) -> bool:
    return bool(params.multi_label) or len(labels) == 1


def _statement(text: str, template: str, label: str) -> str:
    return YES_NO_PROMPT.format(text=text, hypothesis=template.format(label))


def _result(text, scored, method, multi_label) -> Labels:
    scored = sorted(scored, key=lambda kv: kv[1], reverse=True)
    return Labels(
        text=text,
        labels=[LabelScore(lbl, round(float(s), 6)) for lbl, s in scored],
        method=method,
        multi_label=multi_label,
    )


@hookimpl
def register_tasks(register):
    register(ZeroShotTask)
