"""A ``tokenizer.json`` (Hugging Face ``tokenizers``) as the tokenize capability, for backends
whose model folder carries one but whose runtime is not transformers (faster-whisper's
CTranslate2 folders). ``tokenizers`` comes with faster-whisper and transformers."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from taskdeck import CapabilityError, InputError, SpecialToken, Token, Vocabulary


class TokenizerFile:
    """The tokenize capability's methods over one ``tokenizer.json``."""

    def __init__(self, path: Path):
        from tokenizers import Tokenizer

        self.path = path
        self.tokenizer: Any = Tokenizer.from_file(str(path))

    def tokenize(self, text: str, *, add_special_tokens: bool = True) -> list[Token]:
        tk = self.tokenizer
        encoded = tk.encode(text, add_special_tokens=add_special_tokens)
        special = self._special_ids()
        return [
            Token(
                id=i,
                token=token,
                piece=tk.decode([i], skip_special_tokens=False),
                start=start,
                end=end,
                special=i in special,
            )
            for i, token, (start, end) in zip(encoded.ids, encoded.tokens, encoded.offsets)
        ]

    def detokenize(self, ids: Sequence[int], *, skip_special_tokens: bool = False) -> str:
        self._check(ids)
        return self.tokenizer.decode(list(ids), skip_special_tokens=skip_special_tokens)

    def spell(self, ids: Sequence[int]) -> list[str]:
        self._check(ids)
        return [self.tokenizer.id_to_token(int(i)) for i in ids]

    def vocabulary(self) -> Vocabulary:
        tk = self.tokenizer
        added = [
            SpecialToken("control" if t.special else "added", t.content, int(i))
            for i, t in sorted(tk.get_added_tokens_decoder().items())
        ]
        with_special = tk.encode("a", add_special_tokens=True).ids
        plain = set(tk.encode("a", add_special_tokens=False).ids)
        return Vocabulary(
            size=tk.get_vocab_size(with_added_tokens=True),
            kind=type(tk.model).__name__,
            added=added,
            adds=[tk.id_to_token(i) for i in with_special if i not in plain],
            library="tokenizers",
        )

    def render_chat(self, messages: Sequence[Any], *, add_generation_prompt: bool = True) -> str:
        raise CapabilityError(f"{self.path.parent.name} has no chat template: a tokenizer.json carries none")

    def _special_ids(self) -> set[int]:
        return {int(i) for i, t in self.tokenizer.get_added_tokens_decoder().items() if t.special}

    def _check(self, ids: Sequence[int]) -> None:
        size = self.tokenizer.get_vocab_size(with_added_tokens=True)
        bad = [i for i in ids if not 0 <= int(i) < size]
        if bad:
            raise InputError(f"id {bad[0]} is not in the vocabulary: ids run from 0 to {size - 1}")
