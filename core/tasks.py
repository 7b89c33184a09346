"""The Task contract: typed Params in, a typed Result out."""
from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any, ClassVar

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

    def run(self, params: Any, ctx: "RunContext") -> "Result":
        raise NotImplementedError

    @classmethod
    def missing_inputs(cls, params: Any) -> list[str]:
        """Names of mandatory fields still holding ``???``."""
        return [f.name for f in dataclasses.fields(params) if getattr(params, f.name) == MISSING]
