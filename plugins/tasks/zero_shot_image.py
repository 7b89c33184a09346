"""``task=zero-shot-image-classification``: which of the labels you give fits an image.

Two paths, chosen by what the model is:

- a CLIP-style model (CLIP, SigLIP, ...: ``model=`` a Hub id or folder, backend=transformers):
  the transformers pipeline compares the image with a sentence per label built from
  ``hypothesis_template`` (method ``image-text-similarity``);
- a vision chat model behind ``backend=openai``: the image and the labels in one question;
  with ``backend.logprobs=true`` (OpenAI's own API says so itself) each label's probability
  as the answer's first token (``chat-label-scoring``), else the label the model answers
  (``chat-answer``, score 1).

No such model ships in a package: without ``model=`` the task says what to name.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Optional

from taskdeck import (
    SCORE_LABELS,
    VISION_CHAT,
    ZERO_SHOT_IMAGE,
    ConfigError,
    ImageLabels,
    InputError,
    LabelScore,
    Task,
    hookimpl,
    param,
    required,
    route,
)
from taskdeck.evaluation import CLASSIFICATION
from taskdeck.helpers.images import IMAGE_HINT, Picture, image_message, load_image

TEMPLATE = "This is a photo of {}."
QUESTION = "Which label fits this image best? Choose one of: {labels}. Answer with the label only."


class ZeroShotImageTask(Task):
    name = "zero-shot-image-classification"
    description = "classify an image into any labels you give: a CLIP-style model, or a vision chat model"
    batch_fields = ("image",)
    file_fields = ("image",)
    form_hints = {"image": IMAGE_HINT}
    eval_metric = CLASSIFICATION
    chunk_size = 16
    sort_window = 16

    @dataclass
    class Params:
        image: str = required("the image file: png, jpg, webp, gif (its first frame), bmp, tiff")
        labels: list = param([], "candidate labels, e.g. labels=[cat,dog,car]", input=True)
        hypothesis_template: str = param(TEMPLATE, "the sentence compared with the image per label; {} is the label")
        model: Optional[str] = param(
            None, "a CLIP-style model: Hub id or local folder (e.g. openai/clip-vit-base-patch32), or an API model"
        )

    def model(self, params, ctx):
        if not params.model:
            raise ConfigError(
                "zero-shot-image-classification needs model=<CLIP-style model: Hub id or local folder> (none "
                "is embedded), e.g. model=openai/clip-vit-base-patch32 with Hub access, or backend=openai "
                "model=gpt-4o-mini"
            )
        return super().model(params, ctx)

    def prepare(self, params) -> Picture:
        _labels(params)
        return load_image(params.image)

    def input_size(self, item) -> int:
        return 0

    @route(ZERO_SHOT_IMAGE, batched=True)
    def forward(self, backend, items, params, ctx):
        outputs = backend.zero_shot_image(
            [p.image for p in items], _labels(params), hypothesis_template=params.hypothesis_template
        )
        return [_result(p, scored, "image-text-similarity") for p, scored in zip(items, outputs)]

    @route(VISION_CHAT)
    def ask(self, backend, picture, params, ctx):
        """A vision chat model: the labels scored as its answer, or its answer matched to one."""
        labels = _labels(params)
        messages = [image_message(picture, QUESTION.format(labels=", ".join(labels)))]
        if SCORE_LABELS in backend.capabilities():
            logprobs = backend.score_labels(messages, labels)
            top = max(logprobs.values())
            weights = {label: math.exp(lp - top) for label, lp in logprobs.items()}
            total = sum(weights.values())
            scored = [(label, w / total) for label, w in weights.items()]
            return _result(picture, scored, "chat-label-scoring")
        answer = backend.chat(messages, max_new_tokens=16).text
        chosen = _matching(answer, labels)
        if chosen is None:
            raise InputError(
                f"the model answered {answer.strip()[:60]!r}, none of the labels {', '.join(labels)}: try a vision "
                "model, or backend.logprobs=true where the server returns logprobs"
            )
        return _result(picture, [(label, 1.0 if label == chosen else 0.0) for label in labels], "chat-answer")


def _labels(params) -> list[str]:
    labels = list(dict.fromkeys(str(lbl).strip() for lbl in (params.labels or []) if str(lbl).strip()))
    if len(labels) < 2:
        raise InputError("zero-shot-image-classification needs at least two candidate labels: labels=[cat,dog,car]")
    template = params.hypothesis_template
    if not isinstance(template, str) or "{}" not in template:
        raise InputError("hypothesis_template needs {} where the label goes, e.g. hypothesis_template='a photo of {}'")
    return labels


def _matching(answer: str, labels: list[str]) -> Optional[str]:
    """The label a free answer names: the whole answer, else the one label it contains."""
    said = answer.strip().strip(".!\"'`*").strip().lower()
    for label in labels:
        if said == label.lower():
            return label
    found = [label for label in labels if label.lower() in said]
    return max(found, key=len) if found else None


def _result(picture: Picture, scored, method: str) -> ImageLabels:
    scored = sorted(scored, key=lambda kv: kv[1], reverse=True)
    return ImageLabels(
        labels=[LabelScore(label, round(float(score), 6)) for label, score in scored],
        method=method,
        image=picture.path,
        width=picture.width,
        height=picture.height,
        note=picture.note,
    )


@hookimpl
def register_tasks(register):
    register(ZeroShotImageTask)
