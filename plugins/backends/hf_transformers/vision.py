"""Vision models on the transformers backend: image classification, CLIP-style zero-shot
classification and object detection through the v5 pipelines, captioning through
``generate`` (v5 has no ``image-to-text`` pipeline: ``image-text-to-text`` needs a prompt).

Images arrive as PIL RGB images (``taskdeck.helpers.images`` read and checked them).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from typing import Any, Optional

from taskdeck import Completion, Detection, ModelNotFoundError

from .heads import VISION_HEADS

_PIPELINE_TASKS = {
    "image-classification": "image-classification",
    "zero-shot-image-classification": "zero-shot-image-classification",
    "object-detection": "object-detection",
}


def load(backend: Any, head: str, source: str, kwargs: dict) -> None:
    """Load a vision model with its image processor (and tokenizer or processor where it has
    text): a pipeline for classification, zero-shot and detection; the model and processor
    for captioning."""
    import transformers

    auto = getattr(transformers, VISION_HEADS[head])
    try:
        with _quiet_image_processor_notice():
            model = auto.from_pretrained(source, dtype=backend.dtype, **kwargs)
            model.to(backend.device).eval()
            image_processor, tokenizer, processor = _processors(transformers, source, kwargs, head)
            if head in _PIPELINE_TASKS:
                backend.vision_pipeline = transformers.pipeline(
                    _PIPELINE_TASKS[head],
                    model=model,
                    tokenizer=tokenizer,
                    image_processor=image_processor,
                    device=model.device,
                )
    except (OSError, ValueError, KeyError, TypeError) as exc:
        text = str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__
        raise ModelNotFoundError(
            f"model '{backend.model.ref}' could not be loaded (an {head.replace('-', ' ')} model): {text}"
        ) from None
    backend.hf_model, backend.tokenizer = model, tokenizer
    backend.image_processor, backend.processor = image_processor, processor


def _processors(transformers: Any, source: str, kwargs: dict, head: str) -> tuple[Any, Any, Any]:
    """The model's image processor, its tokenizer (for models that read or write text) and
    the processor joining both where the checkpoint has one (else the image processor)."""
    try:
        found = transformers.AutoProcessor.from_pretrained(source, **kwargs)
    except (OSError, ValueError, KeyError, TypeError):
        found = None
    if isinstance(found, transformers.ProcessorMixin):
        return found.image_processor, getattr(found, "tokenizer", None), found
    image_processor = (
        found
        if isinstance(found, transformers.ImageProcessingMixin)
        else transformers.AutoImageProcessor.from_pretrained(source, **kwargs)
    )
    tokenizer = found if isinstance(found, transformers.PreTrainedTokenizerBase) else None
    if tokenizer is None and head in ("image-to-text", "zero-shot-image-classification"):
        tokenizer = transformers.AutoTokenizer.from_pretrained(source, **kwargs)
    return image_processor, tokenizer, image_processor


def classify_image(backend: Any, images: Sequence[Any], top_k: Optional[int]) -> list[list[tuple[str, float]]]:
    labels = len(backend.hf_model.config.id2label or {}) or None
    outputs = backend.vision_pipeline(list(images), top_k=top_k or labels, batch_size=backend.params.batch_size)
    return [[(d["label"], float(d["score"])) for d in _per_image(out)] for out in _listed(outputs, len(images))]


def zero_shot_image(
    backend: Any, images: Sequence[Any], labels: Sequence[str], hypothesis_template: str
) -> list[list[tuple[str, float]]]:
    outputs = backend.vision_pipeline(
        list(images),
        candidate_labels=list(labels),
        hypothesis_template=hypothesis_template,
        batch_size=backend.params.batch_size,
    )
    return [[(d["label"], float(d["score"])) for d in _per_image(out)] for out in _listed(outputs, len(images))]


def detect(backend: Any, images: Sequence[Any], threshold: float) -> list[list[Detection]]:
    outputs = backend.vision_pipeline(list(images), threshold=threshold, batch_size=backend.params.batch_size)
    found = []
    for out in _listed(outputs, len(images)):
        objects = sorted(_per_image(out), key=lambda d: -float(d["score"]))
        found.append(
            [
                Detection(label=str(d["label"]), score=float(d["score"]), box={k: int(v) for k, v in d["box"].items()})  # type: ignore[typeddict-item]
                for d in objects
            ]
        )
    return found


def caption(
    backend: Any, images: Sequence[Any], prompt: Optional[str], max_new_tokens: int, **options: Any
) -> list[Completion]:
    """One caption per image: the processor's pixels (and the prompt, for models that take
    one) through ``generate``, decoded without special tokens."""
    import torch

    processor, tokenizer = backend.processor, backend.tokenizer
    if prompt and processor is not backend.image_processor:  # a processor that reads text too
        inputs = processor(images=list(images), text=[prompt] * len(images), return_tensors="pt")
    else:
        inputs = backend.image_processor(images=list(images), return_tensors="pt")
    inputs = {k: v.to(backend.hf_model.device) for k, v in inputs.items() if hasattr(v, "to")}
    if "pixel_values" in inputs:
        inputs["pixel_values"] = inputs["pixel_values"].to(backend.hf_model.dtype)
    generate = {"max_new_tokens": int(max_new_tokens)}
    if options.get("num_beams"):
        generate["num_beams"] = int(options["num_beams"])
    start = time.perf_counter()
    with torch.inference_mode():
        ids = backend.hf_model.generate(**inputs, **generate)
    seconds = time.perf_counter() - start
    texts = tokenizer.batch_decode(ids, skip_special_tokens=True)
    special = set(getattr(tokenizer, "all_special_ids", ()))
    prompt_len = inputs["input_ids"].shape[1] if "input_ids" in inputs and not _encoder_decoder(backend) else 0
    out = []
    for row, text in zip(ids, texts):
        new = [t for t in row.tolist()[prompt_len:] if t not in special]
        out.append(
            Completion(
                text=text.strip(),
                completion_tokens=len(new),
                seconds=seconds / len(texts),
                finish_reason="length" if len(new) >= max_new_tokens else "stop",
            )
        )
    return out


def _encoder_decoder(backend: Any) -> bool:
    return bool(getattr(backend.hf_model.config, "is_encoder_decoder", False))


def _listed(outputs: Any, n: int) -> list[Any]:
    """A pipeline's answer for a list of inputs: one entry per input."""
    return list(outputs) if n != 1 or (outputs and isinstance(outputs[0], list)) else [outputs]


def _per_image(out: Any) -> list[dict]:
    return out if isinstance(out, list) else [out]


class _DropNotice(logging.Filter):
    """transformers says once per load that it uses the slow (PIL) image processor because
    torchvision is missing: not the user's to act on (the results are the same)."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "torchvision" not in record.getMessage()


class _quiet_image_processor_notice:
    def __enter__(self) -> None:
        self.filter = _DropNotice()
        self.loggers = [logging.getLogger(n) for n in ("transformers.utils.import_utils",)]
        for log in self.loggers:
            log.addFilter(self.filter)

    def __exit__(self, *exc: Any) -> None:
        for log in self.loggers:
            log.removeFilter(self.filter)
