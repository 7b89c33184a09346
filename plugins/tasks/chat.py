"""``task=chat``: chat / text generation with the model's chat template, streamed.

A system prompt, a single prompt, or a multi-turn conversation from a JSON/JSONL file of
``{"role": ..., "content": ...}`` messages (the prompt, if given, is appended as the last
user turn). Tokens are streamed to the terminal as they are generated; tokens/s and time to
first token go to ``result.json``. A batch (``input=prompts.jsonl``) sends its rows through
``chat_batch``, ``chunk_size`` at a time: llama.cpp decodes greedy rows together.
"""

import dataclasses
import json
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from taskdeck import CHAT, Generated, InputError, Task, hookimpl, param

DEFAULT_MODEL = "qwen2.5-coder-1.5b"
ROLES = ("system", "user", "assistant")


class ChatTask(Task):
    name = "chat"
    aliases = ("text-generation",)  # transformers' pipeline name
    description = "chat / text generation: prompt, system prompt or conversation file; streamed"
    batch_fields = ("prompt",)
    form_hints = {"prompt": "chat", "conversation": "file:.json,.jsonl"}

    @dataclass
    class Params:
        prompt: str = param("", "the user message (after the conversation, if one is given)", input=True)
        system: str = param("", "system prompt", input=True)
        conversation: Optional[str] = param(None, "JSON/JSONL file of {role, content} messages", input=True)
        model: str = param(DEFAULT_MODEL, "model pack alias, local path or Hub id")
        max_new_tokens: int = param(256, "most tokens to generate", ge=1)
        temperature: float = param(0.7, "sampling temperature; 0 = greedy", ge=0)
        top_p: Optional[float] = param(None, "nucleus sampling", gt=0, le=1)
        top_k: Optional[int] = param(None, "top-k sampling", ge=1)
        repetition_penalty: Optional[float] = param(None, "penalty for repeated tokens (1.0 = none)", gt=0)
        num_beams: int = param(1, "beam search width (transformers backend)", ge=1)
        do_sample: Optional[bool] = param(None, "sample (None: when temperature > 0); false = greedy")
        seed: Optional[int] = param(None, "random seed for reproducible sampling")
        stop: list = param([], "stop strings")
        stream: bool = param(True, "print tokens as they are generated")

    needs = (CHAT,)
    batched = (CHAT,)
    chunk_size = 16  # rows per chat_batch call: the results file and the progress bar move after each

    def run(self, params, ctx):
        messages = build_messages(params)
        backend, _ = self.model(params, ctx)
        first: list[float] = []
        start = time.perf_counter()

        def on_token(piece: str) -> None:
            if not first:
                first.append(time.perf_counter() - start)
            if streaming:
                ctx.emit(piece)

        streaming = params.stream and not ctx.quiet
        gen = backend.chat(messages, stream=on_token, **options(params))
        if streaming:
            ctx.emit("\n")
            print(f"[{gen.completion_tokens} tokens, {gen.tokens_per_second:.1f} tokens/s]", file=sys.stderr)
        ctx.metrics.update(
            items=1,
            prompt_tokens=gen.prompt_tokens,
            completion_tokens=gen.completion_tokens,
            tokens_per_s=round(gen.tokens_per_second, 2),
            time_to_first_token_s=round(first[0], 3) if first else None,
        )
        return generated(gen, params.prompt, backend, streaming)

    def for_batch(self, params, ctx):
        """One prompt per row, not streamed (a progress bar shows instead)."""
        return dataclasses.replace(params, stream=False)

    def prepare(self, params) -> tuple[str, list[dict]]:
        return params.prompt, build_messages(params)

    def input_size(self, item) -> int:
        return sum(len(m["content"]) for m in item[1])

    def forward(self, backend, items, params, ctx):
        """The rows' conversations in one ``chat_batch`` call (rows share every option)."""
        gens = backend.chat_batch([messages for _, messages in items], **options(params))
        return [generated(gen, prompt, backend, False) for (prompt, _), gen in zip(items, gens)]


def options(params) -> dict:
    """The generation options of ``chat`` / ``chat_batch`` from the task's parameters."""
    return dict(
        max_new_tokens=params.max_new_tokens,
        temperature=0.0 if params.do_sample is False else params.temperature,
        top_p=params.top_p,
        top_k=params.top_k,
        repetition_penalty=params.repetition_penalty,
        num_beams=params.num_beams,
        seed=params.seed,
        stop=list(params.stop) or None,
    )


def generated(gen, prompt: str, backend, streamed: bool) -> Generated:
    return Generated(
        text=gen.text,
        source=prompt,
        method=f"chat on {backend.name}",
        prompt_tokens=gen.prompt_tokens,
        completion_tokens=gen.completion_tokens,
        tokens_per_second=round(gen.tokens_per_second, 2),
        finish_reason=gen.finish_reason,
        streamed=streamed,
    )


def build_messages(params) -> list[dict]:
    """System prompt + conversation file + prompt, checked."""
    messages = []
    if params.system:
        messages.append({"role": "system", "content": params.system})
    if params.conversation:
        messages += load_conversation(Path(params.conversation).expanduser())
    if isinstance(params.prompt, str) and params.prompt.strip():
        messages.append({"role": "user", "content": params.prompt})
    if not any(m["role"] == "user" for m in messages):
        raise InputError('chat needs something to answer: add prompt="..." or conversation=<file.json>')
    return messages


def load_conversation(path: Path) -> list[dict]:
    if not path.is_file():
        raise InputError(f"conversation file '{path}' does not exist")
    text = path.read_text(encoding="utf-8")
    try:
        data = (
            json.loads(text)
            if path.suffix.lower() == ".json"
            else [json.loads(ln) for ln in text.splitlines() if ln.strip()]
        )
    except ValueError as exc:
        raise InputError(f"conversation file '{path.name}' is not valid JSON: {exc}") from None
    if isinstance(data, dict) and "messages" in data:
        data = data["messages"]
    if not isinstance(data, list):
        raise InputError(f"conversation file '{path.name}' must hold a list of {{role, content}} messages")
    for n, m in enumerate(data, 1):
        if not isinstance(m, dict) or m.get("role") not in ROLES or not isinstance(m.get("content"), str):
            raise InputError(
                f"conversation file '{path.name}', message {n}: needs role ({'/'.join(ROLES)}) and content (a string)"
            )
    return [{"role": m["role"], "content": m["content"]} for m in data]


@hookimpl
def register_tasks(register):
    register(ChatTask)
