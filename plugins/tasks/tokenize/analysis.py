"""What a tokenization says about a tokenizer: counts, whether decoding gives the text back
(and why not), the special tokens a chat template adds, and where tokenizers split a text
differently. Pure functions over the backend's ``Token`` lists."""

from __future__ import annotations

import unicodedata
from collections import Counter
from collections.abc import Sequence
from typing import Any

from taskdeck import Token

CONTEXT = 12  # characters shown on each side of a round-trip difference


def counts(text: str, tokens: Sequence[Token]) -> dict[str, Any]:
    """Tokens, characters, words (whitespace-separated), characters per token, tokens per word,
    and how many tokens are special (added by the tokenizer or written in the text)."""
    n = len(tokens)
    words = len(text.split())
    return {
        "tokens": n,
        "characters": len(text),
        "bytes": len(text.encode("utf-8")),
        "words": words,
        "chars_per_token": round(len(text) / n, 3) if n else 0.0,
        "tokens_per_word": round(n / words, 3) if words else 0.0,
        "special_tokens": sum(1 for t in tokens if t["special"]),
    }


def own_tokens(tokens: Sequence[Token]) -> list[Token]:
    """The tokens of the text itself: without the special tokens the tokenizer added (a BOS,
    [CLS]/[SEP]), which cover nothing; special tokens written in the text stay."""
    return [t for t in tokens if not (t["special"] and t["start"] == t["end"])]


def round_trip(text: str, decoded: str, unknown: Sequence[str] = ()) -> dict[str, Any]:
    """Whether ``decode(encode(text))`` is the text; if not, the first difference and the
    likely reason (``unknown``: unknown tokens the encoding produced)."""
    if decoded == text:
        return {"ok": True}
    at = next((i for i, (a, b) in enumerate(zip(text, decoded)) if a != b), min(len(text), len(decoded)))
    return {
        "ok": False,
        "at": at,
        "expected": text[max(0, at - CONTEXT) : at + CONTEXT],
        "got": decoded[max(0, at - CONTEXT) : at + CONTEXT],
        "why": _why(text, decoded, unknown),
        "decoded": decoded,
    }


def _why(text: str, decoded: str, unknown: Sequence[str]) -> str:
    """Every reason that explains the difference, most specific first."""
    reasons = []
    for token in set(unknown):
        decoded = decoded.replace(token, "")
    if unknown:
        reasons.append(f"characters outside the vocabulary became the unknown token {unknown[0]}")
    if any(c.isupper() for c in text) and not any(c.isupper() for c in decoded):
        reasons.append("the tokenizer lower-cases the text")
    if _accented(text) and not _accented(decoded):
        reasons.append("it strips accents")
    if reasons:
        return "; ".join(reasons)
    if " ".join(decoded.split()) == " ".join(text.split()):
        return "whitespace is not kept (runs of spaces, tabs or newlines are merged or dropped)"
    if _squeeze(decoded) == _squeeze(text):
        return "spaces around punctuation are changed on decoding (clean-up of tokenization spaces)"
    if unicodedata.normalize("NFKC", decoded) == unicodedata.normalize("NFKC", text):
        return "the text is Unicode-normalised (NFKC/NFC) before tokenizing"
    return "the decoded text differs from the text"


def _accented(text: str) -> bool:
    return any(unicodedata.category(c) == "Mn" for c in unicodedata.normalize("NFD", text))


def _plain(text: str) -> str:
    folded = unicodedata.normalize("NFD", text.lower())
    return " ".join("".join(c for c in folded if unicodedata.category(c) != "Mn").split())


def _squeeze(text: str) -> str:
    return "".join(_plain(text).split())


def special_counts(tokens: Sequence[Token]) -> dict[str, int]:
    """How often each special token occurs (a chat template's role markers)."""
    return dict(Counter(t["token"] for t in tokens if t["special"]))


def cuts(text: str, tokens: Sequence[Token]) -> set[int]:
    """Where a tokenizer cuts ``text``: each token's start moved past whitespace, so a
    tokenizer that keeps the space in the token (``Ġworld``) and one that drops it (WordPiece's
    ``world``) cut at the same place. The text's start and end are not cuts."""
    found = set()
    for t in tokens:
        if t["end"] <= t["start"]:
            continue
        at = t["start"]
        while at < len(text) and text[at].isspace():
            at += 1
        if 0 < at < len(text):
            found.add(at)
    return found


def differing_spans(text: str, tokenizations: dict[str, Sequence[Token]]) -> list[dict[str, Any]]:
    """Stretches of ``text`` that the tokenizers split differently: between two cuts every
    tokenizer makes, each tokenizer's pieces, where at least one cuts inside the stretch."""
    cut_sets = {name: cuts(text, toks) for name, toks in tokenizations.items()}
    if not cut_sets:
        return []
    shared = sorted(set.intersection(*cut_sets.values()) | {0, len(text)})
    spans = []
    for start, end in zip(shared, shared[1:]):
        inside = {name: sorted(c for c in found if start < c < end) for name, found in cut_sets.items()}
        if len({tuple(v) for v in inside.values()}) <= 1:
            continue
        splits = {}
        for name, points in inside.items():
            bounds = [start, *points, end]
            splits[name] = [text[a:b].strip() or text[a:b] for a, b in zip(bounds, bounds[1:])]
        spans.append({"start": start, "end": end, "text": text[start:end].strip(), "splits": splits})
    return spans
