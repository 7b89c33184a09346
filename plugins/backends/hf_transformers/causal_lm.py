"""Causal LMs on the transformers backend: ``chat`` (the model's chat template, streamed,
``generate`` options) and ``score_labels`` (next-token log-probabilities, walked as a trie)."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any, Optional

from taskdeck import Completion, InputError
from taskdeck.helpers.label_scoring import label_variants, score_token_sequences


def encode(backend: Any, messages: Sequence[Any]) -> Any:
    """The chat template applied to ``messages``, with the generation prompt, as tensors."""
    return backend.tokenizer.apply_chat_template(
        list(messages), add_generation_prompt=True, return_tensors="pt", return_dict=True
    )


def chat(
    backend: Any,
    messages: Sequence[Any],
    *,
    max_new_tokens: int = 256,
    temperature: float = 0.0,
    stream: Optional[Callable[[str], None]] = None,
    **options: Any,
) -> Completion:
    import torch
    from transformers import TextStreamer

    inputs = encode(backend, messages).to(backend.device)
    n_prompt = inputs["input_ids"].shape[1]
    window = backend.context_window()
    if n_prompt >= window:
        raise InputError(
            f"the prompt is {n_prompt} tokens, more than the model's {window}-token window: shorten the input"
        )
    gen: dict[str, Any] = dict(max_new_tokens=min(max_new_tokens, window - n_prompt), do_sample=temperature > 0)
    if temperature > 0:
        gen["temperature"] = temperature
    for key in ("top_p", "top_k", "repetition_penalty", "num_beams"):
        if options.get(key) is not None:
            gen[key] = options[key]
    if options.get("stop"):
        gen["stop_strings"], gen["tokenizer"] = options["stop"], backend.tokenizer
    if options.get("seed") is not None:
        torch.manual_seed(int(options["seed"]))
    streamer = None
    beams = (options.get("num_beams") or 1) > 1  # beam search cannot stream: emit at the end
    if stream is not None and not beams:
        emit = stream

        class _Callback(TextStreamer):
            def on_finalized_text(self, text: str, stream_end: bool = False) -> None:
                if text:
                    emit(text)

        streamer = _Callback(backend.tokenizer, skip_prompt=True, skip_special_tokens=True)
    start = time.perf_counter()
    with torch.inference_mode():
        out = backend.hf_model.generate(**inputs, streamer=streamer, pad_token_id=backend.tokenizer.eos_token_id, **gen)
    seconds = time.perf_counter() - start
    new = out[0, n_prompt:]
    text = backend.tokenizer.decode(new, skip_special_tokens=True)
    if stream is not None and beams and text:
        stream(text)
    return Completion(
        text=text,
        prompt_tokens=n_prompt,
        completion_tokens=int(new.shape[0]),
        seconds=seconds,
        finish_reason="length" if new.shape[0] >= max_new_tokens else "stop",
    )


def score_labels(backend: Any, messages: Sequence[Any], labels: Sequence[str]) -> dict[str, float]:
    import torch

    prompt = encode(backend, messages)["input_ids"][0].tolist()

    def next_logprobs(prefix):
        ids = torch.tensor([prompt + list(prefix)], device=backend.device)
        with torch.inference_mode():
            logits = backend.hf_model(input_ids=ids).logits[0, -1].float()
        return torch.log_softmax(logits, dim=-1).cpu()

    seqs = {
        label: [backend.tokenizer.encode(v, add_special_tokens=False) for v in label_variants(label)]
        for label in labels
    }
    return score_token_sequences(seqs, next_logprobs)
