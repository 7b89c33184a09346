"""One click, one run: the form's values composed with Hydra as the command line composes
them, run by the same :class:`~taskdeck.runner.Runner` in its own run directory.

The run happens in a worker thread (so the page can stream its text and show its progress)
that borrows models from the server's :class:`~taskdeck.model_cache.ModelCache`. Cancelling
raises ``KeyboardInterrupt`` in that thread, exactly what Ctrl-C does on the command line:
the runner records ``interrupted`` and a batch keeps the rows that finished.
"""

from __future__ import annotations

import contextvars
import ctypes
import io
import shlex
import threading
import time
import typing
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional, TextIO

from taskdeck.params import MISSING

from .forms import override

_COMPOSE = threading.Lock()  # Hydra's global state is not for two threads at once


class TextBuffer(io.TextIOBase):
    """The run's stream: what the command line would print (streamed tokens, the summary)."""

    def __init__(self) -> None:
        self._parts: list[str] = []
        self._lock = threading.Lock()

    def write(self, text: str) -> int:
        with self._lock:
            self._parts.append(text)
        return len(text)

    def isatty(self) -> bool:
        return False

    def getvalue(self) -> str:
        with self._lock:
            return "".join(self._parts)


@dataclass
class Request:
    """What a submitted form asks for: the task, config groups and values by key."""

    task: str
    values: dict[str, Any] = field(default_factory=dict)  # key -> value (dotted keys for nested fields)
    backend: str = "auto"
    preset: str = ""
    overrides: Sequence[str] = ()  # free Hydra overrides, e.g. backend.n_ctx=8192

    def command(self) -> str:
        """The same run on the command line."""
        groups = [f"task={self.task}"]
        if self.preset:
            groups = [f"preset={self.preset}"]
        if self.backend and self.backend != "auto":
            groups.append(f"backend={self.backend}")
        values = [override(k, v) for k, v in self.values.items() if v is not MISSING]
        return " ".join(["python run.py", *groups, *values, *(shlex.quote(o) for o in self.overrides)])


class Job:
    """A run in a worker thread: its stream, its record, and a way to stop it."""

    def __init__(self, runner: Any, stream: TextBuffer, request: Request):
        self.runner, self.stream, self.request = runner, stream, request
        self.record: dict[str, Any] = {}
        self.error: Optional[BaseException] = None
        self.done = threading.Event()
        self.started = time.perf_counter()
        self._thread: Optional[threading.Thread] = None

    @property
    def run_dir(self) -> Path:
        return Path(self.runner.run_dir)

    @property
    def result(self) -> Any:
        return self.runner.result

    def start(self) -> Job:
        context = contextvars.copy_context()  # the page's progress tracker follows the run
        self._thread = threading.Thread(target=context.run, args=(self._work,), daemon=True, name="taskdeck-run")
        self._thread.start()
        return self

    def _work(self) -> None:
        try:
            self.record = self.runner.run()
        except BaseException as exc:  # noqa: BLE001 - recorded; the page shows it as one line
            self.error = exc
            self.record = self.runner.record
        finally:
            self.done.set()

    def cancel(self, wait_s: float = 30.0) -> bool:
        """Stop the run as Ctrl-C would; True once it has stopped (within ``wait_s``)."""
        thread = self._thread
        if thread is None or self.done.is_set() or thread.ident is None:
            return True
        ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(thread.ident), ctypes.py_object(KeyboardInterrupt))
        return self.done.wait(wait_s)


class Runs:
    """Starts runs for the page, each through Hydra's compose and the Runner."""

    def __init__(self, session: Any, models: Any):
        from taskdeck.config import register_configs

        self.session, self.models = session, models
        self.started = 0  # runs started so far
        register_configs(session)

    def start(self, request: Request) -> Job:
        """Compose the request, make its run directory, start the run; config errors raise here."""
        from taskdeck.runner import Runner

        cfg, run_dir = self.compose(request)
        stream = TextBuffer()
        self.started += 1
        runner = Runner(self.session, cfg, run_dir, typing.cast(TextIO, stream), models=self.models)
        return Job(runner, stream, request).start()

    def compose(self, request: Request) -> tuple[Any, Path]:
        """The run's config and directory, as ``python run.py`` would make them; the config
        and overrides are saved in ``<run dir>/.hydra`` like the command line's."""
        from hydra import compose, initialize_config_module
        from hydra.core.global_hydra import GlobalHydra
        from omegaconf import OmegaConf, open_dict

        from taskdeck.config import with_search_path

        groups = [f"preset={request.preset}"] if request.preset else [f"task={request.task}"]
        groups.append(f"backend={request.backend or 'auto'}")
        with _COMPOSE:
            if not GlobalHydra.instance().is_initialized():
                initialize_config_module("taskdeck.conf", version_base="1.3")
            cfg = compose(
                "config",
                overrides=with_search_path(self.session, [*groups, *request.overrides]),
                return_hydra_config=True,
            )
            run_dir = Path(str(cfg.hydra.run.dir))
            with open_dict(cfg):
                del cfg["hydra"]
        for key, value in request.values.items():
            if value is not MISSING:
                OmegaConf.update(cfg, key, _literal(value), merge=False)
        saved = run_dir / ".hydra"
        saved.mkdir(parents=True, exist_ok=True)
        OmegaConf.save(cfg, saved / "config.yaml")
        (saved / "command.txt").write_text(request.command() + "\n")
        return cfg, run_dir


def _literal(value: Any) -> Any:
    """A value as text, not as an OmegaConf interpolation (``${...}`` kept as typed)."""
    if isinstance(value, str):
        return value.replace("${", "\\${")
    if isinstance(value, list):
        return [_literal(v) for v in value]
    if isinstance(value, dict):
        return {k: _literal(v) for k, v in value.items()}
    return value
