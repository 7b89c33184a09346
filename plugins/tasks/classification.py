"""``task=text-classification`` and ``task=sentiment`` (its preset for sentiment labels).

Two paths, chosen by what the model is: a dedicated classifier (``model=`` names one)
through the transformers text-classification pipeline, or — the default, since no
classifier weights are packaged — a chat model scoring each label as its one-word answer
(one forward pass; the labels' next-token probabilities are compared, nothing is parsed).
``multi_label=true`` scores labels independently: a sigmoid over the classifier's logits,
or a yes/no judgement per label from the chat model.
"""

from dataclasses import dataclass
from typing import Optional

from taskdeck import CLASSIFY, SCORE_LABELS, InputError, Labels, LabelScore, Task, hookimpl, param, required, route
from taskdeck.evaluation import CLASSIFICATION
from taskdeck.helpers.label_scoring import normalise, yes_probability

DEFAULT_MODEL = "qwen2.5-coder-1.5b"
SYSTEM = "You are a precise text classifier. Answer with exactly one of the given labels."
YES_NO_SYSTEM = "You answer yes or no."
PROMPT = "Which label fits this text best? Choose one of: {labels}.\n\nText: {text}\n\nAnswer with the label only."
LABEL_PROMPT = "Does the label '{label}' apply to this text?\n\nText: {text}\n\nAnswer yes or no."
SENTIMENT_PROMPT = (
    "What is the sentiment of this text? Choose one of: {labels}.\n\nText: {text}\n\nAnswer with the label only."
)


class TextClassificationTask(Task):
    name = "text-classification"
    description = "classify a text: a classifier model, or a chat model scoring the given labels"

    @dataclass
    class Params:
        text: str = required("the text to classify")
        model: str = param(DEFAULT_MODEL, "model pack alias, local path or Hub id")
        labels: list = param([], "candidate labels for chat-model scoring (a classifier has its own)")
        top_k: Optional[int] = param(None, "how many labels to keep, best first (None: all)", ge=1)
        multi_label: bool = param(False, "score each label on its own instead of one distribution")
        system: str = param(SYSTEM, "system prompt for chat-model scoring")
        prompt: str = param(PROMPT, "user prompt for chat-model scoring; {text} and {labels} are filled in")
        label_prompt: str = param(LABEL_PROMPT, "multi-label yes/no prompt; {text} and {label} are filled in")

    eval_metric = CLASSIFICATION

    def prepare(self, params) -> str:
        return _text(params)

    @route(CLASSIFY, batched=True)
    def forward(self, backend, items, params, ctx):
        """The classifier over many texts at once (sorted by length by the base class)."""
        outputs = backend.classify(items, top_k=None, multi_label=params.multi_label)
        return [self._result(text, scored, params, "classifier") for text, scored in zip(items, outputs)]

    @route(SCORE_LABELS)
    def score(self, backend, text, params, ctx):
        """A chat model: each label's probability as its one-word answer (or yes/no per label)."""
        labels = self._labels(params)
        if params.multi_label:
            scored = [
                (label, yes_probability(backend, YES_NO_SYSTEM, params.label_prompt.format(text=text, label=label)))
                for label in labels
            ]
            return self._result(text, scored, params, "chat-yes-no-per-label")
        messages = [
            {"role": "system", "content": params.system},
            {"role": "user", "content": params.prompt.format(text=text, labels=", ".join(labels))},
        ]
        probs = normalise(backend.score_labels(messages, labels))
        return self._result(text, list(probs.items()), params, "chat-label-scoring")

    def _labels(self, params) -> list[str]:
        labels = [str(lbl) for lbl in params.labels]
        if len(labels) < 2:
            raise InputError(
                f"{self.name} with a chat model needs at least two labels=[a,b,...] "
                "(or name a classifier with model=<hub id or path>)"
            )
        return labels

    @staticmethod
    def _result(text, scored, params, method):
        scored = sorted(scored, key=lambda kv: kv[1], reverse=True)
        if params.top_k:
            scored = scored[: params.top_k]
        return Labels(
            text=text,
            labels=[LabelScore(lbl, round(float(s), 6)) for lbl, s in scored],
            method=method,
            multi_label=params.multi_label,
        )


class SentimentTask(TextClassificationTask):
    name = "sentiment"
    aliases = ("sentiment-analysis",)  # transformers' pipeline name
    description = "label the sentiment of a text (classifier model, or a chat model scoring the labels)"

    @dataclass
    class Params(TextClassificationTask.Params):
        labels: list = param(
            ["positive", "negative", "neutral"], "candidate labels for chat-model scoring (a classifier has its own)"
        )
        prompt: str = param(SENTIMENT_PROMPT, "user prompt for chat-model scoring; {text} and {labels} are filled in")


def _text(params) -> str:
    text = params.text.strip() if isinstance(params.text, str) else ""
    if not text:
        raise InputError('text= is empty: give the text to classify, e.g. text="I love this"')
    return text


@hookimpl
def register_tasks(register):
    register(TextClassificationTask)
    register(SentimentTask)
