"""The tokenizer capability on transformers: the tokenizer alone, no weights.

Offsets are the fast tokenizer's own (``return_offsets_mapping``); a slow tokenizer's come
from walking each token's decoded bytes along the text. A GGUF's tokenizer is converted by
transformers once (seconds for a 150k vocabulary) and kept beside the converted weights.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from taskdeck import CapabilityError, InputError, ModelNotFoundError, SpecialToken, Token, Vocabulary
from taskdeck.helpers.token_spans import spans_from_pieces

from . import _UNBOUNDED

_ROLES = ("bos", "eos", "unk", "sep", "pad", "cls", "mask")


def load_tokenizer(backend: Any) -> None:
    import transformers

    source, kwargs = backend._source()
    cached = _tokenizer_cache(backend) if "gguf_file" in kwargs else None
    if cached is not None and (cached / ".complete").is_file():
        source = str(cached)
        kwargs = {k: v for k, v in kwargs.items() if k not in ("gguf_file", "revision")}
    try:
        backend.tokenizer = transformers.AutoTokenizer.from_pretrained(source, **kwargs)
    except (OSError, ValueError) as exc:
        raise ModelNotFoundError(
            f"model '{backend.model.ref}' has no tokenizer transformers can load: {str(exc).splitlines()[0]}"
        ) from None
    if cached is not None and not (cached / ".complete").is_file():
        _save(backend.tokenizer, cached)


def tokenize(backend: Any, text: str, *, add_special_tokens: bool = True) -> list[Token]:
    tok = backend.tokenizer
    if tok.is_fast:
        encoded = tok(text, add_special_tokens=add_special_tokens, return_offsets_mapping=True)
        ids = list(encoded["input_ids"])
        spans = [tuple(span) for span in encoded["offset_mapping"]]
    else:
        ids = list(tok(text, add_special_tokens=add_special_tokens)["input_ids"])
        spans = []
    pieces = [tok.decode([i], clean_up_tokenization_spaces=False) for i in ids]
    if not spans:
        spans = spans_from_pieces(text, [p.encode("utf-8") for p in pieces])
    special = _special_ids(tok)
    return [
        Token(id=i, token=str(t), piece=piece, start=int(start), end=int(end), special=i in special)
        for i, t, piece, (start, end) in zip(ids, tok.convert_ids_to_tokens(ids), pieces, spans)
    ]


def detokenize(backend: Any, ids: Sequence[int], *, skip_special_tokens: bool = False) -> str:
    _check_ids(backend.tokenizer, ids)
    return backend.tokenizer.decode(list(ids), skip_special_tokens=skip_special_tokens)


def spell(backend: Any, ids: Sequence[int]) -> list[str]:
    _check_ids(backend.tokenizer, ids)
    return [str(t) for t in backend.tokenizer.convert_ids_to_tokens(list(ids))]


def vocabulary(backend: Any) -> Vocabulary:
    tok = backend.tokenizer
    special = []
    for role in _ROLES:
        token, token_id = getattr(tok, f"{role}_token", None), getattr(tok, f"{role}_token_id", None)
        if token is not None and token_id is not None:
            special.append(SpecialToken(role, str(token), int(token_id)))
    named = {s.id for s in special}
    added = [
        SpecialToken("control" if t.special else "added", str(t.content), int(i))
        for i, t in sorted(tok.added_tokens_decoder.items())
        if int(i) not in named
    ]
    with_special = tok("a", add_special_tokens=True)["input_ids"]
    plain = set(tok("a", add_special_tokens=False)["input_ids"])
    by_id = {s.id: s.role for s in special}
    adds = [by_id.get(i, str(tok.convert_ids_to_tokens(i))) for i in with_special if i not in plain]
    max_length = getattr(tok, "model_max_length", None)
    template = getattr(tok, "chat_template", None)
    return Vocabulary(
        size=len(tok),
        kind=_kind(tok),
        special=special,
        added=added,
        adds=adds,
        model_max_length=int(max_length) if isinstance(max_length, int) and max_length < _UNBOUNDED else None,
        chat_template=template if isinstance(template, str) else None,
        library="transformers",
    )


def render_chat(backend: Any, messages: Sequence[Any], *, add_generation_prompt: bool = True) -> str:
    tok = backend.tokenizer
    if not getattr(tok, "chat_template", None):
        raise CapabilityError(f"model '{backend.model.ref}' has no chat template: it renders no conversation")
    return tok.apply_chat_template(list(messages), tokenize=False, add_generation_prompt=add_generation_prompt)


def _kind(tok: Any) -> str:
    backend_tokenizer = getattr(tok, "backend_tokenizer", None)
    if backend_tokenizer is not None:
        return type(backend_tokenizer.model).__name__  # BPE | WordPiece | Unigram | WordLevel
    return type(tok).__name__


def _special_ids(tok: Any) -> set[int]:
    ids = {int(i) for i in tok.all_special_ids}
    return ids | {int(i) for i, t in tok.added_tokens_decoder.items() if t.special}


def _check_ids(tok: Any, ids: Sequence[int]) -> None:
    size = len(tok)
    bad = [i for i in ids if not 0 <= int(i) < size]
    if bad:
        raise InputError(f"id {bad[0]} is not in the vocabulary: ids run from 0 to {size - 1}")


def _tokenizer_cache(backend: Any) -> Path:
    converted = backend._converted_dir()
    return converted.with_name(converted.name + "-tokenizer")


def _save(tokenizer: Any, target: Path) -> None:
    """Keep the converted tokenizer so the next run loads it in a fraction of a second."""
    import shutil
    import tempfile

    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".converting-", dir=target.parent))
    try:
        tokenizer.save_pretrained(tmp)
        (tmp / ".complete").write_text("tokenizer")
        shutil.rmtree(target, ignore_errors=True)
        tmp.rename(target)
    except OSError:  # a full disk only costs the next load its speed
        shutil.rmtree(tmp, ignore_errors=True)
