"""Sentence embeddings from a bare encoder (the transformers backend's ``embed``).

Pooling follows the model's sentence-transformers files when it has them, as
sentence-transformers does (:mod:`taskdeck.helpers.sentence_pooling`). Texts are batched sorted
by length, so a batch carries little padding.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Optional

from taskdeck.helpers.sentence_pooling import pooling_settings as settings_from_files


def embed(
    backend: Any, texts: Sequence[str], *, batch_size: Optional[int] = None, normalize: Optional[bool] = None
) -> list[list[float]]:
    """One vector per text (``texts[i]`` → ``result[i]``); ``normalize`` overrides the model's."""
    import torch

    texts = [str(t) for t in texts]
    if not texts:
        return []
    settings = pooling_settings(backend)
    unit = settings["normalize"] if normalize is None else normalize
    size = batch_size or max(backend.params.batch_size, 32)
    order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
    vectors: list[Any] = [None] * len(texts)
    for start in range(0, len(order), size):
        chunk = order[start : start + size]
        enc = backend.tokenizer(
            [texts[i] for i in chunk],
            padding=True,
            truncation=True,
            max_length=settings["max_length"],
            return_tensors="pt",
        ).to(backend.device)
        with torch.inference_mode():
            hidden = backend.hf_model(**enc).last_hidden_state.float()
        pooled = pool(hidden, enc["attention_mask"], settings["mode"])
        if unit:
            pooled = torch.nn.functional.normalize(pooled, p=2, dim=1)
        for i, vec in zip(chunk, pooled.cpu().tolist()):
            vectors[i] = vec
    return vectors


def pool(hidden: Any, mask: Any, mode: str) -> Any:
    """Token states (batch, tokens, dim) → one vector per text, padding ignored."""
    import torch

    m = mask.unsqueeze(-1).to(hidden.dtype)
    if mode == "cls_token":
        return hidden[:, 0]
    if mode == "max_tokens":
        return hidden.masked_fill(m == 0, -1e9).max(dim=1).values
    if mode == "lasttoken":
        last = mask.sum(dim=1) - 1  # right padding
        return hidden[torch.arange(hidden.shape[0]), last]
    summed, counts = (hidden * m).sum(dim=1), m.sum(dim=1).clamp(min=1e-9)
    return summed / (counts.sqrt() if mode == "mean_sqrt_len_tokens" else counts)


def pooling_settings(backend: Any) -> dict[str, Any]:
    """``mode``, ``normalize`` and ``max_length`` from the model's sentence-transformers files
    (read once per loaded model)."""
    if getattr(backend, "_embed_settings", None) is None:
        limit = getattr(backend.tokenizer, "model_max_length", None)
        backend._embed_settings = settings_from_files(lambda name: _model_json(backend, name), limit)
    return backend._embed_settings


def _model_json(backend: Any, name: str) -> Optional[Any]:
    """A JSON file of the model (local folder or Hub cache), or None when it has none."""
    try:
        if backend.model.source == "hub":
            path = Path(backend._hub_file(name))
        else:
            path = Path(backend.model.path()) / name
        return json.loads(path.read_text(encoding="utf-8"))
    except Exception:  # noqa: BLE001 - absent or unreadable: the defaults apply
        return None
