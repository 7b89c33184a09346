"""How a sentence-transformers model turns token states into one vector, from its files.

As sentence-transformers reads them: ``1_Pooling/config.json`` chooses mean, CLS, max,
mean-sqrt-len or last-token pooling, ``modules.json`` says whether a ``Normalize`` step follows,
and ``sentence_bert_config.json`` gives the longest input (longer texts are truncated). A bare
encoder without those files gets mean pooling and L2 normalisation. Shared by the embedding
backends (transformers on torch, numpy).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Optional

MODES = ("cls_token", "max_tokens", "mean_sqrt_len_tokens", "lasttoken", "mean_tokens")


def pooling_settings(read_json: Callable[[str], Optional[Any]], model_max: Optional[int]) -> dict[str, Any]:
    """``mode``, ``normalize`` and ``max_length`` from the model's files, read with
    ``read_json(name)`` (None for a file the model lacks); ``model_max``: the tokenizer's or the
    positions' limit, used when the files give none."""
    pooling = read_json("1_Pooling/config.json") or {}
    modules = read_json("modules.json")
    sbert = read_json("sentence_bert_config.json") or {}
    mode = next((m for m in MODES if pooling.get(f"pooling_mode_{m}")), "mean_tokens")
    normalize = True if modules is None else any(str(m.get("type", "")).endswith("Normalize") for m in modules)
    limit = int(sbert.get("max_seq_length") or model_max or 512)
    return {"mode": mode, "normalize": normalize, "max_length": min(limit, 8192)}
