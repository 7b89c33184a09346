"""The Task contract: typed Params in, a typed Result out."""
from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any, ClassVar, Iterator, Sequence

from .params import MISSING

if TYPE_CHECKING:
    from .context import RunContext
    from .results import Result


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
    Params: ClassVar[type] = type("Params", (), {})
    #: The Params fields one row of a batch file fills (``input=file.csv``), first = main.
    batch_fields: ClassVar[tuple[str, ...]] = ("text",)
    #: The default of ``output=`` for this task (formatter names).
    outputs: ClassVar[tuple[str, ...]] = ("text", "json", "markdown")

    def run(self, params: Any, ctx: "RunContext") -> "Result":
        raise NotImplementedError

    def run_batch(self, batch: Sequence[Any], ctx: "RunContext") -> Iterator[tuple[int, Any]]:
        """Results for many inputs (one Params each), as ``(index, Result or Exception)``
        in any order; a failing row yields its exception and the batch goes on.

        The default runs the rows one by one; tasks override it to batch forward passes
        (e.g. sorted by length so batches carry little padding)."""
        for i, params in enumerate(batch):
            try:
                yield i, self.run(params, ctx)
            except Exception as exc:  # noqa: BLE001 - recorded in the row's error column
                yield i, exc

    @classmethod
    def missing_inputs(cls, params: Any) -> list[str]:
        """Names of mandatory fields still holding ``???``."""
        return [f.name for f in dataclasses.fields(params) if getattr(params, f.name) == MISSING]
