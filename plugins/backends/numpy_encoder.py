"""``backend=numpy``: sentence embeddings from BERT-family encoders in numpy, without torch.

The weights are read from the model's ``model.safetensors`` (``helpers.safetensors_file``), the
text is split by the model's ``tokenizer.json`` (the ``tokenizers`` package), and the encoder
runs as transformers' ``BertModel`` does: embeddings, then per layer self-attention and the
feed-forward block, each with its residual and layer norm, exact GELU. Pooling and
normalisation follow the model's sentence-transformers files, as on the transformers backend;
tests hold the vectors to that backend's. It serves ``embed`` for any local BERT-type model
(the embedded ``all-minilm-l6-v2``, the archive's encoder), so meaning search needs no torch.
"""

from __future__ import annotations

import importlib.util
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional

from taskdeck import EMBED, Backend, BackendParams, hookimpl, param

_TYPES = ("bert",)


@dataclass
class NumpyEncoderParams(BackendParams):
    name: str = "numpy"
    batch_size: int = param(32, "texts encoded together", ge=1)


class NumpyEncoder(Backend):
    name = "numpy"
    description = "sentence embeddings from BERT-family encoders in numpy (safetensors weights, no torch)"
    Params = NumpyEncoderParams
    formats = ("hf",)
    all_capabilities = (EMBED,)
    extra = "embed"
    priority = 40  # before transformers (50): the same vectors without importing torch

    @classmethod
    def missing_package(cls) -> Optional[str]:
        for module in ("numpy", "tokenizers"):
            if importlib.util.find_spec(module) is None:
                return module
        return None

    def capabilities(self) -> set[str]:
        """``embed`` for a local BERT-type encoder with safetensors weights and a tokenizer.json."""
        if self.model.source not in ("pack", "path"):
            return set()
        folder = self.model.path()
        config = _json(folder / "config.json") or {}
        ok = (
            config.get("model_type") in _TYPES
            and config.get("position_embedding_type", "absolute") == "absolute"
            and config.get("hidden_act", "gelu") == "gelu"
            and (folder / "model.safetensors").is_file()
            and (folder / "tokenizer.json").is_file()
        )
        return {EMBED} if ok else set()

    def load(self) -> None:
        from tokenizers import Tokenizer

        from taskdeck.helpers.safetensors_file import read_safetensors
        from taskdeck.helpers.sentence_pooling import pooling_settings

        folder = self.model.path()
        self.config = _json(folder / "config.json") or {}
        positions = int(self.config.get("max_position_embeddings", 512))
        self.settings = pooling_settings(lambda name: _json(folder / name), positions)
        self.settings["max_length"] = min(self.settings["max_length"], positions)
        self.tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
        self.tokenizer.no_padding()
        self.tokenizer.enable_truncation(self.settings["max_length"])
        self.weights = _Weights(read_safetensors(folder / "model.safetensors"), self.config)
        self.loaded = True

    def unload(self) -> None:
        for name in ("weights", "tokenizer"):
            self.__dict__.pop(name, None)
        self.loaded = False

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        import numpy as np

        texts = [str(t) for t in texts]
        if not texts:
            return []
        encodings = self.tokenizer.encode_batch(texts)
        order = sorted(range(len(texts)), key=lambda i: len(encodings[i].ids))
        vectors: list[Any] = [None] * len(texts)
        size = self.params.batch_size
        for start in range(0, len(order), size):
            chunk = order[start : start + size]
            width = max(len(encodings[i].ids) for i in chunk)
            ids = np.zeros((len(chunk), width), dtype=np.int64)
            mask = np.zeros((len(chunk), width), dtype=np.float32)
            for row, i in enumerate(chunk):
                n = len(encodings[i].ids)
                ids[row, :n] = encodings[i].ids
                mask[row, :n] = 1.0
            pooled = _pool(self.weights.encode(ids, mask), mask, self.settings["mode"])
            if self.settings["normalize"]:
                pooled /= np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12)
            for i, vec in zip(chunk, pooled.tolist()):
                vectors[i] = vec
        return vectors


class _Weights:
    """A BERT encoder's weights as float32 arrays (matrices transposed for ``x @ w``), and its
    forward pass."""

    def __init__(self, tensors: dict[str, Any], config: dict[str, Any]):
        import numpy as np

        prefix = "bert." if any(k.startswith("bert.") for k in tensors) else ""

        def get(name: str, transpose: bool = False) -> Any:
            value = np.asarray(tensors[prefix + name], dtype=np.float32)
            return np.ascontiguousarray(value.T) if transpose else value

        self.heads = int(config["num_attention_heads"])
        self.eps = float(config.get("layer_norm_eps", 1e-12))
        self.word = get("embeddings.word_embeddings.weight")
        self.position = get("embeddings.position_embeddings.weight")
        self.token_type = get("embeddings.token_type_embeddings.weight")[0]
        self.norm = (get("embeddings.LayerNorm.weight"), get("embeddings.LayerNorm.bias"))
        self.layers: list[dict[str, Any]] = []
        for i in range(int(config["num_hidden_layers"])):
            p = f"encoder.layer.{i}."
            qkv = [get(p + f"attention.self.{n}.weight", True) for n in ("query", "key", "value")]
            qkv_bias = [get(p + f"attention.self.{n}.bias") for n in ("query", "key", "value")]
            self.layers.append(
                {
                    "qkv": np.ascontiguousarray(np.concatenate(qkv, axis=1)),
                    "qkv_bias": np.concatenate(qkv_bias),
                    "out": get(p + "attention.output.dense.weight", True),
                    "out_bias": get(p + "attention.output.dense.bias"),
                    "norm1": (get(p + "attention.output.LayerNorm.weight"), get(p + "attention.output.LayerNorm.bias")),
                    "up": get(p + "intermediate.dense.weight", True),
                    "up_bias": get(p + "intermediate.dense.bias"),
                    "down": get(p + "output.dense.weight", True),
                    "down_bias": get(p + "output.dense.bias"),
                    "norm2": (get(p + "output.LayerNorm.weight"), get(p + "output.LayerNorm.bias")),
                }
            )

    def encode(self, ids: Any, mask: Any) -> Any:
        """Token ids (batch, tokens) and their mask → the last hidden states (batch, tokens, dim)."""
        import numpy as np

        batch, tokens = ids.shape
        x = self.word[ids] + self.position[:tokens] + self.token_type
        x = _layer_norm(x, self.norm, self.eps)
        dim = x.shape[-1]
        head = dim // self.heads
        hidden_mask = ((1.0 - mask) * np.finfo(np.float32).min)[:, None, None, :]
        for layer in self.layers:
            qkv = x @ layer["qkv"] + layer["qkv_bias"]
            q, k, v = (
                qkv[..., j * dim : (j + 1) * dim].reshape(batch, tokens, self.heads, head).transpose(0, 2, 1, 3)
                for j in range(3)
            )
            scores = (q @ k.transpose(0, 1, 3, 2)) / np.float32(np.sqrt(head)) + hidden_mask
            scores -= scores.max(axis=-1, keepdims=True)
            np.exp(scores, out=scores)
            scores /= scores.sum(axis=-1, keepdims=True)
            context = (scores @ v).transpose(0, 2, 1, 3).reshape(batch, tokens, dim)
            x = _layer_norm(context @ layer["out"] + layer["out_bias"] + x, layer["norm1"], self.eps)
            up = _gelu(x @ layer["up"] + layer["up_bias"])
            x = _layer_norm(up @ layer["down"] + layer["down_bias"] + x, layer["norm2"], self.eps)
        return x


def _layer_norm(x: Any, scale: tuple[Any, Any], eps: float) -> Any:
    """Layer norm over the last axis; ``scale``: its (weight, bias)."""
    import numpy as np

    weight, bias = scale
    mean = x.mean(axis=-1, keepdims=True)
    var = ((x - mean) ** 2).mean(axis=-1, keepdims=True)
    return (x - mean) / np.sqrt(var + eps) * weight + bias


def _gelu(x: Any) -> Any:
    """Exact GELU, 0.5·x·(1 + erf(x/√2)), with erf to 1.5e-7 (Abramowitz and Stegun 7.1.26),
    computed in place in float32 (scipy's erf is twice as slow here)."""
    import numpy as np

    scaled = x * np.float32(1 / np.sqrt(2))
    z = np.abs(scaled)
    t = np.float32(0.3275911) * z
    t += 1.0
    np.reciprocal(t, out=t)
    erf = np.float32(1.061405429) * t
    for c in (-1.453152027, 1.421413741, -0.284496736, 0.254829592):
        erf += np.float32(c)
        erf *= t
    np.square(z, out=z)
    np.negative(z, out=z)
    np.exp(z, out=z)
    erf *= z
    np.subtract(1.0, erf, out=erf)
    erf *= np.sign(scaled)  # erf(scaled)
    erf += 1.0
    erf *= x
    erf *= 0.5
    return erf


def _pool(hidden: Any, mask: Any, mode: str) -> Any:
    """Token states (batch, tokens, dim) → one vector per text, padding ignored."""
    import numpy as np

    m = mask[..., None]
    if mode == "cls_token":
        return hidden[:, 0].copy()
    if mode == "max_tokens":
        return np.where(m > 0, hidden, -1e9).max(axis=1)
    if mode == "lasttoken":
        return hidden[np.arange(hidden.shape[0]), mask.sum(axis=1).astype(int) - 1].copy()
    counts = np.maximum(m.sum(axis=1), 1e-9)
    return (hidden * m).sum(axis=1) / (np.sqrt(counts) if mode == "mean_sqrt_len_tokens" else counts)


def _json(path: Path) -> Optional[Any]:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


@hookimpl
def register_backends(register):
    register(NumpyEncoder)
