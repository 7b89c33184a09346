"""Where each token of a text lies, for tokenizers that report no offsets (llama.cpp, slow
tokenizers): the tokens' decoded bytes are walked along the text's UTF-8 bytes.

A token whose bytes continue the text covers them; one that does not (a BOS the tokenizer
added, a normalised piece) gets an empty span where the walk stands. Byte positions become
character positions at the end, so a character split over several byte tokens is covered by
each of them (``start`` of the first, ``end`` of the last).
"""

from __future__ import annotations

from collections.abc import Sequence


def spans_from_pieces(text: str, pieces: Sequence[bytes]) -> list[tuple[int, int]]:
    """Character ``(start, end)`` per token, from each token's bytes as it decodes alone."""
    data = text.encode("utf-8")
    byte_spans: list[tuple[int, int]] = []
    at = 0
    for piece in pieces:
        if piece and data.startswith(piece, at):
            byte_spans.append((at, at + len(piece)))
            at += len(piece)
        elif piece and piece.startswith(b" ") and data.startswith(piece[1:], at) and len(piece) > 1:
            byte_spans.append((at, at + len(piece) - 1))  # a SentencePiece word start at the text's start
            at += len(piece) - 1
        else:
            byte_spans.append((at, at))
    to_char = _byte_to_char(text)
    return [(to_char[a], _char_end(to_char, b, a)) for a, b in byte_spans]


def _byte_to_char(text: str) -> list[int]:
    """For every byte position (and the end), the character it belongs to."""
    table: list[int] = []
    for i, ch in enumerate(text):
        table.extend([i] * len(ch.encode("utf-8")))
    table.append(len(text))
    return table


def _char_end(to_char: list[int], end: int, start: int) -> int:
    """The character end of a byte span: past the character holding its last byte."""
    if end == start:
        return to_char[start]
    return to_char[end - 1] + 1
