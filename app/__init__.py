"""The command line: ``python run.py task=<name> key=value ...`` (Hydra).

The top layer: it wires the plugin session, Hydra and the runner, and owns the state of a
command (a single run's failure, the sweeps whose comparison it writes). Errors are reported
as one line on stderr with exit code 2 (a user can fix them) or 1 (a bug);
``TASKDECK_TRACEBACK=1`` or ``HYDRA_FULL_ERROR=1`` shows the traceback.
"""

from __future__ import annotations

import errno
import os
import re
import shutil
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Optional

from taskdeck.errors import TaskdeckError, Terminated, UnknownNameError, stopped_by

CONFIG_PACKAGE = "pkg://taskdeck.conf"
_SHOW_TRACEBACK = ("TASKDECK_TRACEBACK", "HYDRA_FULL_ERROR")


class Command:
    """One ``run.py`` invocation: its Hydra job function, the single run's failure (re-raised once
    Hydra has returned, so Hydra's own "Error executing job" never prints) and the sweeps whose
    comparison table it writes."""

    def __init__(self) -> None:
        from taskdeck.comparison import Sweeps

        self.failure: Optional[BaseException] = None
        self.sweeps = Sweeps()

    def job(self, cfg: Any) -> Optional[dict]:
        """The Hydra task function: run one job in its Hydra run directory."""
        from hydra.core.hydra_config import HydraConfig
        from hydra.types import RunMode

        from taskdeck.engine.plugin_manager import get_session
        from taskdeck.engine.runner import run_task

        hc = HydraConfig.get()
        run_dir = Path(hc.runtime.output_dir)
        if hc.mode == RunMode.MULTIRUN:
            try:
                return run_task(get_session(), cfg, run_dir)
            except Exception as exc:  # a failed job is a row in the comparison, not a lost sweep
                print(f"error: job {hc.job.num}: {one_line(exc)}", file=sys.stderr)
                return {"status": "error", "error": one_line(exc)}
        try:
            return run_task(get_session(), cfg, run_dir)
        except BaseException as exc:  # re-raised by main() once Hydra has returned
            self.failure = exc
            return None

    def finish_sweeps(self, stopped: Optional[str] = None) -> None:
        """Write a multirun's comparison table even when Hydra skipped ``on_multirun_end``
        (the sweeper re-raises a failed job, hydra #2284); ``stopped`` says why it stopped."""
        try:
            self.sweeps.finish(stopped=stopped)
        except Exception as exc:  # noqa: BLE001 - never hide the sweep's own outcome
            print(f"warning: comparison table not written: {one_line(exc)}", file=sys.stderr)


def _plugin_warnings_on_one_line() -> None:
    """A plugin's deprecated use is shown as ``warning: ...``, one line, as other warnings are."""
    import warnings

    from taskdeck.plugin_api import PluginAPIWarning

    shown = warnings.formatwarning

    def one_line(message: Any, category: type[Warning], *args: Any, **kwargs: Any) -> str:
        if issubclass(category, PluginAPIWarning):
            return f"warning: {message}\n"
        return shown(message, category, *args, **kwargs)

    warnings.formatwarning = one_line


def main(argv: Optional[list[str]] = None) -> None:
    """Entry point of ``run.py`` and of the ``taskdeck`` console script (``argv`` None: the
    command line's). A command line's process then exits without Python's last garbage
    collection over every object the models' libraries made: about 0.9 s of a run with
    transformers (``gc.freeze``; files are closed and ``atexit`` handlers still run)."""
    try:
        _command(argv)
    finally:
        if argv is None:
            import gc

            gc.freeze()


def _command(argv: Optional[list[str]]) -> None:
    import hydra

    from taskdeck.comparison import tracking
    from taskdeck.engine.config import register_configs, with_search_path
    from taskdeck.engine.plugin_manager import get_session
    from taskdeck.helpers.signals import terminate_on_sigterm

    if argv is not None:
        sys.argv = [sys.argv[0], *argv]
    show_traceback = any(os.environ.get(v, "") not in ("", "0") for v in _SHOW_TRACEBACK)
    os.environ["HYDRA_FULL_ERROR"] = "1"  # let errors reach us; we print them as one line
    os.environ.setdefault("HF_HUB_VERBOSITY", "error")  # not a warning per Hub retry: a failure is one line
    command = Command()
    _plugin_warnings_on_one_line()
    terminate_on_sigterm()
    try:
        session = get_session()
        for broken in session.broken:
            print(f"warning: plugin '{broken.name}' failed to load ({broken.reason}); the others work", file=sys.stderr)
        for note in [*session.version_notes.values(), *session.capability_notes]:
            print(f"warning: {note}", file=sys.stderr)
        _check_group_choices(session, sys.argv[1:])
        register_configs(session)
        scratch = _listing_dir(sys.argv[1:])
        if scratch is not None:  # the listing prints; it leaves no run directory behind
            sys.argv += [f"hydra.run.dir={scratch}", "hydra.output_subdir=null"]
        sys.argv = [sys.argv[0], *with_search_path(session, sys.argv[1:])]
        app = hydra.main(version_base="1.3", config_path=CONFIG_PACKAGE, config_name="config")(command.job)
        try:
            with tracking(command.sweeps), _composed_once(sys.argv[1:], session):
                try:
                    app()
                except BaseException as exc:  # the sweeper re-raised: the table still gets written
                    command.finish_sweeps(stopped_by(exc) if isinstance(exc, KeyboardInterrupt) else one_line(exc))
                    raise
                command.finish_sweeps()
        finally:
            if scratch is not None:
                shutil.rmtree(scratch, ignore_errors=True)
        if command.failure is not None:
            raise command.failure
    except KeyboardInterrupt as exc:
        print("terminated" if isinstance(exc, Terminated) else "interrupted", file=sys.stderr)
        sys.exit(143 if isinstance(exc, Terminated) else 130)
    except SystemExit:
        raise
    except BaseException as exc:  # noqa: BLE001 - everything becomes one line
        if show_traceback:
            raise
        print(f"error: {one_line(exc)}", file=sys.stderr)
        sys.exit(2 if _user_error(exc) else 1)


@contextmanager
def _composed_once(args: list[str], session: Any) -> Iterator[None]:
    """Hydra composes the whole config twice per command: once only to read ``hydra.mode``
    (``Hydra.get_mode``), then for the run. Where nothing the command loads can set
    ``hydra.mode`` (no ``hydra.mode=``, no preset or other YAML config, no plugin config
    folder), that first composition gives None, and it is skipped: 40 ms off every start."""
    from hydra._internal.hydra import Hydra

    yaml_configs = ("preset=", "+preset=", "hydra.mode", "--config", "-c", "hydra.searchpath", "+hydra")
    if session.config_paths or any(a.lstrip("+~").startswith(yaml_configs) for a in args):
        yield
        return
    get_mode = Hydra.get_mode
    Hydra.get_mode = lambda self, config_name, overrides: None  # type: ignore[method-assign]
    try:
        yield
    finally:
        Hydra.get_mode = get_mode  # type: ignore[method-assign]


def _listing_dir(args: list[str]) -> Optional[str]:
    """A scratch run directory when the command only lists the plugins (``task=plugins``, or
    no task at all) and names no run directory of its own; else None."""
    import tempfile

    tasks = [a.split("=", 1)[1] for a in args if re.match(r"^\+?(task|preset)=", a)]
    if tasks not in ([], ["plugins"]) or any(a in ("-m", "--multirun") or a.startswith("hydra.run.dir=") for a in args):
        return None
    return tempfile.mkdtemp(prefix="taskdeck-plugins-")


def _check_group_choices(session: Any, args: list[str]) -> None:
    """Answer ``task=<unknown>`` / ``backend=<unknown>`` / ``preset=<unknown>`` with the choices
    and the nearest match, before Hydra does (sweeps like ``task=a,b`` are checked name by name)."""
    from taskdeck.engine.config import preset_names

    groups = {
        "task": session.tasks.names() + session.tasks.aliases() + preset_names(session, "task"),
        "backend": ["auto", *session.backends.names(), *preset_names(session, "backend")],
        "preset": preset_names(session, "preset"),
    }
    for arg in args:
        m = re.match(r"^(task|backend|preset)=(.+)$", arg)
        if not m or any(c in m.group(2) for c in "[]()$"):
            continue
        for name in m.group(2).split(","):
            if name.strip() not in groups[m.group(1)]:
                raise UnknownNameError(
                    m.group(1), name.strip(), groups[m.group(1)], "`python run.py task=plugins` lists them"
                )


#: Faults of the disk a run writes to: errno → what to do about it (a user can fix these).
_DISK_FAULTS = {
    errno.ENOSPC: "no space left on the device: free space there, or write elsewhere with hydra.run.dir=<folder>",
    errno.EDQUOT: "disk quota exceeded: free space there, or write elsewhere with hydra.run.dir=<folder>",
    errno.EROFS: "read-only file system: choose a writable folder with hydra.run.dir=<folder>",
}
_ELSEWHERE = "choose another path (hydra.run.dir=<folder> for the outputs)"
_PATH_FAULTS = {
    errno.EACCES: f"permission denied: {_ELSEWHERE}",
    errno.EISDIR: "a folder is where a file is wanted: name a file",
    errno.ENOTDIR: f"part of the path is a file, not a folder: {_ELSEWHERE}",
    errno.EEXIST: f"a file is where a folder is wanted: {_ELSEWHERE}",
}


def _disk_fault(exc: BaseException) -> Optional[str]:
    """One line for an OSError of the disk (full, read-only) or of a path (no permission, a
    file where a folder is wanted and the other way round), naming the file."""
    if not isinstance(exc, OSError):
        return None
    if exc.errno in _DISK_FAULTS:
        return (f"cannot write {exc.filename}: " if exc.filename else "") + _DISK_FAULTS[exc.errno]
    if exc.errno in _PATH_FAULTS:
        return (f"cannot use {exc.filename}: " if exc.filename else "") + _PATH_FAULTS[exc.errno]
    return None


def _user_error(exc: BaseException) -> bool:
    if isinstance(exc, TaskdeckError) or _disk_fault(exc):
        return True
    mod = type(exc).__module__ or ""
    return mod.startswith(("hydra", "omegaconf"))


def one_line(exc: BaseException) -> str:
    """A single line describing ``exc``, with Hydra/OmegaConf messages condensed."""
    if isinstance(exc, (TaskdeckError, UnknownNameError)):
        return str(exc)
    fault = _disk_fault(exc)
    if fault:
        return fault
    text = str(exc).strip()
    cause = exc.__cause__
    mod = type(exc).__module__ or ""
    if mod.startswith(("hydra", "omegaconf")):
        lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
        if cause is not None and str(cause).strip():
            lines += [ln.strip() for ln in str(cause).splitlines() if ln.strip()]
        keep = [
            ln
            for ln in lines
            if not ln.startswith(
                (
                    "full_key:",
                    "object_type=",
                    "reference_type=",
                    "Config search path",
                    "provider=",
                    "To append to your config",
                    "Available options",
                )
            )
        ]
        key = re.search(r"Key '([^']+)' not in '([^']+)'", text + "\n" + str(cause or ""))
        override = re.search(r"Could not override '(backend\.[^']+)'", text)
        if key and override:
            return _backend_option(override.group(1).split(".", 1)[1], key.group(2))
        if key:
            return _unknown_param(key.group(1), key.group(2))
        if re.search(r"mismatched input|no viable alternative|LexerNoViableAltException|extraneous input", text):
            return (
                f"{keep[0] if keep else 'cannot parse an override'}: quote a value that holds punctuation "
                "([ ] { } < > ! = ' ...) for Hydra as well as for the shell, "
                "e.g. 'text=\"Paris is the [MASK] of France.\"'"
            )
        merge = re.match(r"Error merging override (\S+)", keep[0]) if keep else None
        if merge and len(keep) > 1:
            return f"bad value in {merge.group(1)}: {keep[1]}"
        return "; ".join(dict.fromkeys(keep)) or type(exc).__name__
    first = text.splitlines()[0] if text else ""
    return f"{type(exc).__name__}: {first}" if first else type(exc).__name__


def _backend_option(name: str, params_type: str = "") -> str:
    """``backend.<name>`` that the chosen backend (its Params class is ``params_type``) lacks:
    the backends that have it, and the chosen backend's note on it."""
    import dataclasses
    import difflib

    from taskdeck.engine.plugin_manager import get_session

    session = get_session()
    backends = dict(session.backends.items())
    fields = {n: {f.name for f in dataclasses.fields(cls.Params)} for n, cls in backends.items()}
    task = next((a.split("=", 1)[1] for a in sys.argv[1:] if a.startswith("task=")), "")
    needs = set(session.tasks.get(task).needs) if task in session.tasks else set()
    owners = sorted(n for n, names in fields.items() if name in names)
    # of those, the ones that can run the task (``needs``: the capabilities of its routes)
    owners = [n for n in owners if needs & set(backends[n].all_capabilities)] or owners
    chosen = next((cls for cls in backends.values() if cls.Params.__name__ == params_type), None)
    note = chosen.option_notes.get(name, "") if chosen is not None else ""
    if owners:
        return (
            f"backend.{name} is an option of backend={' | backend='.join(owners)}, not of the backend chosen: "
            f"add backend={owners[0]} to the command, or drop backend.{name}" + (f" ({note})" if note else "")
        )
    near = difflib.get_close_matches(name, sorted(set().union(*fields.values())), n=1)
    return (
        f"unknown backend option '{name}'"
        + (f" (did you mean 'backend.{near[0]}'?)" if near else "")
        + "; `python run.py task=plugins` lists the backends"
    )


def _unknown_param(name: str, node_type: str) -> str:
    """A key the chosen task lacks: a near match among that task's own keys, else its inputs
    (a ``text=`` given to ``task=chat`` is not a typo of another task's ``text``)."""
    import dataclasses
    import difflib

    from taskdeck.engine.config import task_node
    from taskdeck.engine.plugin_manager import get_session
    from taskdeck.params import describe_fields

    hint = "`python run.py task=plugins` lists each task's parameters"
    tasks = dict(get_session().tasks.items())
    chosen = next((cls for cls in tasks.values() if f"{cls.__name__}Config" == node_type), None)
    if chosen is None:
        every = {f.name for cls in tasks.values() for f in dataclasses.fields(task_node(cls))}
        near = difflib.get_close_matches(name.split(".")[-1], sorted(every), n=1)
        return f"unknown parameter '{name}'" + (f" (did you mean '{near[0]}'?)" if near else "") + f"; {hint}"
    params: type = chosen.Params
    fields = describe_fields(params) if dataclasses.is_dataclass(params) else []
    own = [f.name for f in dataclasses.fields(task_node(chosen))]  # its own and the run-wide keys
    near = difflib.get_close_matches(name.split(".")[-1], own, n=1)
    if near:
        return f"task={chosen.name} has no parameter '{name}' (did you mean '{near[0]}'?); {hint}"
    inputs = [f["name"] for f in fields if f["input"] or f["required"]]
    listed = ", ".join(f"{n}=" for n in inputs) if inputs else "none"
    return f"task={chosen.name} has no parameter '{name}'; its inputs: {listed}; {hint}"
