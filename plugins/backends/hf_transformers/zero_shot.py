"""Zero-shot classification through an NLI model (the transformers backend's ``zero_shot``).

Each candidate label becomes a hypothesis (``hypothesis_template`` with the label filled in)
and the model judges whether the text entails it. Single-label: the entailment logits are
softmaxed across labels (scores sum to 1). Multi-label (or a single candidate label, as
transformers does): each label's entailment vs. contradiction, on its own (each in 0..1).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Optional


def zero_shot(
    backend: Any,
    texts: Sequence[str],
    labels: Sequence[str],
    *,
    hypothesis_template: str = "This example is {}.",
    multi_label: bool = False,
    batch_size: Optional[int] = None,
) -> list[list[tuple[str, float]]]:
    """``[(label, score), ...]`` per text, best first, from the zero-shot-classification
    pipeline around the backend's model. ``batch_size`` counts (text, label) pairs per
    forward pass (default: ``backend.params.batch_size``)."""
    pipe = backend.pipeline("zero-shot-classification")
    outputs = pipe(
        list(texts),
        candidate_labels=list(labels),
        hypothesis_template=hypothesis_template,
        multi_label=multi_label,
        batch_size=batch_size or backend.params.batch_size,
    )
    if isinstance(outputs, dict):  # one text
        outputs = [outputs]
    return [[(label, float(score)) for label, score in zip(out["labels"], out["scores"])] for out in outputs]
