"""The Task contract: typed Params in, a typed Result out, and the stages of a batch.

A task writes what is its own: ``prepare`` (one input, checked) and a ``@route`` per
capability it accepts (the method that serves it: many inputs at once, or one), and the base
class owns ``run``; or it writes ``run`` itself, and for a batch on a model whose capability
takes many inputs at once (``batched``), ``forward`` (one call for many inputs). The base
class owns the rest of a batch, in the spirit of transformers' ``Pipeline``: rows stream in,
each is prepared (a bad row fails alone), rows that share options are grouped, sorted by
length within a bounded window, cut into chunks of ``chunk_size`` and forwarded; a chunk that
fails is retried row by row, so only the bad row fails. Results come out as ``(row index, Result or Exception)``.
"""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Hashable, Iterable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, ClassVar, Optional, Union

from .params import MISSING

if TYPE_CHECKING:
    from .backends import Backend
    from .context import Model, RunContext
    from .results import Result
    from .scoring import Metric

Outcome = Union["Result", BaseException]
_ROUTE = "__taskdeck_route__"


def route(capability: str, *, batched: bool = False) -> Any:
    """Mark a Task method as the route that serves ``capability``: called as
    ``(backend, item, params, ctx) -> Result`` with one prepared input, or, ``batched``,
    ``(backend, items, params, ctx) -> [Result or Exception per item]`` with many. The base
    class's ``run`` and batches choose the route of the capability the model offers."""

    def mark(method: Any) -> Any:
        setattr(method, _ROUTE, (capability, batched))
        return method

    return mark


class Task:
    """A capability users run with ``task=<name>``.

    Subclasses set ``name``, a one-line ``description`` and a ``Params`` dataclass whose
    fields are the task's inputs and options (top-level config keys; mandatory ones made
    with :func:`taskdeck.required`). ``run`` receives an instance of ``Params`` and a
    :class:`~taskdeck.context.RunContext`, through which it asks for models by the
    capability it needs (never by backend name), and returns a :class:`taskdeck.Result`.
    """

    name: ClassVar[str]
    description: ClassVar[str] = ""
    #: Other names ``task=`` accepts, e.g. transformers' pipeline name (``question-answering``).
    aliases: ClassVar[tuple[str, ...]] = ()
    Params: ClassVar[type] = type("Params", (), {})
    #: The Params fields one row of a batch file fills (``input=file.csv``), first = main.
    batch_fields: ClassVar[tuple[str, ...]] = ("text",)
    #: Of ``batch_fields``, those naming input files: a relative path in a batch file is read
    #: from the batch file's folder when it is there (else from the working directory).
    file_fields: ClassVar[tuple[str, ...]] = ()
    #: The default of ``output=`` for this task (formatter names).
    outputs: ClassVar[tuple[str, ...]] = ("text", "json", "markdown")
    #: Capabilities the task's model (``params.model``) may offer, preferred first.
    needs: ClassVar[tuple[str, ...]] = ()
    #: Of ``needs``, those whose backend method takes many inputs at once: a batch on such a
    #: model goes through ``prepare`` → ``forward``; on any other, row by row through ``run``.
    batched: ClassVar[tuple[str, ...]] = ()
    #: How ``eval=`` scores this task's predictions (see :mod:`taskdeck.evaluation`).
    eval_metric: ClassVar[Optional[Metric]] = None
    #: Inputs per ``forward`` call (also how often the progress bar moves).
    chunk_size: ClassVar[int] = 256
    #: Rows read ahead and sorted by length together (bounds a batch's memory).
    sort_window: ClassVar[int] = 4096
    #: Numeric result fields a batch sums over its rows, shown in its summary and recorded in
    #: ``result.json`` as ``total_<field>`` (``tokenize``: the tokens a file costs).
    batch_totals: ClassVar[tuple[str, ...]] = ()
    #: Hints for the web form (``task=ui``), by Params field: ``audio`` (upload or microphone),
    #: ``file`` / ``file:.json,.jsonl`` (an upload), ``text`` (one line), ``textarea``,
    #: ``chat`` (the message box of a conversation), ``choices:a,b`` (a dropdown of usual values),
    #: ``main`` (shown, not folded), ``advanced`` (folded away), ``hidden``; join two with ``;``.
    #: None is required: the form follows each field's type, range and choices.
    form_hints: ClassVar[Mapping[str, str]] = {}
    #: Capability → (method name, batched): the task's ``@route`` methods, collected per class.
    routes: ClassVar[dict[str, tuple[str, bool]]] = {}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        routes = dict(cls.routes)
        for name, member in vars(cls).items():
            if hasattr(member, _ROUTE):
                capability, batched = getattr(member, _ROUTE)
                routes[capability] = (name, batched)
        cls.routes = routes
        if routes and "needs" not in vars(cls) and not cls.needs:
            cls.needs = tuple(routes)  # preferred in the order the routes are written
        if routes and "batched" not in vars(cls) and not cls.batched:
            cls.batched = tuple(c for c, (_, b) in routes.items() if b)

    # ---- one input ----
    def run(self, params: Any, ctx: RunContext) -> Result:
        """One input: prepared (a bad one fails before anything loads), the model loaded for
        the first capability of ``needs`` it offers, and that capability's route. A task with
        no ``@route`` writes its own ``run``."""
        if not self.routes:
            raise NotImplementedError(f"{type(self).__name__} declares no @route and writes no run()")
        item = self.prepare(params)
        backend, capability = self.model(params, ctx)
        ctx.metrics["items"] = 1
        name, batched = self.routes[capability]
        if not batched:
            return getattr(self, name)(backend, item, params, ctx)
        outcome = getattr(self, name)(backend, [item], params, ctx)[0]
        if isinstance(outcome, BaseException):
            raise outcome
        return outcome

    def model(self, params: Any, ctx: RunContext) -> Model:
        """The task's model, loaded for the first capability of ``needs`` it offers."""
        return ctx.model(params.model, needs=self.needs)

    # ---- the stages of a batch ----
    def for_batch(self, params: Any, ctx: RunContext) -> Any:
        """A row's Params as a batch runs them (e.g. not streamed to the terminal)."""
        return params

    def prepare(self, params: Any) -> Any:
        """One row's checked input for ``forward``; raises for a row that cannot run."""
        return params

    def input_size(self, item: Any) -> int:
        """What rows are sorted by, so a forward batch carries little padding."""
        return len(str(item))

    def forward(self, backend: Backend, items: list[Any], params: Any, ctx: RunContext) -> Sequence[Outcome]:
        """One call of the batched capability for ``items`` (prepared rows sharing ``params``'
        options): a Result or an Exception per item, in order."""
        raise NotImplementedError

    def forward_one(self, backend: Backend, params: Any, ctx: RunContext) -> Result:
        """``run`` on the batched path: one input through ``prepare`` and ``forward``."""
        outcome = self.forward(backend, [self.prepare(params)], params, ctx)[0]
        if isinstance(outcome, BaseException):
            raise outcome
        return outcome

    def run_batch(self, rows: Iterable[tuple[int, Any]], ctx: RunContext) -> Iterator[tuple[int, Outcome]]:
        """Results for ``(index, Params)`` rows as ``(index, Result or Exception)``, in any
        order; a failing row yields its exception and the batch goes on. An empty batch
        yields nothing (and loads nothing)."""
        rows = iter(rows)
        first = next(rows, None)
        if first is None:
            return
        rows = itertools.chain([first], rows)
        chosen = self.model(first[1], ctx) if self.needs else None  # a model that fails, fails once
        if chosen is None or chosen.capability not in self.batched:
            for i, params in rows:
                yield i, _attempt(lambda p=params: self.run(self.for_batch(p, ctx), ctx))
            return
        forward = self._batched_route(chosen.capability)
        for window in _windows(rows, self.sort_window):
            groups: dict[Hashable, list[tuple[int, Any, Any]]] = {}
            for i, params in window:
                try:
                    params = self.for_batch(params, ctx)
                    item = self.prepare(params)
                except Exception as exc:  # noqa: BLE001 - the row's error, recorded with it
                    yield i, exc
                    continue
                groups.setdefault(self._options_key(params), []).append((i, item, params))
            for members in groups.values():
                members.sort(key=lambda m: self.input_size(m[1]))
                for start in range(0, len(members), self.chunk_size):
                    yield from self._forward_chunk(
                        forward, chosen.backend, members[start : start + self.chunk_size], ctx
                    )

    def _batched_route(self, capability: str) -> Any:
        """The method that forwards many inputs for ``capability``: its ``@route``, else ``forward``."""
        name, batched = self.routes.get(capability, ("forward", True))
        return getattr(self, name if batched else "forward")

    def _forward_chunk(self, forward: Any, backend: Backend, chunk: list[tuple[int, Any, Any]], ctx: RunContext):
        try:
            outputs = list(forward(backend, [item for _, item, _ in chunk], chunk[0][2], ctx))
        except Exception as exc:  # noqa: BLE001 - retried row by row below, so only the bad row fails
            if len(chunk) == 1:
                yield chunk[0][0], exc
                return
            for member in chunk:
                yield from self._forward_chunk(forward, backend, [member], ctx)
            return
        if len(outputs) != len(chunk):
            raise RuntimeError(f"{type(self).__name__}.forward returned {len(outputs)} results for {len(chunk)} inputs")
        for (i, _, _), outcome in zip(chunk, outputs):
            yield i, outcome

    def _options_key(self, params: Any) -> Hashable:
        """Rows forwarded together share every option but their batch fields."""
        if not dataclasses.is_dataclass(params):
            return ()
        return repr(
            [(f.name, getattr(params, f.name)) for f in dataclasses.fields(params) if f.name not in self.batch_fields]
        )

    @classmethod
    def missing_inputs(cls, params: Any) -> list[str]:
        """Names of mandatory fields still holding ``???``."""
        return [f.name for f in dataclasses.fields(params) if getattr(params, f.name) == MISSING]


def _attempt(call: Any) -> Outcome:
    try:
        return call()
    except Exception as exc:  # noqa: BLE001 - recorded in the row's error column
        return exc


def _windows(rows: Iterator[tuple[int, Any]], size: int) -> Iterator[list[tuple[int, Any]]]:
    while True:
        window = list(itertools.islice(rows, size))
        if not window:
            return
        yield window
