"""What a running task may use: models by capability, progress, streaming, metrics.

:class:`RunContext` is the contract a task sees; the engine makes it
(:class:`taskdeck.engine.session_context.SessionContext`, which loads models through the
plugin session). ``catalog`` is a read-only view of what is registered, for tasks that list
or describe plugins.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple, Optional, TextIO

from .stopwatch import Stopwatch

if TYPE_CHECKING:
    from .backends import Backend
    from .capabilities import Capability
    from .packs import ModelPack
    from .plugin_api import BrokenPlugin


class Model(NamedTuple):
    """A loaded model: its backend and the capability of the task's ``needs`` it serves."""

    backend: Backend
    capability: str


@dataclass(frozen=True)
class Catalog:
    """What the plugins registered, read-only: name → class (tasks, backends), instance
    (formatters, packs), the plugin that registered each name, and the plugins that failed."""

    capabilities: dict[str, Capability]
    tasks: dict[str, type]
    backends: dict[str, type[Backend]]
    formatters: dict[str, Any]
    packs: dict[str, ModelPack]
    owners: dict[str, str]  # "task:<name>", "capability:<name>", ... → plugin name
    broken: tuple[BrokenPlugin, ...]
    #: Third-party plugin → the plugin API version it declares (None: not declared), and what
    #: this taskdeck says of it (an empty string when it is supported).
    third_party: dict[str, tuple[Optional[str], str]]
    presets: Callable[[str], list[str]]  # presets(group) → names of the YAML presets of a config group


class RunContext:
    """Handed to ``Task.run``. Tasks ask for a model by the capabilities they can use.

    ``backend_params`` is the run's ``backend`` config node (a Params dataclass instance);
    ``metrics`` the figures the run records in ``result.json`` (counts, sizes); ``watch`` times
    its stages.
    """

    def __init__(
        self,
        backend_params: Any,
        run_dir: Optional[Path] = None,
        stream: TextIO = sys.stdout,
        quiet: bool = False,
    ):
        self.backend_params = backend_params
        self.run_dir = run_dir
        self.stream = stream
        self.quiet = quiet
        self.metrics: dict[str, Any] = {}
        self.watch = Stopwatch()

    # ---- models ----
    def model(
        self, ref: str, needs: Sequence[str], backend: Any = None, options: Optional[dict[str, Any]] = None
    ) -> Model:
        """Load ``ref`` and return it with the first capability in ``needs`` (the task's order of
        preference) that it offers. ``backend`` (a backend name, a dict with ``name`` and
        options, or a Params instance) overrides the run's ``backend=`` for this model, e.g. a
        task with two independently configured models; ``options`` (e.g. ``{"n_ctx": 8192}``)
        are set on the chosen backend's Params where it has them. A model already loaded in
        this run is reused."""
        raise NotImplementedError

    def backend_for(self, spec: Any) -> Any:
        """A backend Params instance from a name (``"openai"``, ``"auto"``), a dict with
        ``name`` and options, or a Params instance (returned as is)."""
        raise NotImplementedError

    @property
    def catalog(self) -> Catalog:
        """What the plugins registered."""
        raise NotImplementedError

    # ---- user-facing progress and streaming ----
    def progress(
        self,
        items: Optional[Iterable[Any]],
        total: Optional[float] = None,
        desc: str = "",
        unit: str = "it",
        leave: bool = False,
    ) -> Any:
        """A tqdm progress bar on stderr (hidden when quiet or not a terminal); ``unit`` names
        what it counts ("s" of audio, "tok" written); ``leave`` keeps the finished bar as a line."""
        from tqdm.auto import tqdm

        return tqdm(
            items,
            total=total,
            desc=desc,
            unit=unit,
            disable=self.quiet or None,
            file=sys.stderr,
            dynamic_ncols=True,
            leave=leave,
        )

    def emit(self, text: str) -> None:
        """Stream generated text to the terminal as it arrives."""
        if not self.quiet:
            self.stream.write(text)
            self.stream.flush()
