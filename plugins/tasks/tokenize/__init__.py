"""``task=tokenize``: how a model's tokenizer reads a text.

``text=`` gives the per-token table (position, id, the token as the vocabulary spells it, the
piece it decodes to, its character span), the counts (tokens, characters, words, characters
per token, tokens per word), the special tokens with their ids, the vocabulary's size and
kind, and a round-trip check: does decoding the text's own tokens give the text back, and if
not, where and why (lower-casing, accents, whitespace, unknown tokens). ``ids=[...]`` decodes
ids instead. ``conversation=file.json`` (or ``system=``/``prompt=``) renders the model's chat
template as text, marks and counts the template's special tokens. ``compare=[a,b,c]`` puts
several tokenizers side by side on one text and lists the stretches they split differently.

The tokenizer is the model's own, loaded without its weights through the ``tokenize``
capability: llama.cpp's for GGUF files (``backend=transformers`` gives transformers' GGUF
conversion, which agrees token for token on the packs), transformers' for folders and Hub
ids, the ``tokenizer.json`` of a faster-whisper folder. A batch (``input=``) counts tokens per
row, the cost question, without the token table.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from taskdeck import TOKENIZE, ConfigError, InputError, Task, Token, hookimpl, param
from taskdeck.helpers.token_spans import spans_from_pieces

from .analysis import counts, differing_spans, own_tokens, round_trip, special_counts
from .result import Tokenization, TokenizerComparison

DEFAULT_MODEL = "qwen2.5-coder-1.5b"
ROLES = ("system", "user", "assistant", "tool")


class TokenizeTask(Task):
    name = "tokenize"
    description = "a text as a model's tokens: ids, pieces, offsets, counts, specials; ids=, chat templates, compare="
    batch_fields = ("text",)
    form_hints = {"conversation": "file:.json,.jsonl"}
    batch_totals = ("tokens", "characters", "words")
    outputs = ("text", "json")
    needs = (TOKENIZE,)

    @dataclass
    class Params:
        text: str = param("", "the text to tokenize (or ids=, conversation=, system=/prompt=)", input=True)
        model: str = param(DEFAULT_MODEL, "whose tokenizer: pack alias, local folder, .gguf file or Hub id")
        ids: list = param([], "token ids to decode instead of a text, e.g. ids=[9707,1879]", input=True)
        conversation: str = param(
            "", "a JSON file of chat messages [{role, content}, ...] to render with the template", input=True
        )
        system: str = param("", "a system message to render with the chat template", input=True)
        prompt: str = param("", "a user message to render with the chat template", input=True)
        add_generation_prompt: bool = param(True, "chat template: end with the assistant's turn opened")
        add_special_tokens: bool = param(True, "add what encoding adds (BOS, [CLS]/[SEP]), as the model reads a text")
        compare: list = param([], "tokenizers side by side on text=, e.g. compare=[qwen2.5-coder-0.5b,smollm2-135m]")
        token_table: bool = param(True, "list every token; false: counts only (a batch counts only)")

    def for_batch(self, params, ctx):
        return dataclasses.replace(params, token_table=False)

    def run(self, params, ctx):
        mode = _mode(params)
        ctx.metrics["items"] = 1
        if mode == "compare":
            return self._compare(params, ctx)
        backend = ctx.model(params.model, needs=self.needs).backend
        vocab = dataclasses.asdict(backend.vocabulary())
        template = vocab.pop("chat_template")
        vocab["has_chat_template"] = bool(template)
        if mode == "ids":
            return self._ids(params, backend, vocab)
        if mode == "chat":
            return self._chat(params, backend, vocab, template)
        return self._text(params, backend, vocab)

    def _text(self, params, backend, vocab: dict) -> Tokenization:
        text = params.text
        tokens = backend.tokenize(text, add_special_tokens=params.add_special_tokens)
        return _result(params, "text", text, tokens, vocab, round_trip=_round_trip(backend, text, tokens, vocab))

    def _ids(self, params, backend, vocab: dict) -> Tokenization:
        ids = _ids(params.ids)
        text = backend.detokenize(ids)
        spelled = backend.spell(ids)
        pieces = [backend.detokenize([i]) for i in ids]
        specials = {s["id"] for s in vocab["special"]} | {s["id"] for s in vocab["added"] if s["role"] == "control"}
        spans = spans_from_pieces(text, [p.encode("utf-8") for p in pieces])
        tokens = [
            Token(id=i, token=t, piece=p, start=a, end=b, special=i in specials)
            for i, t, p, (a, b) in zip(ids, spelled, pieces, spans)
        ]
        again = [t["id"] for t in backend.tokenize(text, add_special_tokens=False)]
        check: dict[str, Any] = {"ok": again == ids}
        if again != ids:
            at = next((k for k, (a, b) in enumerate(zip(ids, again)) if a != b), min(len(ids), len(again)))
            check.update(
                at=at,
                why=f"encoding the decoded text gives other ids from token {at} "
                f"({ids[at : at + 3]} → {again[at : at + 3]}): the ids are not the tokenizer's own split of that text",
            )
        return _result(params, "ids", text, tokens, vocab, round_trip=check)

    def _chat(self, params, backend, vocab: dict, template) -> Tokenization:
        messages = _messages(params)
        rendered = backend.render_chat(messages, add_generation_prompt=params.add_generation_prompt)
        tokens = backend.tokenize(rendered, add_special_tokens=False)  # the template writes its own
        shape = {
            "messages": len(messages),
            "add_generation_prompt": params.add_generation_prompt,
            "special": special_counts(tokens),
            "chat_template": template,
        }
        return _result(params, "chat", rendered, tokens, vocab, template=shape)

    def _compare(self, params, ctx) -> TokenizerComparison:
        text = params.text
        rows, views = [], {}
        for ref in dict.fromkeys(str(r) for r in params.compare):
            backend = ctx.model(ref, needs=self.needs).backend
            vocab = dataclasses.asdict(backend.vocabulary())
            tokens = backend.tokenize(text, add_special_tokens=params.add_special_tokens)
            c = counts(text, tokens)
            check = _round_trip(backend, text, tokens, vocab)
            rows.append(
                {
                    "model": ref,
                    "library": vocab["library"],
                    "kind": vocab["kind"],
                    "vocabulary": vocab["size"],
                    "tokens": c["tokens"],
                    "chars_per_token": c["chars_per_token"],
                    "tokens_per_word": c["tokens_per_word"],
                    "special_tokens": c["special_tokens"],
                    "round_trip": "ok" if check["ok"] else check["why"],
                }
            )
            views[ref] = list(tokens)
        spans = differing_spans(text, {ref: own_tokens(toks) for ref, toks in views.items()})
        return TokenizerComparison(
            text=text,
            tokenizers=rows,
            differing=spans,
            tokens={ref: [dict(t) for t in toks] for ref, toks in views.items()} if params.token_table else {},
        )


def _mode(params) -> str:
    """Which of the four things to do, from the inputs given; one line when they clash."""
    chat = bool(params.conversation or params.system or params.prompt)
    inputs = (("text=", bool(params.text)), ("ids=", bool(params.ids)), ("conversation=/system=/prompt=", chat))
    given = [name for name, on in inputs if on]
    if params.compare:
        if not params.text:
            raise InputError("compare= puts tokenizers side by side on one text: give text=, e.g. text='Hello world'")
        if len(given) > 1 or len(params.compare) < 2:
            raise ConfigError(
                "compare= takes text= alone and at least two tokenizers, e.g. "
                "compare=[qwen2.5-coder-0.5b,smollm2-135m] text='Hello world'"
            )
        return "compare"
    if not given:
        raise InputError(
            "nothing to tokenize: give text='...', ids=[...], conversation=chat.json or prompt='...' "
            "(with system='...')"
        )
    if len(given) > 1:
        raise ConfigError(f"give one of {', '.join(given)}: each is a way of tokenizing on its own")
    return {"text=": "text", "ids=": "ids"}.get(given[0], "chat")


def _ids(raw: list) -> list[int]:
    try:
        return [int(i) for i in raw]
    except (TypeError, ValueError):
        raise InputError(f"ids= takes whole numbers, e.g. ids=[9707,1879]; got {raw}") from None


def _messages(params) -> list[dict[str, Any]]:
    """The conversation: the file's messages, with system= before and prompt= after them."""
    messages: list[dict[str, Any]] = []
    if params.conversation:
        path = Path(params.conversation)
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise InputError(f"conversation file not found: {path}") from None
        except (OSError, ValueError) as exc:
            raise InputError(f"conversation={path} is not a JSON file: {exc}") from None
        data = data.get("messages") if isinstance(data, dict) else data
        if not isinstance(data, list) or not data:
            raise InputError(
                f"conversation={path} needs a list of messages, e.g. "
                '[{"role": "user", "content": "Hi"}] (or {"messages": [...]})'
            )
        for n, m in enumerate(data):
            if not isinstance(m, dict) or m.get("role") not in ROLES or not isinstance(m.get("content"), str):
                raise InputError(
                    f"conversation={path}: message {n} needs a role ({', '.join(ROLES)}) and a text content"
                )
        messages = [dict(m) for m in data]
    if params.system:
        messages.insert(0, {"role": "system", "content": params.system})
    if params.prompt:
        messages.append({"role": "user", "content": params.prompt})
    return messages


def _round_trip(backend, text: str, tokens, vocab: dict) -> dict[str, Any]:
    """Decode the text's own tokens (not the BOS/[CLS] the tokenizer added) and compare."""
    mine = own_tokens(tokens)
    decoded = backend.detokenize([t["id"] for t in mine])
    unk = {s["id"]: s["token"] for s in vocab["special"] if s["role"] == "unk"}
    return round_trip(text, decoded, [unk[t["id"]] for t in mine if t["id"] in unk])


def _result(params, mode: str, text: str, tokens, vocab: dict, **found: Any) -> Tokenization:
    """The result of one tokenizer on ``text``: the token table (unless a batch counts only),
    the counts, the vocabulary, and what the mode found (round trip, template)."""
    return Tokenization(
        model=params.model,
        mode=mode,
        text=text,
        tokens=_numbered(tokens) if params.token_table else [],
        counts=counts(text, tokens),
        vocabulary=vocab,
        library=vocab["library"],
        table=params.token_table,
        **found,
    )


def _numbered(tokens) -> list[dict[str, Any]]:
    return [{"position": n, **t} for n, t in enumerate(tokens)]


@hookimpl
def register_tasks(register):
    register(TokenizeTask)
