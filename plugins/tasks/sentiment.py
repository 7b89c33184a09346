"""``task=sentiment``: label a text's sentiment.

Two paths, chosen by what the model is: a dedicated classifier (``model=`` names one)
through the transformers text-classification pipeline, or — the default, since no
classifier weights are packaged — a chat model scoring each label as its one-word answer
(one forward pass; the labels' next-token probabilities are compared, nothing is parsed).
"""
from dataclasses import dataclass
from typing import Optional

from taskdeck import (CLASSIFY, SCORE_LABELS, InputError, Labels, LabelScore, Task, hookimpl,
                      param, required)
from taskdeck.label_scoring import normalise

DEFAULT_MODEL = "qwen2.5-coder-1.5b"
SYSTEM = "You are a precise text classifier. Answer with exactly one of the given labels."
PROMPT = ("What is the sentiment of this text? Choose one of: {labels}.\n\n"
          "Text: {text}\n\nAnswer with the label only.")


class SentimentTask(Task):
    name = "sentiment"
    description = "label the sentiment of a text (classifier model, or a chat model scoring the labels)"

    @dataclass
    class Params:
        text: str = required("the text to classify")
        model: str = param(DEFAULT_MODEL, "model pack alias, local path or Hub id")
        labels: list = param(["positive", "negative", "neutral"],
                             "candidate labels for chat-model scoring (a classifier has its own)")
        top_k: Optional[int] = param(None, "how many labels to keep, best first (None: all)")
        system: str = param(SYSTEM, "system prompt for chat-model scoring")
        prompt: str = param(PROMPT, "user prompt for chat-model scoring; {text} and {labels} are filled in")

    def run(self, params, ctx):
        text = params.text.strip() if isinstance(params.text, str) else ""
        if not text:
            raise InputError("text= is empty: give the text to classify, e.g. text=\"I love this\"")
        backend, how = ctx.model(params.model, needs=[CLASSIFY, SCORE_LABELS])
        if how == CLASSIFY:
            scored = backend.classify([text], top_k=None)[0]
            method = "classifier"
        else:
            labels = [str(lbl) for lbl in params.labels]
            if len(labels) < 2:
                raise InputError("labels= needs at least two labels, e.g. labels=[positive,negative]")
            messages = [{"role": "system", "content": params.system},
                        {"role": "user", "content": params.prompt.format(text=text, labels=", ".join(labels))}]
            probs = normalise(backend.score_labels(messages, labels))
            scored = list(probs.items())
            method = "chat-label-scoring"
        scored.sort(key=lambda kv: kv[1], reverse=True)
        if params.top_k:
            scored = scored[: params.top_k]
        ctx.metrics["items"] = 1
        return Labels(text=text, labels=[LabelScore(lbl, round(s, 6)) for lbl, s in scored], method=method)


@hookimpl
def register_tasks(register):
    register(SentimentTask)
