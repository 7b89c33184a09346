"""Greedy decoding of several prompts at once on llama.cpp: one ``llama_batch`` per step.

A step that decodes several sequences in one ``llama_decode`` call reads the weights once for
all of them. :class:`BatchContext` is a second llama context on the weights already loaded
(nothing is read from disk again), with one KV stream per slot (``kv_unified=false``: each
sequence's cells stay contiguous, as in a context of its own) and one spare stream. The
prompts' longest common prefix (a chat template's header and system prompt) is evaluated once
in the spare stream and copied into each slot; the rest of a prompt is evaluated alone when it
enters its slot. Then each step decodes one token of every active sequence. When a sequence
finishes, its slot takes the next waiting prompt (continuous refill); when none waits, the
last slots move down into the free ones, since llama.cpp decodes one pass only over
consecutive sequence ids.

Tokens are chosen as in ``generate_greedy``: the argmax, the schema's grammar checked lazily,
EOG tokens stop, and a sequence ends at ``max_tokens`` or at the window. Where llama.cpp
multiplies a row the same whatever the batch (SmolLM2's Q4_1) the text is the same token for
token. Q4_K weights that llama.cpp repacks (the Qwen packs) are multiplied 4 rows at a time by
another kernel than a single row, and which rows of a prompt go together depends on where its
evaluation starts, so the last bits differ and near ties go either way: measured on the 0.5B
pack, 12 answers of 64 tokens, 6 are the same batched; one at a time, 7 are the same whether
the cache held the previous prompt or nothing.
"""

from __future__ import annotations

import codecs
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Optional

import llama_cpp
import numpy as np
from llama_cpp import _internals

from .greedy import LazyGrammar

#: A sequence's result: (text, tokens written, finish reason "stop" or "length").
Generation = tuple[str, int, str]
_PAD = 256  # slot sizes are rounded up to this
_MIN_SHARED = 8  # a shorter common prefix is evaluated with each prompt


def supported() -> bool:
    """Whether this llama-cpp-python has per-sequence KV streams and memory calls."""
    fields = {name for name, _ in llama_cpp.llama_context_params._fields_}
    return "kv_unified" in fields and hasattr(llama_cpp, "llama_memory_seq_cp")


def slot_size(prompt_tokens: int, max_tokens: int, window: int) -> int:
    """Cells one sequence needs (its prompt and answer, within ``window``), rounded up."""
    need = min(window, prompt_tokens + max_tokens)
    return -(-need // _PAD) * _PAD


class BatchContext:
    """A llama context on ``llm``'s loaded weights: ``slots`` sequences and a spare one, each
    up to ``slot_tokens`` tokens; threads, batch size and KV types as ``llm``'s own context."""

    def __init__(self, llm: Any, slots: int, slot_tokens: int):
        self.slots, self.slot_tokens, self.n_batch = slots, slot_tokens, llm.n_batch
        main = llm.context_params
        params = llama_cpp.llama_context_default_params()
        params.n_ctx = (slots + 1) * slot_tokens
        params.n_batch, params.n_ubatch = llm.n_batch, main.n_ubatch
        params.n_seq_max = slots + 1
        params.kv_unified = False
        params.n_threads, params.n_threads_batch = main.n_threads, main.n_threads_batch
        params.flash_attn_type, params.type_k, params.type_v = main.flash_attn_type, main.type_k, main.type_v
        params.no_perf = True
        # llama-cpp-python's wrapper frees this context before the model it was made on
        self._context: Optional[Any] = _internals.LlamaContext(model=llm._model, params=params, verbose=False)
        self.ctx, self.memory = self._context.ctx, self._context.memory

    def fits(self, slots: int, slot_tokens: int) -> bool:
        return self._context is not None and slots <= self.slots and slot_tokens <= self.slot_tokens

    def close(self) -> None:
        if self._context is not None:
            self._context.close()
            self._context = self.ctx = self.memory = None


@dataclass
class _Sequence:
    index: int
    prompt_tokens: int
    limit: int
    grammar: Optional[LazyGrammar]
    pieces: list[str]
    pos: int  # tokens in the slot's cells
    last: int = -1  # the token chosen last, evaluated by the next step
    written: int = 0
    decoder: Any = field(default_factory=lambda: codecs.getincrementaldecoder("utf-8")(errors="replace"))

    def result(self, finish: str) -> Generation:
        if self.grammar is not None:
            self.grammar.close()
        return "".join(self.pieces) + self.decoder.decode(b"", final=True), self.written, finish


def generate_batch(
    llm: Any,
    ctx: BatchContext,
    prompts: Sequence[Sequence[int]],
    *,
    max_tokens: Sequence[int],
    schemas: Sequence[Optional[dict]],
    window: int,
    width: Optional[int] = None,
    on_done: Optional[Callable[[int], None]] = None,
) -> list[Generation]:
    """Greedy continuations of ``prompts`` (token ids), ``width`` at a time (at most
    ``ctx.slots``), in input order. ``window`` caps each sequence's prompt and answer, as
    ``llm``'s context caps ``generate_greedy``'s; ``on_done(index)`` is called as each
    sequence finishes."""
    if any(len(p) >= window for p in prompts):
        raise ValueError(f"a prompt does not fit the {window}-token window")
    run = _Run(llm, ctx, window, min(width or ctx.slots, ctx.slots), on_done)
    try:
        return run.generate(prompts, max_tokens, schemas)
    finally:
        run.close()


class _Run:
    """One ``generate_batch`` call: the slots' sequences and the ``llama_batch`` they share."""

    def __init__(self, llm: Any, ctx: BatchContext, window: int, width: int, on_done: Optional[Callable[[int], None]]):
        self.llm, self.ctx, self.window, self.width, self.on_done = llm, ctx, window, width, on_done
        self.vocab, self.n_vocab = llm._model.vocab, llm.n_vocab()
        self.active: dict[int, _Sequence] = {}  # by slot
        self.results: dict[int, Generation] = {}
        self.batch = llama_cpp.llama_batch_init(max(ctx.n_batch, ctx.slots), 0, 1)
        llama_cpp.llama_memory_clear(ctx.memory, False)

    def generate(
        self, prompts: Sequence[Sequence[int]], max_tokens: Sequence[int], schemas: Sequence[Optional[dict]]
    ) -> list[Generation]:
        waiting = deque(i for i in range(len(prompts)) if max_tokens[i] > 0)
        shared = self._shared_prefix([prompts[i] for i in waiting])
        while waiting or self.active:
            for slot in range(self.width):  # refill the lowest free slots
                while slot not in self.active and waiting:
                    i = waiting.popleft()
                    schema = schemas[i]
                    grammar = LazyGrammar(self.llm, schema) if schema is not None else None
                    self.active[slot] = _Sequence(i, len(prompts[i]), max_tokens[i], grammar, [], shared)
                    if shared:
                        llama_cpp.llama_memory_seq_cp(self.ctx.memory, self.ctx.slots, slot, -1, -1)
                    self._prefill(slot, prompts[i][shared:])
            _compact(self.ctx, self.active)
            self._step()
        return [self.results.get(i, ("", 0, "length")) for i in range(len(prompts))]

    def _prefill(self, slot: int, tokens: Sequence[int]) -> None:
        """Evaluate a prompt's own tokens alone (one sequence per call, as ``generate_greedy``
        does: mixed with other sequences' tokens, llama.cpp's attention may round differently),
        then choose its first token."""
        seq, row = self.active[slot], 0
        for start in range(0, len(tokens), self.ctx.n_batch):
            chunk = tokens[start : start + self.ctx.n_batch]
            for k, token in enumerate(chunk):
                _put(self.batch, k, token, seq.pos + k, slot, k == len(chunk) - 1)
            seq.pos, row = seq.pos + len(chunk), len(chunk) - 1
            self.batch.n_tokens = len(chunk)
            _decode(self.ctx, self.batch)
        self._advance(slot, row)

    def _step(self) -> None:
        """One token of every active sequence, in slot order, in one decode."""
        slots = sorted(self.active)
        for k, slot in enumerate(slots):
            seq = self.active[slot]
            _put(self.batch, k, seq.last, seq.pos, slot, True)
            seq.pos += 1
        self.batch.n_tokens = len(slots)
        if slots:
            _decode(self.ctx, self.batch)
        for k, slot in enumerate(slots):
            self._advance(slot, k)

    def _advance(self, slot: int, row: int) -> None:
        """Choose the sequence's next token from the logits of ``row``; finish it or keep it."""
        seq = self.active[slot]
        logits = np.ctypeslib.as_array(llama_cpp.llama_get_logits_ith(self.ctx.ctx, row), shape=(self.n_vocab,))
        token = int(np.argmax(logits))
        if seq.grammar is not None and not seq.grammar.allows(token):
            token = seq.grammar.best(logits)
        if llama_cpp.llama_vocab_is_eog(self.vocab, token):
            return self._finish(slot, "stop")
        if seq.grammar is not None:
            seq.grammar.accept(token)
        seq.written += 1
        piece = seq.decoder.decode(self.llm.detokenize([token]))
        if piece:
            seq.pieces.append(piece)
        if seq.written >= seq.limit or seq.prompt_tokens + seq.written >= self.window:
            return self._finish(slot, "length")
        seq.last = token

    def _finish(self, slot: int, reason: str) -> None:
        seq = self.active.pop(slot)
        llama_cpp.llama_memory_seq_rm(self.ctx.memory, slot, -1, -1)
        self.results[seq.index] = seq.result(reason)
        if self.on_done is not None:
            self.on_done(seq.index)

    def _shared_prefix(self, prompts: Sequence[Sequence[int]]) -> int:
        """Evaluate the prompts' longest common prefix into the spare stream; its length (0 when
        too short to be worth it). Every prompt keeps at least one token of its own."""
        if len(prompts) < 2:
            return 0
        first, n = prompts[0], min(len(p) for p in prompts) - 1
        for p in prompts[1:]:
            n = next((k for k in range(n) if p[k] != first[k]), n)
        if n < _MIN_SHARED:
            return 0
        for start in range(0, n, self.ctx.n_batch):
            chunk = first[start : min(n, start + self.ctx.n_batch)]
            for k, token in enumerate(chunk):
                _put(self.batch, k, token, start + k, self.ctx.slots, False)
            self.batch.n_tokens = len(chunk)
            _decode(self.ctx, self.batch)
        return n

    def close(self) -> None:
        for seq in self.active.values():
            if seq.grammar is not None:
                seq.grammar.close()
        llama_cpp.llama_batch_free(self.batch)
        llama_cpp.llama_memory_clear(self.ctx.memory, False)


def _put(batch: Any, k: int, token: int, pos: int, seq_id: int, logits: bool) -> None:
    batch.token[k], batch.pos[k], batch.n_seq_id[k], batch.logits[k] = token, pos, 1, logits
    batch.seq_id[k][0] = seq_id


def _decode(ctx: BatchContext, batch: Any) -> None:
    rc = llama_cpp.llama_decode(ctx.ctx, batch)
    if rc != 0:
        raise RuntimeError(f"llama_decode returned {rc} for a batch of {batch.n_tokens} tokens")


def _compact(ctx: BatchContext, active: dict[int, _Sequence]) -> None:
    """Move the highest sequences down into free slots below them (a copy of their stream):
    llama.cpp decodes a step in one pass over consecutive sequence ids only, one pass per run
    of ids otherwise, reading the weights each time."""
    while active:
        free = next(s for s in range(len(active) + 1) if s not in active)
        top = max(active)
        if free > top:
            return
        llama_cpp.llama_memory_seq_cp(ctx.memory, top, free, -1, -1)
        llama_cpp.llama_memory_seq_rm(ctx.memory, top, -1, -1)
        active[free] = active.pop(top)
