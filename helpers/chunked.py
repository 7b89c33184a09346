"""Long texts through a model in chunks, many texts at once: what summarization and
translation share.

- :func:`regroup` splits one flat list of model outputs back into each text's share, so the
  chunks of every text of a batch go through the model in one call.
- :class:`LevelledSummaries` is the map-reduce loop: a text that fits is summarized in one
  call; a longer one is cut into chunks, each summarized, and the partial summaries merged
  and summarized again, level by level. Each level's calls for every text go together.
- :func:`generated` is the :class:`~taskdeck.Generated` of a text made by several calls, its
  tokens added to the run's metrics (a batch counts every call, not the last one).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, Optional, TypeVar

from taskdeck import Completion, Generated, InputError

T = TypeVar("T")


def regroup(outputs: Iterable[T], sizes: Sequence[int]) -> list[list[T]]:
    """``outputs`` of the flattened pieces back into one list per text (``sizes[i]`` pieces each)."""
    flowing = iter(outputs)
    groups = [[next(flowing) for _ in range(n)] for n in sizes]
    if next(flowing, None) is not None:
        raise ValueError("more outputs than pieces")
    return groups


def generated(source: str, text: str, calls: Sequence[Completion], method: str, ctx: Any) -> Generated:
    """The result of a text made by ``calls``: their tokens summed (and added to the run's
    metrics), the finish reason ``length`` when any call was cut short."""
    prompt_tokens = sum(g.prompt_tokens for g in calls)
    completion = sum(g.completion_tokens for g in calls)
    seconds = sum(g.seconds for g in calls)
    speed = round(completion / seconds, 2) if seconds > 0 else 0.0
    finish = "length" if any(g.finish_reason == "length" for g in calls) else (calls[-1].finish_reason if calls else "")
    ctx.metrics.update(
        prompt_tokens=ctx.metrics.get("prompt_tokens", 0) + prompt_tokens,
        completion_tokens=ctx.metrics.get("completion_tokens", 0) + completion,
        tokens_per_s=speed,
        generate_calls=ctx.metrics.get("generate_calls", 0) + len(calls),
    )
    return Generated(
        text=text,
        source=source,
        method=method,
        prompt_tokens=prompt_tokens,
        completion_tokens=completion,
        tokens_per_second=speed,
        finish_reason=finish,
    )


def count_chunks(ctx: Any, chunks: Sequence[int], levels: Sequence[int]) -> None:
    """Add the texts' chunks to the run's ``chunks`` and keep its deepest ``levels``: a batch
    counts every forward call's texts, not the last call's."""
    ctx.metrics["chunks"] = ctx.metrics.get("chunks", 0) + sum(chunks)
    ctx.metrics["levels"] = max(ctx.metrics.get("levels", 0), max(levels, default=0) + 1)


class LevelledSummaries:
    """Map-reduce summaries of many texts at once. A subclass says how a text is measured and
    cut, what the model is asked at each step and how it is called; ``summarize`` runs the
    levels and returns a Generated, or the InputError that stopped it, per text."""

    max_levels = 8
    #: What the user lowers when partial summaries do not shrink (named in the error).
    advice = "lower max_new_tokens"

    def __init__(self, ctx: Any):
        self.ctx = ctx

    # ---- what a subclass writes ----
    def size(self, text: str) -> int:
        """The text's tokens as the model would read it."""
        raise NotImplementedError

    def fits(self, size: int) -> bool:
        """Whether a text of ``size`` tokens is summarized in one call."""
        raise NotImplementedError

    def split(self, text: str) -> list[str]:
        """The chunks of a text that does not fit, each fitting."""
        raise NotImplementedError

    def whole(self, text: str, level: int) -> str:
        """What the model reads to summarize a text that fits (``level`` > 0: merged partial summaries)."""
        return text

    def part(self, chunk: str) -> str:
        """What the model reads to summarize one chunk."""
        return chunk

    def merge(self, summaries: list[str]) -> str:
        """The partial summaries of one text joined into the next level's text."""
        return " ".join(summaries)

    def call(self, inputs: list[str], final: bool) -> list[Completion]:
        """One level's model calls, together; ``final``: one text's last call alone."""
        raise NotImplementedError

    def result(self, source: str, final: Completion, calls: list[Completion], chunks: int, level: int) -> Generated:
        raise NotImplementedError

    # ---- the levels ----
    def summarize(self, texts: Sequence[str]) -> list[Any]:
        n = len(texts)
        current, levels, chunks = list(texts), [0] * n, [1] * n
        calls: list[list[Completion]] = [[] for _ in range(n)]
        done: list[Any] = [None] * n
        pending = list(range(n))
        while pending:
            jobs: list[tuple[int, int, list[str]]] = []  # (text, its size, model inputs)
            for i in pending:
                size = self.size(current[i])
                if self.fits(size):
                    jobs.append((i, size, [self.whole(current[i], levels[i])]))
                elif levels[i] >= self.max_levels:
                    done[i] = InputError(
                        f"the text did not fit the model's window after {self.max_levels} levels of summaries: "
                        f"{self.advice}"
                    )
                else:
                    parts = self.split(current[i])
                    if levels[i] == 0:
                        chunks[i] = len(parts)
                    jobs.append((i, size, [self.part(p) for p in parts]))
            if not jobs:
                break
            final = len(jobs) == 1 and self.fits(jobs[0][1])
            outputs = self.call([x for _, _, inputs in jobs for x in inputs], final)
            pending = []
            for (i, size, _), answers in zip(jobs, regroup(outputs, [len(inputs) for _, _, inputs in jobs])):
                calls[i] += answers
                if self.fits(size):
                    done[i] = self.result(texts[i], answers[0], calls[i], chunks[i], levels[i])
                    continue
                merged = self.merge([g.text for g in answers if g.text])
                shorter: Optional[int] = self.size(merged) if merged else None
                if shorter is None or shorter >= size:
                    done[i] = InputError(
                        f"the partial summaries ({shorter or 0} tokens) are no shorter than the text "
                        f"({size} tokens): {self.advice}"
                    )
                    continue
                current[i], levels[i] = merged, levels[i] + 1
                pending.append(i)
        ok = [k for k, d in enumerate(done) if not isinstance(d, Exception)]
        count_chunks(self.ctx, [chunks[k] for k in ok], [levels[k] for k in ok])
        return done
