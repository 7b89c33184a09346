"""One click, one run: the form's values composed with Hydra as the command line composes
them, run by the same :class:`~taskdeck.engine.runner.Runner` in its own run directory.

The run happens in a worker thread (so the page can stream its text and show its progress)
that borrows models from the server's :class:`~taskdeck.engine.model_cache.ModelCache`. Cancelling
raises ``KeyboardInterrupt`` in that thread, exactly what Ctrl-C does on the command line:
the runner records ``interrupted`` and a batch keeps the rows that finished.
"""

from __future__ import annotations

import contextvars
import ctypes
import dataclasses
import io
import shlex
import sys
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
    sweep: Sequence[str] = ()  # models to compare: one job per model, then the comparison table

    def arguments(self, shell: bool = True) -> list[str]:
        """The overrides of the same run on the command line (quoted for a shell, or as Hydra
        reads them, as ``.hydra/overrides.yaml`` holds them)."""
        groups = [f"preset={self.preset}"] if self.preset else [f"task={self.task}"]
        if self.backend and self.backend != "auto":
            groups.append(f"backend={self.backend}")
        values = [override(k, v, shell) for k, v in self.values.items() if v is not MISSING]
        if self.sweep:
            values.append(f"model={','.join(self.sweep)}")
        return [*groups, *values, *(shlex.quote(o) if shell else o for o in self.overrides)]

    def command(self) -> str:
        """The same run on the command line."""
        return " ".join(["python run.py", *(["-m"] if self.sweep else []), *self.arguments()])


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
            self.record = self._run_one()
        except BaseException as exc:  # noqa: BLE001 - recorded; the page shows it as one line
            self.error = exc
            self.record = getattr(self.runner, "record", {"status": "interrupted", "error": "interrupted by the user"})
        finally:
            self.done.set()

    def _run_one(self) -> dict[str, Any]:
        return self.runner.run()

    def cancel(self, wait_s: float = 30.0) -> bool:
        """Stop the run as Ctrl-C would; True once it has stopped (within ``wait_s``)."""
        thread = self._thread
        if thread is None or self.done.is_set() or thread.ident is None:
            return True
        _quiet_when_swallowed()
        deadline = time.monotonic() + wait_s
        while True:
            if self._still_running():  # again until the run ends: library code may swallow one
                ctypes.pythonapi.PyThreadState_SetAsyncExc(
                    ctypes.c_ulong(thread.ident), ctypes.py_object(KeyboardInterrupt)
                )
            if self.done.wait(min(0.5, max(0.0, deadline - time.monotonic()))) or time.monotonic() >= deadline:
                return self.done.is_set()

    def _still_running(self) -> bool:
        """The run has not yet taken the stop (once it has, it is writing its record: no second one)."""
        return getattr(self.runner, "record", {}).get("status", "running") == "running"


def _quiet_when_swallowed() -> None:
    """A stop that reaches a run inside a C library's callback (llama.cpp's logger, during a
    model load) is swallowed there and Python reports it as "Exception ignored", with a
    traceback; it is sent again until the run takes it, so that report is left out."""
    previous = sys.unraisablehook
    if getattr(previous, "taskdeck_quiet", False):
        return

    def hook(unraisable: Any) -> None:
        if not isinstance(unraisable.exc_value, KeyboardInterrupt):
            previous(unraisable)

    hook.taskdeck_quiet = True  # type: ignore[attr-defined]
    sys.unraisablehook = hook


class SweepJob(Job):
    """Jobs that differ in ``model=``, run one after another into a sweep directory as
    ``python run.py -m ... model=a,b`` would, then the multirun comparison table and plot."""

    def __init__(self, runs: Runs, request: Request, sweep_dir: Path, stream: TextBuffer):
        self.runs, self.sweep_dir = runs, sweep_dir
        super().__init__(None, stream, request)
        self.comparison: Any = None

    @property
    def run_dir(self) -> Path:
        return self.sweep_dir

    @property
    def result(self) -> Any:
        return self.comparison

    def _run_one(self) -> dict[str, Any]:
        from taskdeck.comparison import write_comparison

        records, stopped = [], None
        try:
            for number, model in enumerate(self.request.sweep):
                one = dataclasses.replace(self.request, values={**self.request.values, "model": model}, sweep=())
                self.runner = self.runs.runner(one, self.stream, self.sweep_dir / str(number))
                try:
                    records.append(self.runner.run())
                except KeyboardInterrupt:  # Stop: the table keeps the jobs that ran, as a multirun's does
                    stopped = "interrupted by the user"
                    records.append(self.runner.record)
                    break
                except Exception:  # noqa: BLE001 - a failed job is a row of the table, as in a multirun
                    records.append(self.runner.record)
        finally:
            write_comparison(self.sweep_dir, stopped=stopped)
            self.comparison = SweepResult(str(self.sweep_dir), len(records))
        ok = all(r.get("status") == "ok" for r in records)
        return {
            "status": "interrupted" if stopped else "ok" if ok else "error",
            "task": self.request.task,
            "run_dir": str(self.sweep_dir),
            "jobs": [
                {"model": m, "status": r.get("status"), "run_dir": r.get("run_dir")}
                for m, r in zip(self.request.sweep, records)
            ],
            **({} if ok else {"error": "; ".join(str(r.get("error")) for r in records if r.get("error"))}),
        }


@dataclass
class SweepResult:
    """A comparison of jobs: the sweep directory holds comparison.md/.csv/.png."""

    kind = "comparison"
    sweep_dir: str
    jobs: int


class Runs:
    """Starts runs for the page, each through Hydra's compose and the Runner."""

    def __init__(self, session: Any, models: Any):
        from taskdeck.engine.config import register_configs

        self.session, self.models = session, models
        self.started = 0  # runs started so far
        self._live: list[Job] = []  # jobs started and maybe still running
        register_configs(session)

    def start(self, request: Request) -> Job:
        """Compose the request, make its run directory, start the run; config errors raise here."""
        stream = TextBuffer()
        self.started += 1
        if request.sweep:
            for model in request.sweep:  # a bad value fails here, before any job runs
                self._config(dataclasses.replace(request, values={**request.values, "model": model}, sweep=()))
            job: Job = SweepJob(self, request, self._sweep_dir(request), stream)
        else:
            job = Job(self.runner(request, stream), stream, request)
        self._live = [j for j in self._live if not j.done.is_set()] + [job]
        return job.start()

    def stop_all(self, wait_s: float = 10.0) -> None:
        """Stop every run in progress as Ctrl-C would, each given ``wait_s`` to record itself."""
        for job in self._live:
            job.cancel(wait_s)
        self._live = []

    def runner(self, request: Request, stream: TextBuffer, run_dir: Optional[Path] = None) -> Any:
        """A Runner for ``request`` (``run_dir``: a job directory of a sweep)."""
        from taskdeck.engine.runner import Runner

        cfg, run_dir = self.compose(request, run_dir)
        return Runner(self.session, cfg, run_dir, typing.cast(TextIO, stream), models=self.models)

    def _sweep_dir(self, request: Request) -> Path:
        """``hydra.sweep.dir`` as the command line makes it, with its ``multirun.yaml``."""
        import yaml

        with _COMPOSE:
            cfg = self._compose_locked(request)
            path = Path(str(cfg.hydra.sweep.dir))
        while path.exists():  # two comparisons in one second
            path = path.with_name(path.name + "-1")
        path.mkdir(parents=True)
        task_overrides = request.arguments(shell=False)
        (path / "multirun.yaml").write_text(yaml.safe_dump({"hydra": {"overrides": {"task": task_overrides}}}))
        return path

    def _compose_locked(self, request: Request) -> Any:
        from hydra import compose, initialize_config_module
        from hydra.core.global_hydra import GlobalHydra

        from taskdeck.engine.config import with_search_path

        groups = [f"preset={request.preset}"] if request.preset else [f"task={request.task}"]
        groups.append(f"backend={request.backend or 'auto'}")
        if not GlobalHydra.instance().is_initialized():
            initialize_config_module("taskdeck.conf", version_base="1.3")
        return compose(
            "config",
            overrides=with_search_path(self.session, [*groups, *request.overrides]),
            return_hydra_config=True,
        )

    def compose(self, request: Request, run_dir: Optional[Path] = None) -> tuple[Any, Path]:
        """The run's config and directory, as ``python run.py`` would make them; the config
        and overrides are saved in ``<run dir>/.hydra`` like the command line's."""
        from omegaconf import OmegaConf

        cfg, run_dir = self._config(request, run_dir)
        saved = run_dir / ".hydra"
        saved.mkdir(parents=True, exist_ok=True)
        OmegaConf.save(cfg, saved / "config.yaml")
        OmegaConf.save(OmegaConf.create(request.arguments(shell=False)), saved / "overrides.yaml")
        (saved / "command.txt").write_text(request.command() + "\n")
        return cfg, run_dir

    def _config(self, request: Request, run_dir: Optional[Path] = None) -> tuple[Any, Path]:
        """The composed config with the form's values set (typed nodes check them)."""
        from omegaconf import OmegaConf, open_dict

        with _COMPOSE:
            cfg = self._compose_locked(request)
            run_dir = run_dir or Path(str(cfg.hydra.run.dir))
            with open_dict(cfg):
                del cfg["hydra"]
        for key, value in request.values.items():
            if value is not MISSING:
                OmegaConf.update(cfg, key, _literal(value), merge=False)
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
