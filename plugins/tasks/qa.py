"""``task=qa``: answer a question from a context, with the answer's place in the context.

Two paths, chosen by what the model is:

- an extractive QA model (``model=`` names a ``*ForQuestionAnswering`` model): its span
  decoding over overlapping windows of the context (``max_seq_len``, ``doc_stride``), up to
  ``top_k`` distinct answers; the score is the model's ``p(start) * p(end)``. With
  ``handle_impossible_answer`` the model's "no answer" score competes and wins with an
  empty answer list. Method ``extractive``.
- a chat model (the default, ``qwen2.5-coder-1.5b``): asked for JSON ``{"answer": exact quote
  or "", "found": bool}`` (constrained to the schema on llama.cpp). The quote is located in
  the context: exactly, then ignoring case, then with any whitespace between its words, each
  tried again without surrounding quotes/punctuation. ``found=false``, an empty quote or a
  quote that is not in the context give no answer. At most one answer (``top_k`` does not
  apply), and "no answer" is always possible. Method ``chat-json``.

  Score of a chat answer: the chat model's probability of "yes" against "no" when asked
  whether the located quote is the answer to the question (label scoring: one short forward
  pass, the context prefix cached from the generation). It says how sure the model is of
  its quote, not a span probability. Below ``chat_min_score`` (0.5: the model rejects its
  own quote) there is no answer. Small models nearly always set ``found=true`` and quote
  something, often the whole context, for a question the context does not answer; this
  check is what turns those into "no answer" (qwen2.5-coder-1.5b: 19 of 20 hand-made cases
  right). qwen2.5-coder-0.5b's check is uncalibrated (about 0.5 whatever the quote): use
  ``chat_min_score=0`` with it. A backend without label scoring gives ``UNSCORED`` (0.0)
  and keeps the quote.

Both paths return :class:`taskdeck.Answers` with ``context[start:end] == answer``; an empty
list means the context holds no answer (the terminal shows "(no answer in the context)").
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from taskdeck import (
    CHAT,
    EXTRACT_ANSWER,
    SCORE_LABELS,
    Answer,
    Answers,
    InputError,
    Task,
    hookimpl,
    param,
    required,
    route,
)
from taskdeck.evaluation import ANSWERS
from taskdeck.helpers.label_scoring import yes_probability

DEFAULT_MODEL = "qwen2.5-coder-1.5b"
UNSCORED = 0.0  # score of a chat answer when the backend cannot score labels
MAX_QUOTE = 400  # maxLength of the chat model's quote (characters)
MAX_NEW_TOKENS = 256
SYSTEM = "You judge whether a context answers a question, and quote answers word for word from it."
CONTEXT = "Context:\n{context}\n\nQuestion: {question}\n\n"
PROMPT = CONTEXT + (
    "If the context answers the question, give as answer the shortest exact quote from the "
    "context that answers it, and set found to true. If it does not, give an empty answer "
    "and set found to false."
)
VERIFY = CONTEXT + 'Is "{answer}" the answer to the question according to the context? Answer yes or no.'
SCHEMA = {
    "type": "object",
    "properties": {"answer": {"type": "string", "maxLength": MAX_QUOTE}, "found": {"type": "boolean"}},
    "required": ["answer", "found"],
    "additionalProperties": False,
}


class QATask(Task):
    name = "qa"
    aliases = ("question-answering",)  # transformers' pipeline name
    description = "answer a question from a context: an extractive QA model's span, or a chat model's quote"
    batch_fields = ("question", "context")

    @dataclass
    class Params:
        question: str = required("the question")
        context: str = required("the text that holds the answer")
        top_k: int = param(1, "how many answers to give, best first (extractive models)", ge=1)
        max_answer_len: int = param(30, "longest answer in tokens (extractive models)", ge=1)
        max_seq_len: int = param(384, "tokens per window of question + context (extractive models)", ge=8)
        doc_stride: int = param(128, "tokens of overlap between windows of a long context (extractive models)", ge=0)
        handle_impossible_answer: bool = param(
            False, "let 'no answer' win when the model rates it above every span (extractive models)"
        )
        model: str = param(DEFAULT_MODEL, "model pack alias, local path or Hub id (a QA model for the dedicated path)")
        chat_min_score: float = param(
            0.5,
            "chat models: no answer when the model's yes/no check of its own quote "
            "scores below this (0 keeps every quote found in the context)",
            ge=0,
            le=1,
        )

    eval_metric = ANSWERS
    chunk_size = 64  # pairs per extract_answer call (each pair may be several windows)

    def prepare(self, params) -> tuple[str, str]:
        return _inputs(params)

    def input_size(self, item) -> int:
        return len(item[0]) + len(item[1])

    @route(EXTRACT_ANSWER, batched=True)
    def forward(self, backend, items, params, ctx):
        """The extractive model over many pairs at once: their windows share forward batches."""
        found = backend.extract_answer([q for q, _ in items], [c for _, c in items], **_options(params))
        return [_result(q, c, spans, "extractive") for (q, c), spans in zip(items, found)]

    @route(CHAT)
    def quote(self, backend, item, params, ctx):
        """A chat model's quote from the context, checked by its own yes/no judgement."""
        question, context = item
        return _result(question, context, chat_answer(backend, question, context, params.chat_min_score), "chat-json")


def _inputs(params) -> tuple[str, str]:
    question = params.question.strip() if isinstance(params.question, str) else ""
    if not question:
        raise InputError('question= is empty: give the question, e.g. question="Where does Maria live?"')
    context = params.context if isinstance(params.context, str) else ""
    if not context.strip():
        raise InputError(
            'context= is empty: give the text that holds the answer, e.g. context="Maria lives in Lisbon."'
        )
    return question, context


def _options(params) -> dict:
    return dict(
        top_k=params.top_k,
        max_answer_len=params.max_answer_len,
        max_seq_len=params.max_seq_len,
        doc_stride=params.doc_stride,
        handle_impossible_answer=bool(params.handle_impossible_answer),
    )


def chat_answer(backend, question: str, context: str, min_score: float = 0.5) -> list[dict]:
    """The chat model's quote, located in the context and scored; [] for no answer."""
    from taskdeck.helpers.structured import chat_json

    messages = [
        {"role": "system", "content": SYSTEM},
        {"role": "user", "content": PROMPT.format(context=context, question=question)},
    ]
    try:
        data = chat_json(backend, messages, SCHEMA, max_new_tokens=MAX_NEW_TOKENS)
    except InputError as exc:  # the backend's one line for a prompt longer than its window
        raise InputError(f"{exc}; or name an extractive QA model with model=") from None
    quote = str(data.get("answer", ""))
    if not data.get("found") or not quote.strip():
        return []
    span = locate(context, quote)
    if span is None:
        return []
    start, end = span
    answer = context[start:end]
    if SCORE_LABELS not in backend.capabilities():
        return [{"answer": answer, "score": UNSCORED, "start": start, "end": end}]
    score = yes_probability(backend, SYSTEM, VERIFY.format(context=context, question=question, answer=answer))
    if score < min_score:  # the model rejects its own quote
        return []
    return [{"answer": answer, "score": score, "start": start, "end": end}]


_EDGE = " \t\r\n\"'`“”‘’«».,;:!?()[]{}"


def locate(context: str, quote: str):
    """``(start, end)`` of ``quote`` in ``context``, or None: exact, then ignoring case,
    then with any whitespace between words (ignoring case); each tier is tried again with
    surrounding quotes and punctuation stripped from the quote."""
    tries = [quote.strip()]
    stripped = quote.strip(_EDGE)
    if stripped and stripped != tries[0]:
        tries.append(stripped)
    for q in tries:
        if not q:
            continue
        at = context.find(q)
        if at >= 0:
            return at, at + len(q)
        m = re.search(re.escape(q), context, flags=re.IGNORECASE)
        if m:
            return m.span()
        m = re.search(r"\s+".join(re.escape(w) for w in q.split()), context, flags=re.IGNORECASE)
        if m:
            return m.span()
    return None


def _result(question: str, context: str, found: list[dict], method: str) -> Answers:
    answers = [
        Answer(
            answer=context[d["start"] : d["end"]],
            score=round(float(d["score"]), 6),
            start=int(d["start"]),
            end=int(d["end"]),
        )
        for d in found
    ]
    return Answers(question=question, answers=answers, context=context, method=method)


@hookimpl
def register_tasks(register):
    register(QATask)
