"""Sentence splitting and token-budgeted chunking, shared by summarization and translation.

Long texts are cut on sentence boundaries into chunks that each fit a model's window
(``count(chunk) <= budget`` for the caller's token counter). A sentence that alone exceeds
the budget is cut between words (and a word longer than the budget between characters),
so nothing is ever dropped or silently truncated: the chunks, joined with single spaces,
hold every sentence exactly once and in order.

A backend's ``context_window()`` and ``count_tokens(text)`` give the window and the counter.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

Counter = Callable[[str], int]


def split_sentences(text: str, language: str = "en") -> list[str]:
    """The sentences of ``text``, stripped, in order; empty pieces dropped.

    sentencex (Wikimedia's segmenter, rules for ~300 languages; ``language`` is a name or an
    ISO code, English when unknown) keeps abbreviations (``Dr.``, ``e.g.``, ``z.B.``) and
    initials (``J. K. Rowling``) inside their sentence, and ends CJK sentences at ``。``.
    Paragraph breaks (a blank line) always end a sentence."""
    from sentencex import segment

    from .languages import iso_of

    return [s.strip() for s in segment(iso_of(language), text) if s.strip()]


def split_paragraphs(text: str) -> list[tuple[str, str]]:
    """``text`` as ``(line, line break that follows it)`` pairs, to be translated line by line
    and joined back with the same breaks. Hard-wrapped prose is rejoined first: a line break
    after a line that does not end a sentence (no ``.!?:;``), before a lower-case word, is a
    space, not a line of its own."""
    text = _HARD_WRAP.sub(" ", text.strip())
    parts = re.split(r"([ \t]*\n\s*)", text)
    pairs: list[tuple[str, str]] = []
    for i in range(0, len(parts), 2):
        sep = parts[i + 1] if i + 1 < len(parts) else ""
        if parts[i].strip():
            pairs.append((parts[i].strip(), sep))
        elif pairs:
            pairs[-1] = (pairs[-1][0], pairs[-1][1] + sep)
    return pairs


_HARD_WRAP = re.compile(r"(?<=[^\s.!?:;…])[ \t]*\n[ \t]*(?=[a-z])")


def chunk_sentences(sentences: Sequence[str], count: Counter, budget: int, sep: str = " ") -> list[str]:
    """Pack consecutive sentences into chunks with ``count(chunk) <= budget``.

    Greedy and order-preserving: a chunk grows while the joined text still fits (the joined
    text is counted, not the sum of its parts, so tokenizer boundary effects cannot push a
    chunk over). A sentence longer than the budget is cut into word runs first, and a single
    word longer than the budget into character runs. ``sep.join(chunks)`` equals
    ``sep.join(sentences)`` whenever no sentence had to be cut (cutting joins pieces with
    spaces, which is where the sentence's own whitespace was)."""
    if budget < 1:
        raise ValueError(f"token budget must be positive, got {budget}")
    chunks: list[str] = []
    current = ""
    for sentence in sentences:
        pieces = [sentence] if count(sentence) <= budget else _cut(sentence, count, budget)
        for piece in pieces:
            candidate = f"{current}{sep}{piece}" if current else piece
            if count(candidate) <= budget:
                current = candidate
                continue
            if current:
                chunks.append(current)
            current = piece
    if current:
        chunks.append(current)
    return chunks


def _cut(sentence: str, count: Counter, budget: int) -> list[str]:
    """Word runs of a too-long sentence, each within the budget."""
    runs: list[str] = []
    current = ""
    for word in sentence.split():
        if count(word) > budget:
            if current:
                runs.append(current)
                current = ""
            runs += _cut_word(word, count, budget)
            continue
        candidate = f"{current} {word}" if current else word
        if count(candidate) <= budget:
            current = candidate
        else:
            runs.append(current)
            current = word
    if current:
        runs.append(current)
    return runs


def _cut_word(word: str, count: Counter, budget: int) -> list[str]:
    """Character runs of one very long 'word' (a URL, a run of symbols), each within budget."""
    runs: list[str] = []
    while word:
        lo, hi = 1, len(word)  # the longest prefix that fits (at least one character)
        while lo < hi:
            mid = (lo + hi + 1) // 2
            if count(word[:mid]) <= budget:
                lo = mid
            else:
                hi = mid - 1
        runs.append(word[:lo])
        word = word[lo:]
    return runs
