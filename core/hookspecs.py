"""The plugin API: the hooks a taskdeck plugin may implement.

Every hook receives a ``register`` callback and calls it once per thing it adds, in the
style of simonw/llm. The core collects what is registered, refuses duplicate names and
keeps plugins unaware of each other. An implementation may accept fewer arguments than
the spec lists, so specs can grow without breaking plugins.

Registration must be cheap: import heavy libraries (torch, transformers, openai, ...)
inside ``Backend.load`` or ``Task.run``, never at module import or in these hooks.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import pluggy

if TYPE_CHECKING:
    from .backends import Backend
    from .capabilities import Capability
    from .formatters import Formatter
    from .packs import ModelPack
    from .tasks import Task

PROJECT = "taskdeck"

hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)


# -------------------------------------------------------------------------
# Capabilities
# -------------------------------------------------------------------------


@hookspec
def register_tasks(register: Callable[[type[Task]], None]) -> None:
    """Register task classes.

    :param register: call ``register(TaskClass)`` for each :class:`taskdeck.Task` subclass.
        The class's ``name`` becomes the value of ``task=`` on the command line and its
        ``Params`` dataclass becomes the typed config of that task.
    """


@hookspec
def register_capabilities(register: Callable[[Capability], None]) -> None:
    """Declare capabilities: what a task may ask a model for, and the methods that serve it.

    :param register: call ``register(capability)`` for each :class:`taskdeck.Capability`; its
        ``name`` is what tasks list in ``needs`` and backends in ``all_capabilities``, its
        ``protocol`` class declares the methods' typed signatures (checked on every call).
    """


@hookspec
def register_backends(register: Callable[[type[Backend]], None]) -> None:
    """Register model backends (runtimes such as llama.cpp or transformers).

    :param register: call ``register(BackendClass)`` for each :class:`taskdeck.Backend`
        subclass; its ``name`` is the value of ``backend=``.
    """


@hookspec
def register_formatters(register: Callable[[Formatter], None]) -> None:
    """Register output formatters.

    :param register: call ``register(formatter)`` for each :class:`taskdeck.Formatter`
        instance; its ``name`` is a value accepted by ``output=``.
    """


@hookspec
def register_model_packs(register: Callable[[ModelPack], None]) -> None:
    """Register model packs: aliases for weights shipped inside installed packages.

    :param register: call ``register(pack)`` for each :class:`taskdeck.ModelPack`; its
        ``alias`` is accepted by ``model=``. Finding a pack must not import its package.
    """


# -------------------------------------------------------------------------
# Configuration
# -------------------------------------------------------------------------


@hookspec
def register_configs(register: Callable[..., None]) -> None:
    """Add Hydra configuration: YAML presets or structured configs.

    :param register: ``register(search_path="pkg://my_plugin.conf")`` adds a config
        directory to taskdeck's Hydra search path (only for taskdeck's app), so its YAML
        presets (e.g. ``task/my_preset.yaml``) can be selected on the command line;
        ``register(group="task", name="my_preset", node=MyParams(...))`` stores a
        structured config in Hydra's ConfigStore.
    """
