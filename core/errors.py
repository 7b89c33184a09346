"""Errors a user can act on.

Every :class:`TaskdeckError` is shown as one line (``error: ...``) with exit code 2 and no
traceback (set ``TASKDECK_TRACEBACK=1`` to see one). The message names the fix.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable


class TaskdeckError(Exception):
    """Base class: a failure the user can fix; ``str(err)`` is the one line shown."""


class ConfigError(TaskdeckError):
    """A parameter is missing, misspelled or has a value the task cannot use."""


class MissingInputError(ConfigError):
    """A required task input (``???`` in the config) was not given."""

    def __init__(self, task: str, keys: Iterable[str]):
        keys = list(keys)
        example = " ".join(f"{k}=..." for k in keys)
        super().__init__(f"task '{task}' needs {', '.join(keys)}: add {example} to the command")
        self.task, self.keys = task, keys


class UnknownNameError(TaskdeckError, KeyError):
    """A name that is not registered; the message lists the choices and the nearest match."""

    def __init__(self, what: str, name: str, choices: Iterable[str], hint: str = "", aliases: Iterable[str] = ()):
        choices = sorted(choices)
        near = difflib.get_close_matches(name, [*choices, *aliases], n=1)  # an alias may be nearest
        msg = f"unknown {what} '{name}'"
        if near:
            msg += f" (did you mean '{near[0]}'?)"
        msg += f"; choices: {', '.join(choices) if choices else 'none registered'}"
        if hint:
            msg += f". {hint}"
        super().__init__(msg)
        self.what, self.name, self.choices = what, name, choices

    def __str__(self) -> str:  # KeyError would quote the message
        return self.args[0]


class DuplicateNameError(TaskdeckError):
    """Two plugins registered the same name; nothing is silently overridden."""


class MissingDependencyError(TaskdeckError):
    """An optional package is needed; the message gives the pip command."""

    def __init__(self, package: str, purpose: str, extra: str | None = None):
        fix = f"pip install 'taskdeck[{extra}]'" if extra else f"pip install {package}"
        super().__init__(f"{purpose} needs the package '{package}': {fix}")
        self.package = package


class ModelNotFoundError(TaskdeckError):
    """A model reference resolves to nothing usable (no alias, no path, not cached offline)."""


class CapabilityError(TaskdeckError):
    """The chosen backend/model cannot do what the task needs, and no fallback applies."""


class InputError(TaskdeckError):
    """An input (text, file) cannot be used as given."""


class PluginLoadError(TaskdeckError):
    """A plugin failed to load; others still load. Carries the plugin name and the reason."""


class Terminated(KeyboardInterrupt):
    """SIGTERM (systemd, Docker, Ray, Slurm, ``kill``), raised where Ctrl-C would be: the same
    clean stop (what finished is kept, the run directory says so), exit code 143."""


def stopped_by(exc: KeyboardInterrupt) -> str:
    """What ``result.json`` says of a run that was stopped."""
    return "terminated (SIGTERM)" if isinstance(exc, Terminated) else "interrupted by the user"
