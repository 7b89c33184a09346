"""Fill-mask through a masked LM (the transformers backend's ``fill_mask``).

The transformers fill-mask pipeline around the loaded model. The mask may be written
``[MASK]`` or ``<mask>`` (any case) whatever the model's own mask token is: it is replaced
by the model's token first. Each text holds exactly one mask.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any, Optional

from taskdeck import CapabilityError, InputError

MASK_PATTERN = re.compile(r"\[mask\]|<mask>", flags=re.IGNORECASE)


def fill_mask(
    backend: Any,
    texts: Sequence[str],
    *,
    top_k: int = 5,
    targets: Optional[Sequence[str]] = None,
    batch_size: Optional[int] = None,
) -> list[list[dict[str, Any]]]:
    """Candidates per text, best first: dicts with ``token`` (the pipeline's ``token_str``),
    ``token_id``, ``score`` (the model's probability; with ``targets``, among the whole
    vocabulary, as the pipeline gives it) and ``sequence`` (the text with the token in)."""
    tok = backend.tokenizer
    if tok.mask_token is None:
        raise CapabilityError(f"model '{backend.model.ref}' has no mask token: fill-mask needs a masked LM")
    texts = [with_model_mask(t, tok.mask_token) for t in texts]
    too_long = _too_long(tok, texts)
    if too_long is not None:
        raise InputError(
            f"the text is {too_long} tokens, longer than the model's {tok.model_max_length}: shorten it around the mask"
        )
    pipe = backend.pipeline("fill-mask")
    kwargs: dict[str, Any] = dict(top_k=top_k, batch_size=batch_size or backend.params.batch_size)
    if targets:
        kwargs["targets"] = list(targets)
    outputs = pipe(texts, **kwargs)
    if len(texts) == 1:  # the pipeline unwraps a one-text list
        outputs = [outputs]
    return [
        [
            {
                "token": d["token_str"],
                "token_id": int(d["token"]),
                "score": float(d["score"]),
                "sequence": d["sequence"],
            }
            for d in out
        ]
        for out in outputs
    ]


def with_model_mask(text: str, mask_token: str) -> str:
    """``text`` with its one ``[MASK]`` / ``<mask>`` written as ``mask_token``."""
    found = len(MASK_PATTERN.findall(text))
    if found == 0 and text.count(mask_token) == 1:  # the model's own mask token
        return text
    if found != 1:
        raise InputError(
            f"the text needs exactly one [MASK] where the missing word goes (found {found}), "
            "e.g. 'text=\"Paris is the [MASK] of France.\"'"
        )
    return MASK_PATTERN.sub(lambda _m: mask_token, text)


def _too_long(tok: Any, texts: list[str]) -> Optional[int]:
    limit = tok.model_max_length
    if not limit or limit > 1_000_000:
        return None
    lengths = [len(ids) for ids in tok(texts, add_special_tokens=True, truncation=False)["input_ids"]]
    longest = max(lengths, default=0)
    return longest if longest > limit else None
