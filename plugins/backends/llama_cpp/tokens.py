"""llama.cpp's own tokenizer over a GGUF vocabulary (``Llama(vocab_only=True)``: no weights).

Special tokens written in the text (``<|im_start|>``) are parsed as such, as transformers
does; ``add_special_tokens`` adds what the vocabulary says to add (``add_bos_token``). Offsets
come from walking each token's bytes along the text (llama.cpp reports none).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from taskdeck import CapabilityError, InputError, SpecialToken, Token, Vocabulary
from taskdeck.helpers.token_spans import spans_from_pieces

#: llama_token_attr bits (llama.h): which tokens are control (special) and user-defined (added).
_ATTR_UNKNOWN, _ATTR_CONTROL, _ATTR_USER_DEFINED = 1 << 0, 1 << 3, 1 << 4
#: llama_vocab_type, as the libraries name the algorithms.
_VOCAB_KINDS = {0: "none", 1: "SPM", 2: "BPE", 3: "WordPiece", 4: "Unigram", 5: "RWKV", 6: "PLaMo-2"}


def tokenize(llm: Any, text: str, *, add_special_tokens: bool = True) -> list[Token]:
    ids = llm.tokenize(text.encode("utf-8"), add_bos=add_special_tokens, special=True)
    pieces = [llm.detokenize([i], special=True) for i in ids]
    spans = spans_from_pieces(text, pieces)
    model = llm._model
    return [
        Token(
            id=i,
            token=model.token_get_text(i),
            piece=piece.decode("utf-8", "replace"),
            start=start,
            end=end,
            special=_is_control(model, i),
        )
        for i, piece, (start, end) in zip(ids, pieces, spans)
    ]


def detokenize(llm: Any, ids: Sequence[int], *, skip_special_tokens: bool = False) -> str:
    _check_ids(llm, ids)
    if skip_special_tokens:
        ids = [i for i in ids if not _is_control(llm._model, i)]
    return llm.detokenize(list(ids), special=not skip_special_tokens).decode("utf-8", "replace")


def spell(llm: Any, ids: Sequence[int]) -> list[str]:
    _check_ids(llm, ids)
    return [llm._model.token_get_text(i) for i in ids]


def vocabulary(llm: Any) -> Vocabulary:
    model = llm._model
    roles = {
        "bos": model.token_bos(),
        "eos": model.token_eos(),
        "eot": model.token_eot(),
        "sep": model.token_sep(),
        "pad": _metadata_id(llm, "tokenizer.ggml.padding_token_id"),
        "unk": _metadata_id(llm, "tokenizer.ggml.unknown_token_id"),
    }
    special = [SpecialToken(role, model.token_get_text(i), i) for role, i in roles.items() if i is not None and i >= 0]
    named = {s.id for s in special}
    added = []
    for i in range(llm.n_vocab()):
        attr = model.token_get_attr(i)
        if i not in named and attr & (_ATTR_CONTROL | _ATTR_USER_DEFINED):
            added.append(SpecialToken("control" if attr & _ATTR_CONTROL else "added", model.token_get_text(i), i))
    adds = [name for name, on in (("bos", model.add_bos_token()), ("eos", model.add_eos_token())) if on]
    return Vocabulary(
        size=llm.n_vocab(),
        kind=_VOCAB_KINDS.get(model.vocab_type(), str(model.vocab_type())),
        special=special,
        added=added,
        adds=adds,
        model_max_length=model.n_ctx_train() or None,
        chat_template=llm.metadata.get("tokenizer.chat_template"),
        library="llama.cpp",
    )


def render_chat(llm: Any, messages: Sequence[Any], *, add_generation_prompt: bool = True) -> str:
    formatter = chat_formatter(llm, add_generation_prompt=add_generation_prompt)
    if formatter is None:
        raise CapabilityError("this GGUF has no chat template (tokenizer.chat_template): it renders no conversation")
    return formatter(messages=list(messages)).prompt


def chat_formatter(llm: Any, *, add_generation_prompt: bool = True) -> Any:
    """The GGUF's chat template compiled by llama-cpp-python (Jinja, as transformers renders
    it); None when the file has none."""
    from llama_cpp.llama_chat_format import Jinja2ChatFormatter

    template = llm.metadata.get("tokenizer.chat_template")
    if not template:
        return None
    return Jinja2ChatFormatter(
        template=template,
        eos_token=special_text(llm, llm.token_eos()),
        bos_token=special_text(llm, llm.token_bos()),
        add_generation_prompt=add_generation_prompt,
    )


def special_text(llm: Any, token_id: int) -> str:
    """A special token's text; '' when the vocabulary has none (id -1)."""
    return llm.detokenize([token_id], special=True).decode("utf-8", "ignore") if token_id >= 0 else ""


def _is_control(model: Any, token_id: int) -> bool:
    return bool(model.token_get_attr(token_id) & (_ATTR_CONTROL | _ATTR_UNKNOWN))


def _metadata_id(llm: Any, key: str) -> int | None:
    value = llm.metadata.get(key)
    return int(value) if value not in (None, "") else None


def _check_ids(llm: Any, ids: Sequence[int]) -> None:
    size = llm.n_vocab()
    bad = [i for i in ids if not 0 <= int(i) < size]
    if bad:
        raise InputError(f"id {bad[0]} is not in the vocabulary: ids run from 0 to {size - 1}")
