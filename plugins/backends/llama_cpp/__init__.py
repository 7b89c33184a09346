"""llama.cpp backend (``llama-cpp-python``): GGUF models, quantized, fast on CPU.

Chat with the model's own chat template, token streaming, JSON-schema constrained output,
and next-token log-probabilities for label scoring (prompt prefixes reuse the KV cache).
Greedy answers (``temperature=0``, no other sampling option) decode in ``greedy.py`` with the
schema's grammar checked lazily, about 1.4x faster for JSON; everything else goes through
llama-cpp-python's ``create_chat_completion``. ``chat_batch`` decodes greedy conversations
``n_parallel`` at a time in one batch (``batched.py``), on a second context over the same
weights. ``inspect`` reads the file's header only
(``taskdeck.helpers.gguf``): no model is loaded for it. ``serve_openai``, a capability this
plugin declares (``serving.py``), hands ``task=serve`` llama-cpp-python's OpenAI-compatible
server app for the model.
"""

from __future__ import annotations

import importlib.util
import time
from dataclasses import dataclass
from typing import Any, Optional

from taskdeck import (
    CHAT,
    CHAT_JSON,
    INSPECT,
    SCORE_LABELS,
    TOKENIZE,
    Backend,
    BackendParams,
    Capability,
    CapabilityError,
    Completion,
    InputError,
    hookimpl,
    param,
)
from taskdeck.helpers.cpu import available_cpus
from taskdeck.helpers.label_scoring import label_variants, score_token_sequences

from .serving import SERVE_OPENAI, OpenAIServing

#: Options that need llama-cpp-python's sampler chain (the greedy path takes none of them).
SAMPLING_OPTIONS = ("top_p", "top_k", "repetition_penalty", "stop")


@dataclass
class LlamaCppParams(BackendParams):
    name: str = "llama_cpp"
    n_ctx: int = param(4096, "context window in tokens", ge=16)
    n_batch: int = param(512, "prompt tokens evaluated per step", ge=1)
    n_parallel: int = param(
        6, "sequences decoded together in one batch (batched greedy generation); 1 = one at a time", ge=1
    )
    n_gpu_layers: int = param(0, "layers offloaded to a GPU build of llama.cpp; -1 = all", ge=-1)
    verbose: bool = param(False, "llama.cpp's own log on stderr")


class LlamaCppBackend(Backend):
    name = "llama_cpp"
    description = "llama.cpp: GGUF models quantized on CPU (or GPU builds); the default for chat"
    Params = LlamaCppParams
    formats = ("gguf",)
    all_capabilities = (CHAT, CHAT_JSON, SCORE_LABELS, TOKENIZE, INSPECT, SERVE_OPENAI)
    extra = "llama"
    priority = 10
    _batch_context: Any = None  # batched.BatchContext, made by the first chat_batch that decodes together
    option_notes = {
        "quantization": "on llama_cpp a GGUF file is already quantized: its type (Q4_K_M, Q8_0, ...) is in its "
        "name, so another precision is another file"
    }

    @classmethod
    def missing_package(cls) -> Optional[str]:
        return None if importlib.util.find_spec("llama_cpp") else "llama-cpp-python"

    def load(self) -> None:
        if self.capability in (INSPECT, SERVE_OPENAI):  # the header alone; the server loads its own
            self.loaded = True
            return
        from llama_cpp import Llama

        p = self.params
        if self.capability == TOKENIZE:  # the vocabulary alone, no weights
            import contextlib
            import io

            # A vocabulary-only model has no training context, and llama.cpp says so on stderr
            # whatever the verbosity: that line is noise here.
            with contextlib.redirect_stderr(io.StringIO()) if not p.verbose else contextlib.nullcontext():
                self.llm = Llama(model_path=str(self.model.path()), vocab_only=True, verbose=p.verbose)
            self.loaded = True
            return
        threads = p.threads or available_cpus()
        n_gpu_layers = p.n_gpu_layers if p.device not in ("cpu",) else 0
        self.llm = Llama(
            model_path=str(self.model.path()),
            n_ctx=p.n_ctx,
            n_batch=p.n_batch,
            n_threads=threads,
            n_threads_batch=threads,
            n_gpu_layers=n_gpu_layers,
            verbose=p.verbose,
        )
        self.loaded = True

    def unload(self) -> None:
        if self.capability == SERVE_OPENAI and self.loaded:
            from . import serving

            serving.free()
        if self._batch_context is not None:
            self._batch_context.close()
            self._batch_context = None
        llm = getattr(self, "llm", None)
        if llm is not None:
            llm.close()
            self.llm = None
        self.loaded = False

    # ---- serve_openai ----
    def openai_app(self, *, name, host, port, api_key=None, logprobs=False):
        from . import serving

        return serving.openai_app(self, name, host, port, api_key, logprobs)

    def end_generations(self) -> None:
        from . import serving

        serving.end_generations()

    # ---- chat ----
    def chat(
        self, messages, *, max_new_tokens=256, temperature=0.0, stream=None, json_schema=None, **options: Any
    ) -> Completion:
        if (options.get("num_beams") or 1) > 1:
            raise CapabilityError("num_beams > 1 needs backend=transformers (llama.cpp decodes one sequence)")
        if self._greedy(temperature, options):
            return self._chat_greedy(messages, max_new_tokens, stream, json_schema)
        kwargs: dict[str, Any] = dict(
            messages=list(messages), max_tokens=max_new_tokens, temperature=temperature, stream=True
        )
        mapping = {
            "top_p": "top_p",
            "top_k": "top_k",
            "repetition_penalty": "repeat_penalty",
            "seed": "seed",
            "stop": "stop",
        }
        for ours, theirs in mapping.items():
            if options.get(ours) is not None:
                kwargs[theirs] = options[ours]
        if json_schema is not None:
            kwargs["response_format"] = {"type": "json_object", "schema": json_schema}
        start = time.perf_counter()
        before = self.llm.n_tokens
        pieces, finish, n = [], "", 0
        try:
            for chunk in self.llm.create_chat_completion(**kwargs):
                choice = chunk["choices"][0]
                piece = choice.get("delta", {}).get("content")
                if piece:
                    pieces.append(piece)
                    n += 1
                    if stream:
                        stream(piece)
                finish = choice.get("finish_reason") or finish
        except ValueError as exc:  # llama-cpp-python: "Requested tokens (N) exceed context window of M"
            if "context window" not in str(exc):
                raise
            raise self._too_long(str(exc).strip()) from None
        seconds = time.perf_counter() - start
        prompt_tokens = max(0, self.llm.n_tokens - n) if self.llm.n_tokens >= before else 0
        return Completion(
            text="".join(pieces),
            prompt_tokens=prompt_tokens,
            completion_tokens=n,
            seconds=seconds,
            finish_reason=finish,
        )

    def _greedy(self, temperature: float, options: dict[str, Any]) -> bool:
        """Whether a request decodes greedily here (no sampler chain, a chat template)."""
        return (
            temperature == 0
            and self._formatter() is not None
            and not any(options.get(k) is not None for k in SAMPLING_OPTIONS)
        )

    def _chat_greedy(self, messages, max_new_tokens, stream, json_schema) -> Completion:
        from .greedy import generate_greedy

        prompt = self._greedy_prompt(messages)
        start = time.perf_counter()
        text, written, finish = generate_greedy(
            self.llm, prompt, max_tokens=max_new_tokens, schema=json_schema, on_piece=stream
        )
        return Completion(
            text=text,
            prompt_tokens=len(prompt),
            completion_tokens=written,
            seconds=time.perf_counter() - start,
            finish_reason=finish,
        )

    def _greedy_prompt(self, messages) -> list[int]:
        """The conversation through the chat template, as tokens; too long for the window: the
        one-line error."""
        rendered = self._formatter()(messages=list(messages))
        prompt = self.llm.tokenize(rendered.prompt.encode("utf-8"), add_bos=not rendered.added_special, special=True)
        if len(prompt) >= self.context_window():
            raise self._too_long(f"{len(prompt)} tokens")
        return prompt

    def chat_batch(
        self, conversations, *, max_new_tokens=256, temperature=0.0, json_schema=None, on_done=None, **options: Any
    ) -> list[Completion]:
        """Greedy requests (two or more, ``n_parallel`` > 1) decode ``n_parallel`` at a time in
        one batch (``batched.py``); others go one by one through ``chat``. Each completion's
        ``seconds`` is its share of the batch's wall time, by tokens written, so the seconds add
        up to the wall time and tokens per second is the batch's."""
        from . import batched

        conversations = [list(c) for c in conversations]
        if (
            len(conversations) < 2
            or self.params.n_parallel < 2
            or not self._greedy(temperature, options)
            or (options.get("num_beams") or 1) > 1  # chat says what this backend lacks
            or not batched.supported()
        ):
            return super().chat_batch(
                conversations,
                max_new_tokens=max_new_tokens,
                temperature=temperature,
                json_schema=json_schema,
                on_done=on_done,
                **options,
            )
        limits, schemas = self._per_conversation(len(conversations), max_new_tokens, json_schema)
        prompts = [self._greedy_prompt(m) for m in conversations]  # every prompt checked before any decoding
        window = self.context_window()
        width = min(self.params.n_parallel, len(prompts))
        engine = self._batch_engine(width, max(batched.slot_size(len(p), n, window) for p, n in zip(prompts, limits)))
        start = time.perf_counter()
        results = batched.generate_batch(
            self.llm, engine, prompts, max_tokens=limits, schemas=schemas, window=window, width=width, on_done=on_done
        )
        seconds = time.perf_counter() - start
        written = sum(n for _, n, _ in results)
        return [
            Completion(
                text=text,
                prompt_tokens=len(prompt),
                completion_tokens=n,
                seconds=seconds * n / written if written else seconds / len(results),
                finish_reason=finish,
            )
            for prompt, (text, n, finish) in zip(prompts, results)
        ]

    def _batch_engine(self, slots: int, slot_tokens: int):
        """The batched context, kept between calls and made again, larger, when a call needs
        more or longer slots (KV cells are allocated for every slot at once)."""
        from .batched import BatchContext

        current = self._batch_context
        if current is not None and current.fits(slots, slot_tokens):
            return current
        if current is not None:
            slots, slot_tokens = max(slots, current.slots), max(slot_tokens, current.slot_tokens)
            current.close()
        self._batch_context = BatchContext(self.llm, slots, slot_tokens)
        return self._batch_context

    # ---- window and tokens ----
    def _too_long(self, detail: str) -> InputError:
        return InputError(
            f"the prompt does not fit the model's {self.context_window()}-token window ({detail}): raise "
            "backend.n_ctx (e.g. backend=llama_cpp backend.n_ctx=16384) or shorten the input"
        )

    def context_window(self) -> int:
        return int(self.llm.n_ctx())

    def count_tokens(self, text: str) -> int:
        return len(self.llm.tokenize(text.encode("utf-8"), add_bos=False, special=False))

    # ---- tokenizer (tokens.py) ----
    def tokenize(self, text, *, add_special_tokens=True):
        from . import tokens

        return tokens.tokenize(self.llm, text, add_special_tokens=add_special_tokens)

    def detokenize(self, ids, *, skip_special_tokens=False):
        from . import tokens

        return tokens.detokenize(self.llm, ids, skip_special_tokens=skip_special_tokens)

    def spell(self, ids):
        from . import tokens

        return tokens.spell(self.llm, ids)

    def vocabulary(self):
        from . import tokens

        return tokens.vocabulary(self.llm)

    def render_chat(self, messages, *, add_generation_prompt=True):
        from . import tokens

        return tokens.render_chat(self.llm, messages, add_generation_prompt=add_generation_prompt)

    # ---- inspect ----
    def inspect(self):
        """The model from its GGUF header alone (``taskdeck.helpers.gguf``): nothing is loaded."""
        from taskdeck.helpers.inspection import gguf_inspection

        return gguf_inspection(self.model.path(), model=self.model.ref)

    # ---- label scoring ----
    def _formatter(self):
        """The model's chat template, compiled once; None when the GGUF has none."""
        if not hasattr(self, "_chat_formatter"):
            from .tokens import chat_formatter, special_text

            self._bos = special_text(self.llm, self.llm.token_bos())
            self._chat_formatter = chat_formatter(self.llm)
        return self._chat_formatter

    def _prompt_tokens(self, messages) -> list[int]:
        llm, formatter = self.llm, self._formatter()
        if formatter is not None:
            prompt = formatter(messages=list(messages)).prompt
        else:  # a model without a chat template: plain turns
            prompt = "".join(f"{m['role']}: {m['content']}\n" for m in messages) + "assistant: "
        add_bos = llm.metadata.get("tokenizer.ggml.add_bos_token", "false") == "true" and not (
            self._bos and prompt.startswith(self._bos)
        )
        return llm.tokenize(prompt.encode("utf-8"), add_bos=add_bos, special=True)

    def _next_logprobs(self, tokens: list[int]):
        import numpy as np

        from .greedy import evaluate_prompt, last_logits

        evaluate_prompt(self.llm, tokens)
        logits = last_logits(self.llm).astype(np.float64)
        m = logits.max()
        return logits - (m + np.log(np.exp(logits - m).sum()))

    def score_labels(self, messages, labels) -> dict[str, float]:
        prompt = self._prompt_tokens(messages)
        if len(prompt) + 8 > self.context_window():
            raise self._too_long(f"{len(prompt)} tokens")
        seqs = {
            label: [self.llm.tokenize(v.encode("utf-8"), add_bos=False, special=False) for v in label_variants(label)]
            for label in labels
        }
        return score_token_sequences(seqs, lambda prefix: self._next_logprobs(prompt + list(prefix)))


@hookimpl
def register_capabilities(register):
    register(
        Capability(
            SERVE_OPENAI,
            "serve the model over an OpenAI-compatible API (task=serve)",
            ("openai_app", "end_generations"),
            protocol=OpenAIServing,
            light=True,
        )
    )


@hookimpl
def register_backends(register):
    register(LlamaCppBackend)
