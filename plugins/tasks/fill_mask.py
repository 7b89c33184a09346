"""``task=fill-mask``: the most likely words for the ``[MASK]`` in a text.

The mask is written ``[MASK]`` or ``<mask>`` (exactly one); a masked LM gets its own mask
token in its place. Two paths, chosen by what the model is:

- a masked LM (``model=`` names a ``*ForMaskedLM`` model): the transformers fill-mask
  pipeline, ``top_k`` tokens, optionally limited to ``targets``; scores are the model's
  probabilities of the token at the mask (with targets, still over the whole vocabulary).
- a chat model (the default, ``qwen2.5-coder-1.5b``). No masked LM is packaged: the
  embedded all-MiniLM-L6-v2 is a BERT encoder without its MLM head, so it cannot fill a
  mask. The chat model proposes ``top_k`` words as JSON (constrained to the schema on
  llama.cpp), or takes ``targets`` as given, and then scores them: each candidate's
  probability as the model's one-word answer to "which word goes in place of [MASK]?"
  (label scoring: one forward pass, the candidates' tokens walked as a trie), normalised
  over the candidates. So a score is relative to the other candidates, not over a
  vocabulary. A backend without label scoring gives rank-based scores for proposed words
  (``1/rank``, normalised to sum to 1) and refuses ``targets``.

Both paths return :class:`taskdeck.FillMask`, candidates best first, each with the text
the candidate makes (``sequence``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from taskdeck import (
    CHAT,
    FILL_MASK,
    SCORE_LABELS,
    Candidate,
    CapabilityError,
    FillMask,
    InputError,
    Task,
    hookimpl,
    param,
    required,
    route,
)
from taskdeck.helpers.label_scoring import normalise

DEFAULT_MODEL = "qwen2.5-coder-1.5b"
MASK_PATTERN = re.compile(r"\[mask\]|<mask>", flags=re.IGNORECASE)
SHOWN_MASK = "[MASK]"  # how the chat model sees the mask
MAX_WORD = 40  # maxLength of a proposed word (characters)
SYSTEM = "You fill in the missing word of a sentence."
PROPOSE = (
    "In the sentence below, [MASK] stands for one missing word.\n\nSentence: {text}\n\n"
    "List the {top_k} most likely words for [MASK], most likely first, each word different."
)
SCORE = (
    "In the sentence below, [MASK] stands for one missing word.\n\nSentence: {text}\n\n"
    "Which word goes in place of [MASK]? Answer with the word only."
)
#: How to write it on a shell command line: Hydra needs values holding [ ] or < > quoted.
EXAMPLE = "'text=\"Paris is the [MASK] of France.\"'"


class FillMaskTask(Task):
    name = "fill-mask"
    description = "the most likely words for [MASK] in a text: a masked LM, or a chat model proposing and scoring words"
    batch_fields = ("text",)

    @dataclass
    class Params:
        text: str = required("the text, with one [MASK] (or <mask>) where the missing word goes")
        top_k: int = param(5, "how many candidates to give, best first", ge=1)
        targets: list = param([], "score only these words, e.g. targets=[Paris,London] (empty: any word)")
        model: str = param(DEFAULT_MODEL, "model pack alias, local path or Hub id (a masked LM for the dedicated path)")

    def prepare(self, params) -> str:
        return _inputs(params)[0]

    @route(FILL_MASK, batched=True)
    def forward(self, backend, items, params, ctx):
        """The masked LM over many texts at once (rows forwarded together share top_k and targets)."""
        targets = _inputs(params)[1] or None
        found = backend.fill_mask(items, top_k=params.top_k, targets=targets)
        return [_result(text, candidates, "masked-lm") for text, candidates in zip(items, found)]

    @route(CHAT)
    def score(self, backend, text, params, ctx):
        """A chat model scoring candidate words for the mask."""
        return _result(text, chat_fill(backend, text, params.top_k, _inputs(params)[1]), "chat-label-scoring")


def _inputs(params) -> tuple[str, list[str]]:
    text = params.text.strip() if isinstance(params.text, str) else ""
    if not text:
        raise InputError(f"text= is empty: give a text with one [MASK], e.g. {EXAMPLE}")
    masks = len(MASK_PATTERN.findall(text))
    if masks != 1:
        raise InputError(
            f"text= needs exactly one [MASK] (or <mask>) where the missing word goes, found {masks}: e.g. {EXAMPLE}"
        )
    targets = list(dict.fromkeys(str(t).strip() for t in (params.targets or []) if str(t).strip()))
    return text, targets


def fill(text: str, word: str) -> str:
    """``text`` with its mask replaced by ``word``."""
    return MASK_PATTERN.sub(lambda _m: word, text, count=1)


def word_schema(top_k: int) -> dict:
    """The JSON schema the chat model proposes words in: a bounded list of short strings."""
    return {
        "type": "object",
        "properties": {
            "words": {
                "type": "array",
                "minItems": 1,
                "maxItems": top_k,
                "items": {"type": "string", "minLength": 1, "maxLength": MAX_WORD},
            }
        },
        "required": ["words"],
        "additionalProperties": False,
    }


def chat_fill(backend, text: str, top_k: int, targets: list[str]) -> list[dict]:
    """Candidates for the mask from a chat model: proposed (or the targets), then scored."""
    from taskdeck.helpers.structured import chat_json

    shown = MASK_PATTERN.sub(SHOWN_MASK, text)
    can_score = SCORE_LABELS in backend.capabilities()
    if targets:
        if not can_score:
            raise CapabilityError(
                "targets= with a chat model needs a backend that scores labels "
                "(backend=llama_cpp or backend=transformers)"
            )
        words = targets
    else:
        messages = [
            {"role": "system", "content": SYSTEM},
            {"role": "user", "content": PROPOSE.format(text=shown, top_k=top_k)},
        ]
        data = chat_json(backend, messages, word_schema(top_k), max_new_tokens=24 * top_k + 32)
        words, seen = [], set()
        for raw in data.get("words", []):
            word = str(raw).strip().strip("\"'`.,;:!?")
            if word and word.lower() not in seen and not MASK_PATTERN.search(word):
                seen.add(word.lower())
                words.append(word)
        if not words:
            return []
    if can_score:
        messages = [{"role": "system", "content": SYSTEM}, {"role": "user", "content": SCORE.format(text=shown)}]
        probs = normalise(backend.score_labels(messages, words))
        scored = sorted(((w, probs[w]) for w in words), key=lambda kv: -kv[1])
    else:
        z = sum(1 / r for r in range(1, len(words) + 1))
        scored = [(w, (1 / r) / z) for r, w in enumerate(words, start=1)]
    return [{"token": w, "score": s, "sequence": fill(text, w)} for w, s in scored[:top_k]]


def _result(text: str, found: list[dict], method: str) -> FillMask:
    return FillMask(
        text=text,
        candidates=[
            Candidate(token=d["token"], score=round(float(d["score"]), 6), sequence=d["sequence"]) for d in found
        ],
        method=method,
    )


@hookimpl
def register_tasks(register):
    register(FillMaskTask)
