"""Sentence splitting and token-budgeted chunking, shared by summarization and translation.

Long texts are cut on sentence boundaries into chunks that each fit a model's window
(``count(chunk) <= budget`` for the caller's token counter). A sentence that alone exceeds
the budget is cut between words (and a word longer than the budget between characters),
so nothing is ever dropped or silently truncated: the chunks, joined with single spaces,
hold every sentence exactly once and in order.

Also here: how many tokens a chat backend's window holds and a token counter for it
(llama.cpp or transformers), for tasks that budget a chat prompt.
"""
from __future__ import annotations

import re
from typing import Any, Callable, Sequence

Counter = Callable[[str], int]

# Words after which a full stop does not end a sentence.
_ABBREVIATIONS = {
    "mr", "mrs", "ms", "dr", "prof", "sr", "jr", "st", "mt", "vs", "etc", "e.g", "i.e", "cf", "al",
    "inc", "ltd", "co", "corp", "no", "vol", "fig", "approx", "dept", "gen", "gov", "sen", "rep",
    "u.s", "u.k", "u.n", "jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec",
}
# A sentence ends at . ! ? … (possibly repeated, possibly followed by closing quotes or
# brackets) and whitespace; CJK full stops end one without whitespace.
_END = re.compile(r"""([.!?…]+["'”’»)\]]*)(\s+)|([。！？]+["'”’」』)\]]*)(\s*)""")


def split_sentences(text: str) -> list[str]:
    """The sentences of ``text``, stripped, in order; empty pieces dropped.

    A rule-based splitter (no model): it ends a sentence at terminal punctuation followed
    by whitespace, except after common abbreviations (``Dr.``, ``e.g.``) and single-letter
    initials (``J. K. Rowling``), and when the next word starts in lower case. Line breaks
    that separate paragraphs (a blank line) always end a sentence."""
    sentences: list[str] = []
    for block in re.split(r"\n\s*\n", text):
        sentences += _split_block(block)
    return sentences


def _split_block(block: str) -> list[str]:
    out: list[str] = []
    start = 0
    for m in _END.finditer(block):
        end = m.end(1) if m.group(1) else m.end(3)
        if m.group(1):
            before = block[start:m.start(1)]
            word = before.split()[-1].lower() if before.split() else ""
            rest = block[m.end():]
            if word.rstrip(".") in _ABBREVIATIONS or (len(word) == 1 and word.isalpha()):
                continue
            if rest[:1].islower():  # "e.g. this", "3 p.m. today": not a new sentence
                continue
        piece = block[start:end].strip()
        if piece:
            out.append(piece)
        start = m.end()
    tail = block[start:].strip()
    if tail:
        out.append(tail)
    return out


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


# ---- chat backends: window size and token counting ----
DEFAULT_CHAT_WINDOW = 4096


def chat_window(backend: Any) -> int:
    """Tokens a chat backend's context holds: llama.cpp's ``n_ctx``; a transformers causal
    LM's position limit; otherwise 4096."""
    llm = getattr(backend, "llm", None)
    if llm is not None and hasattr(llm, "n_ctx"):
        return int(llm.n_ctx())
    n_ctx = getattr(getattr(backend, "params", None), "n_ctx", None)
    if n_ctx:
        return int(n_ctx)
    model = getattr(backend, "hf_model", None)
    limits = [getattr(getattr(model, "config", None), "max_position_embeddings", None),
              getattr(getattr(backend, "tokenizer", None), "model_max_length", None)]
    limits = [int(v) for v in limits if isinstance(v, int) and 0 < v < 1_000_000]
    return min(limits) if limits else DEFAULT_CHAT_WINDOW


def chat_token_counter(backend: Any) -> Counter:
    """A function counting the tokens of a text for a chat backend (no special tokens)."""
    llm = getattr(backend, "llm", None)
    if llm is not None and hasattr(llm, "tokenize"):
        return lambda text: len(llm.tokenize(text.encode("utf-8"), add_bos=False, special=False))
    tokenizer = getattr(backend, "tokenizer", None)
    if tokenizer is not None:
        return lambda text: len(tokenizer(text, add_special_tokens=False)["input_ids"])
    return lambda text: len(text) // 3 + 1  # an unknown backend: a conservative estimate
