"""Extractive question answering (the transformers backend's ``extract_answer``).

transformers 5 removed the question-answering pipeline; this is its span decoding, written
around ``AutoModelForQuestionAnswering``:

- question and context are tokenized together, the context cut into overlapping windows
  (``max_seq_len`` tokens each, ``doc_stride`` tokens of overlap) so a long context is read
  whole; tokenizers that pad on the left take the context first;
- every window goes through the model, ``batch_size`` windows per forward pass;
- in each window the start and end logits are softmaxed over the context tokens and the
  CLS token (everything else masked), and a span's score is ``p(start) * p(end)`` over
  spans of context tokens with ``start <= end`` and at most ``max_answer_len`` tokens;
- spans from all windows are merged, identical character spans counted once (their best
  score), and mapped to character offsets, so ``context[start:end] == answer`` always;
- the "no answer" (null) score is ``p(CLS) * p(CLS)`` of the window most sure there is an
  answer (the lowest across windows, as the old pipeline did). With
  ``handle_impossible_answer`` only spans scoring above it are kept: when it beats the best
  span the answer list is empty.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Optional

from taskdeck import CapabilityError, InputError


def extract_answer(
    backend: Any,
    questions: Sequence[str],
    contexts: Sequence[str],
    *,
    top_k: int = 1,
    max_answer_len: int = 30,
    max_seq_len: int = 384,
    doc_stride: int = 128,
    handle_impossible_answer: bool = False,
    batch_size: Optional[int] = None,
) -> list[list[dict[str, Any]]]:
    """Answer spans per (question, context) pair, best first: dicts with ``answer``,
    ``score``, ``start`` and ``end`` (character offsets into the context). An empty list
    means no answer (only with ``handle_impossible_answer``). Windows of all pairs share
    the forward batches (``batch_size`` windows each; default ``backend.params.batch_size``)."""
    import torch

    questions, contexts = list(questions), list(contexts)
    if len(questions) != len(contexts):
        raise ValueError("extract_answer needs as many questions as contexts")
    tok = backend.tokenizer
    if not getattr(tok, "is_fast", False):
        raise CapabilityError(
            f"extractive QA needs a fast tokenizer (character offsets); model "
            f"'{backend.model.ref}' has only a slow one ({type(tok).__name__})"
        )
    features = []
    for pair, (question, context) in enumerate(zip(questions, contexts)):
        features += _windows(tok, pair, question, context, max_seq_len, doc_stride)

    batch_size = max(1, batch_size or backend.params.batch_size)
    names = [n for n in tok.model_input_names if n in features[0]["inputs"]] if features else []
    device = backend.hf_model.device
    for lo in range(0, len(features), batch_size):
        chunk = features[lo : lo + batch_size]
        padded = tok.pad([{n: f["inputs"][n] for n in names} for f in chunk], return_tensors="pt")
        with torch.inference_mode():
            out = backend.hf_model(**{n: padded[n].to(device) for n in names})
        width = padded["input_ids"].shape[1]
        for i, f in enumerate(chunk):
            n = len(f["inputs"]["input_ids"])
            keep = slice(width - n, width) if tok.padding_side == "left" else slice(0, n)
            f["start_logits"] = out.start_logits[i, keep].float().cpu()
            f["end_logits"] = out.end_logits[i, keep].float().cpu()

    spans: list[dict[tuple[int, int], float]] = [{} for _ in questions]
    null: list[float] = [float("inf")] * len(questions)
    for f in features:
        found, null_score = _decode(f, top_k, max_answer_len)
        best = spans[f["pair"]]
        for span, score in found.items():
            if score > best.get(span, -1.0):
                best[span] = score
        if null_score is not None:
            null[f["pair"]] = min(null[f["pair"]], null_score)

    results = []
    for pair, context in enumerate(contexts):
        ranked = sorted(spans[pair].items(), key=lambda kv: (-kv[1], kv[0]))
        if handle_impossible_answer and null[pair] != float("inf"):
            ranked = [(span, score) for span, score in ranked if score > null[pair]]
        results.append(
            [{"answer": context[s:e], "score": score, "start": s, "end": e} for (s, e), score in ranked[:top_k]]
        )
    return results


def _windows(
    tok: Any, pair: int, question: str, context: str, max_seq_len: int, doc_stride: int
) -> list[dict[str, Any]]:
    """The tokenized windows of one pair, with each token's character span in the context
    (None outside it) and the CLS position."""
    question_first = tok.padding_side != "left"
    limit = tok.model_max_length if tok.model_max_length and tok.model_max_length < 1_000_000 else max_seq_len
    max_len = min(max_seq_len, limit)
    n_question = len(tok(question, add_special_tokens=False)["input_ids"])
    room = max_len - n_question - tok.num_special_tokens_to_add(pair=True)
    if room < 1:
        raise InputError(
            f"the question ({n_question} tokens) leaves no room for the context in "
            f"max_seq_len={max_len} tokens: shorten the question or raise max_seq_len"
        )
    stride = min(doc_stride, room // 2)  # the tokenizer needs stride < room; keep windows moving
    first, second = (question, context) if question_first else (context, question)
    enc = tok(
        first,
        second,
        truncation="only_second" if question_first else "only_first",
        max_length=max_len,
        stride=stride,
        return_overflowing_tokens=True,
        return_offsets_mapping=True,
        padding=False,
    )
    context_id = 1 if question_first else 0
    windows = []
    for w in range(len(enc["input_ids"])):
        ids = enc["input_ids"][w]
        seq_ids = enc.sequence_ids(w)
        offsets = [
            tuple(o) if s == context_id and o[1] > o[0] else None for s, o in zip(seq_ids, enc["offset_mapping"][w])
        ]
        cls = ids.index(tok.cls_token_id) if tok.cls_token_id is not None and tok.cls_token_id in ids else None
        inputs = {k: enc[k][w] for k in enc.keys() if k not in ("offset_mapping", "overflow_to_sample_mapping")}
        windows.append({"pair": pair, "inputs": inputs, "offsets": offsets, "cls": cls})
    return windows


def _decode(f: dict[str, Any], top_k: int, max_answer_len: int):
    """The window's ``top_k`` best distinct character spans ``{(start, end): score}`` and
    its null score (None without a CLS token)."""
    import torch

    in_context = torch.tensor([o is not None for o in f["offsets"]])
    if not bool(in_context.any()):
        return {}, None
    allowed = in_context.clone()
    if f["cls"] is not None:
        allowed[f["cls"]] = True
    p_start = f["start_logits"].masked_fill(~allowed, float("-inf")).softmax(-1)
    p_end = f["end_logits"].masked_fill(~allowed, float("-inf")).softmax(-1)
    null = float(p_start[f["cls"]] * p_end[f["cls"]]) if f["cls"] is not None else None
    n = len(f["offsets"])
    idx = torch.arange(n)
    length = idx[None, :] - idx[:, None]  # end - start
    valid = in_context[:, None] & in_context[None, :] & (length >= 0) & (length < max_answer_len)
    scores = (p_start[:, None] * p_end[None, :])[valid]
    starts, ends = valid.nonzero(as_tuple=True)
    order = torch.argsort(scores, descending=True, stable=True)
    found: dict[tuple[int, int], float] = {}
    for k in order.tolist():
        span = (f["offsets"][int(starts[k])][0], f["offsets"][int(ends[k])][1])
        if span not in found:
            found[span] = float(scores[k])
            if len(found) == top_k:
                break
    return found, null
