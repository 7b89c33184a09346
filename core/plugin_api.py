"""The plugin API's version, its compatibility policy, and the checks where a plugin meets it.

``PLUGIN_API`` is ``major.minor``. A minor version adds names, or changes one while the old
form keeps working, with a one-line deprecation warning naming the plugin, the old use and
the new one, until the next minor version removes it; a major version may remove without
that notice. A plugin declares the version it was written for with a module attribute,
``TASKDECK_PLUGIN_API = "1.1"``. ``docs/plugin-api.md`` holds the public names and the changelog.

At the boundary: every Backend contract method checks its arguments against the contract's
signature and types before the backend runs (:func:`guard`), so a wrong call fails in one
line naming the calling plugin, the method, the argument and what it expects.
"""

from __future__ import annotations

import functools
import inspect
import numbers
import sys
import types
import typing
import warnings
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, Optional, Union

from .errors import TaskdeckError

PLUGIN_API = "1.1"
#: The oldest version whose plugins still run unchanged (with deprecation warnings).
OLDEST_SUPPORTED = "1.0"
#: The module attribute a plugin declares its version with.
DECLARATION = "TASKDECK_PLUGIN_API"
#: The built-in plugins' module names start with this; the rest are third-party.
BUILTIN_PREFIX = "taskdeck."


class PluginContractError(TaskdeckError):
    """A plugin used the plugin API in a way it does not allow (a wrong argument, a wrong return)."""


@dataclass(frozen=True)
class BrokenPlugin:
    """A plugin that failed to load, and why (the others load)."""

    name: str
    reason: str


class PluginAPIWarning(FutureWarning):
    """A plugin uses a form of the plugin API that a later minor version removes."""


@dataclass(frozen=True)
class Change:
    """One change of the plugin API that keeps the old form working for a minor version."""

    version: str  # the version that made the change
    where: str  # the contract method, hook or Result
    old: str
    new: str

    @property
    def removed_in(self) -> str:
        major, minor = _parse(self.version) or (0, 0)
        return f"{major}.{minor + 1}"


CHANGES = (
    Change("1.1", "Backend.chat", "stream=False", "stream=None"),
    Change("1.1", "Backend.chat", "stream=True", "stream=<a callback that takes each piece of text>"),
)


def _parse(version: object) -> Optional[tuple[int, int]]:
    parts = str(version).strip().split(".")
    if len(parts) != 2 or not all(p.isdigit() for p in parts):
        return None
    return int(parts[0]), int(parts[1])


def check_declared(plugin: str, declared: object) -> Optional[str]:
    """A one-line warning about the version a plugin declares, or None when it is supported.
    A plugin that declares nothing is taken as written for the current version."""
    if declared is None:
        return None
    given, current, oldest = _parse(declared), _parse(PLUGIN_API), _parse(OLDEST_SUPPORTED)
    assert current is not None and oldest is not None
    if given is None:
        return f"plugin '{plugin}' declares {DECLARATION} = {declared!r}: write major.minor, e.g. '{PLUGIN_API}'"
    if given > current:
        return (
            f"plugin '{plugin}' was written for plugin API {declared}, newer than this taskdeck's "
            f"{PLUGIN_API}: upgrade taskdeck"
        )
    if given < oldest:
        return (
            f"plugin '{plugin}' was written for plugin API {declared}, older than the oldest this taskdeck "
            f"supports ({OLDEST_SUPPORTED}): update it as docs/plugin-api.md's changelog says"
        )
    return None


# ---- who is calling -------------------------------------------------------------------------

_caller: ContextVar[Optional[str]] = ContextVar("taskdeck_plugin_caller", default=None)


@contextmanager
def calling(plugin: str) -> Iterator[None]:
    """Within this block, contract calls are made on behalf of ``plugin`` (for messages)."""
    token = _caller.set(plugin)
    try:
        yield
    finally:
        _caller.reset(token)


def caller() -> Optional[str]:
    """The plugin whose code is calling the contract now, when the engine knows it."""
    return _caller.get()


def _who() -> str:
    name = caller()
    return f"plugin '{name}'" if name else "a caller"


def deprecated(change: Change, stacklevel: int = 2) -> None:
    """Warn once per call site that ``change.old`` is deprecated, naming the calling plugin;
    ``stacklevel`` as :func:`warnings.warn` counts it from the function that calls this one."""
    warnings.warn(
        f"{_who()} uses {change.where}({change.old}), deprecated in plugin API {change.version} "
        f"and removed in {change.removed_in}: write {change.new}",
        PluginAPIWarning,
        stacklevel=stacklevel + 1,
    )


# ---- checks at the Backend contract ---------------------------------------------------------


def _print_piece(piece: str) -> None:
    sys.stdout.write(piece)
    sys.stdout.flush()


def _old_stream_flag(arguments: dict[str, Any]) -> None:
    """Plugin API 1.0: ``stream`` was a flag; 1.1 takes a callback or None."""
    flag = arguments.get("stream")
    if isinstance(flag, bool):
        deprecated(CHANGES[1] if flag else CHANGES[0], stacklevel=3)
        arguments["stream"] = _print_piece if flag else None


#: Old forms still accepted, by contract method: each rewrites the bound arguments in place.
_ADAPTERS: dict[str, tuple[Callable[[dict[str, Any]], None], ...]] = {"chat": (_old_stream_flag,)}


@functools.cache
def _contract(fn: Callable[..., Any]) -> tuple[inspect.Signature, dict[str, Any]]:
    from . import results  # the names the contract's annotations use under TYPE_CHECKING

    hints = typing.get_type_hints(fn, localns=vars(results))
    hints.pop("return", None)
    return inspect.signature(fn), hints


def guard(contract: Callable[..., Any], impl: Callable[..., Any]) -> Callable[..., Any]:
    """``impl`` (a backend's method) behind the checks of ``contract`` (the Backend method it
    implements): arguments bound to the contract's signature, old forms adapted with a
    warning, every named argument checked against its annotation."""
    name = contract.__name__

    @functools.wraps(impl)
    def checked(self: Any, *args: Any, **kwargs: Any) -> Any:
        signature, hints = _contract(contract)
        try:
            bound = signature.bind(self, *args, **kwargs)
        except TypeError as exc:
            raise PluginContractError(
                f"{_who()} called {type(self).__name__}.{name}() wrongly: {exc}; "
                f"the contract is {name}{_shown(signature)}"
            ) from None
        arguments = bound.arguments
        for adapt in _ADAPTERS.get(name, ()):
            adapt(arguments)
        for key, value in arguments.items():
            hint = hints.get(key)
            if hint is None or key == "self" or signature.parameters[key].kind is inspect.Parameter.VAR_KEYWORD:
                continue
            if not _fits(value, hint):
                raise PluginContractError(
                    f"{_who()} called {type(self).__name__}.{name}({key}={_brief(value)}): "
                    f"{key} must be {_describe(hint)}, not {_found(value, hint)}"
                )
        return impl(*bound.args, **bound.kwargs)

    checked.__taskdeck_guarded__ = True  # type: ignore[attr-defined]
    return checked


def _shown(signature: inspect.Signature) -> str:
    """``(messages, *, max_new_tokens=256, **options)``: the parameters as a caller writes them."""
    parts, star = [], False
    for p in signature.parameters.values():
        if p.name == "self":
            continue
        if p.kind is p.VAR_KEYWORD:
            parts.append(f"**{p.name}")
            continue
        if p.kind is p.KEYWORD_ONLY and not star:
            parts.append("*")
            star = True
        parts.append(p.name if p.default is p.empty else f"{p.name}={p.default!r}")
    return f"({', '.join(parts)})"


def _found(value: Any, hint: Any) -> str:
    """What was given instead: the type, or the first element of a list that does not fit."""
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin is Union or origin is types.UnionType:
        lists = [a for a in args if typing.get_origin(a) in (list, Sequence, typing.Sequence)]
        origin, args = (typing.get_origin(lists[0]), typing.get_args(lists[0])) if lists else (origin, args)
    if origin in (list, Sequence, typing.Sequence) and args and isinstance(value, Sequence):
        if not isinstance(value, (str, bytes)):
            for i, item in enumerate(value):
                if not _fits(item, args[0]):
                    return f"{type(value).__name__} whose item [{i}] is {type(item).__name__}"
    return type(value).__name__


def _brief(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _fits(value: Any, hint: Any) -> bool:
    """Whether ``value`` has the type ``hint`` names, as far as a call's boundary can tell
    without consuming iterators; forms it does not know pass."""
    if hint is Any:
        return True
    if hint is type(None) or hint is None:
        return value is None
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin is Union or origin is types.UnionType:
        return any(_fits(value, a) for a in args)
    if hint is bool:
        return isinstance(value, (bool, numbers.Integral)) and value in (0, 1)
    if hint is int:
        return isinstance(value, numbers.Integral) and not isinstance(value, bool)
    if hint is float:
        return isinstance(value, numbers.Real) and not isinstance(value, bool)
    if hint is str:
        return isinstance(value, str)
    if origin in (Callable, typing.Callable) or hint is Callable:
        return callable(value)
    if origin in (list, Sequence, typing.Sequence):
        if isinstance(value, (str, bytes)) or not isinstance(value, Sequence):
            return False
        return not args or all(_fits(v, args[0]) for v in value)
    if origin in (Iterable, typing.Iterable):
        return isinstance(value, Iterable) and not isinstance(value, (str, bytes))
    if origin in (dict, Mapping, typing.Mapping) or typing.is_typeddict(hint):
        return isinstance(value, Mapping)
    if origin is tuple:
        return isinstance(value, tuple)
    if isinstance(hint, type):
        return isinstance(value, hint)
    return True


def _describe(hint: Any) -> str:
    """``hint`` in words: ``a sequence of messages or None``."""
    if hint is Any:
        return "anything"
    if hint is type(None):
        return "None"
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin is Union or origin is types.UnionType:
        return " or ".join(dict.fromkeys(_describe(a) for a in args))
    if origin in (Callable, typing.Callable) or hint is Callable:
        return "a callable"
    if origin in (list, Sequence, typing.Sequence):
        return f"a list of {_plural(args[0])}" if args else "a list"
    if origin in (Iterable, typing.Iterable):
        return "an iterable"
    if hint == Mapping[str, Any]:  # taskdeck.Message
        return "a message ({'role': ..., 'content': ...})"
    if origin in (dict, Mapping, typing.Mapping):
        return "a dict"
    if typing.is_typeddict(hint):
        return f"a dict ({hint.__name__})"
    if isinstance(hint, type):
        return {bool: "True or False", int: "an integer", float: "a number", str: "a string"}.get(
            hint, f"a {hint.__name__}"
        )
    return str(hint)


def _plural(hint: Any) -> str:
    words = _describe(hint)
    if words.startswith("a message"):
        return "messages ({'role': ..., 'content': ...})"
    if words.startswith("a list of "):
        return "lists of " + words[len("a list of ") :]
    plain = {"a string": "strings", "an integer": "integers", "a number": "numbers", "anything": "anything"}
    return plain.get(words, words)


def guarded_names(backend_cls: type) -> tuple[str, ...]:
    """The Backend methods checked at the boundary: every one a caller passes arguments to."""
    return tuple(
        n
        for n, fn in vars(backend_cls).items()
        if not n.startswith("_") and inspect.isfunction(fn) and len(inspect.signature(fn).parameters) > 1
    )
