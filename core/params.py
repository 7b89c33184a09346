"""Helpers to declare typed ``Params`` dataclasses for tasks and backends, and to check them.

A field made with :func:`required` holds Hydra's ``???`` (missing) until the user sets it;
:func:`param` gives a default. Both carry a one-line ``help`` shown by ``task=plugins``;
``input=True`` marks a field as a task input (a top-level key like ``text=``). Ranges
(``ge``, ``gt``, ``le``, ``lt``) and ``choices`` are checked by :func:`check_values` before
anything loads, and shown by listings and forms.
"""

from __future__ import annotations

import dataclasses
import typing
from collections.abc import Sequence
from typing import Any, Optional

from .errors import ConfigError

MISSING = "???"  # Hydra/OmegaConf's marker for a mandatory value
_BOUNDS = (("ge", ">="), ("gt", ">"), ("le", "<="), ("lt", "<"))


def required(help: str, *, input: bool = True, choices: Optional[Sequence[Any]] = None) -> Any:
    """A mandatory field: composing works, running without it fails naming the key."""
    return dataclasses.field(default=MISSING, metadata=_meta(help, input, choices=choices))


def param(
    default: Any,
    help: str,
    *,
    input: bool = False,
    ge: Optional[float] = None,
    gt: Optional[float] = None,
    le: Optional[float] = None,
    lt: Optional[float] = None,
    choices: Optional[Sequence[Any]] = None,
) -> Any:
    """An optional field with a default (lists and dicts are copied per instance). ``ge``/``gt``/
    ``le``/``lt`` bound a number, ``choices`` lists the allowed values (None always passes)."""
    meta = _meta(help, input, ge=ge, gt=gt, le=le, lt=lt, choices=choices)
    if isinstance(default, (list, dict)):
        return dataclasses.field(default_factory=lambda: type(default)(default), metadata=meta)
    return dataclasses.field(default=default, metadata=meta)


def _meta(help: str, input: bool, **rules: Any) -> dict[str, Any]:
    meta: dict[str, Any] = {"help": help, "input": input}
    meta.update({k: (tuple(v) if k == "choices" else v) for k, v in rules.items() if v is not None})
    return meta


def allowed(f: dataclasses.Field) -> str:
    """The allowed values of a field in words (``>= 1``, ``> 0 and <= 1``, ``one of a, b``), or ''."""
    if "choices" in f.metadata:
        return "one of " + ", ".join(str(c) for c in f.metadata["choices"])
    return " and ".join(f"{sign} {f.metadata[key]:g}" for key, sign in _BOUNDS if key in f.metadata)


def check_values(obj: Any, prefix: str = "") -> None:
    """Raise :class:`ConfigError` naming the first field of ``obj`` (a Params instance, nested
    dataclasses included) whose value is outside its declared range or choices."""
    if not dataclasses.is_dataclass(obj) or isinstance(obj, type):
        return
    for f in dataclasses.fields(obj):
        value = getattr(obj, f.name)
        key = f"{prefix}{f.name}"
        if dataclasses.is_dataclass(value) and not isinstance(value, type):
            check_values(value, prefix=f"{key}.")
            continue
        if value is None or value == MISSING:
            continue
        if "choices" in f.metadata and value not in f.metadata["choices"]:
            raise ConfigError(f"{key}={value} is not allowed: use {allowed(f)}")
        bounds = [(k, s) for k, s in _BOUNDS if k in f.metadata]
        if not bounds:
            continue
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ConfigError(f"{key}={value!r} is not a number: give one {allowed(f)}")
        ok = {
            "ge": value >= f.metadata.get("ge", 0),
            "gt": value > f.metadata.get("gt", 0),
            "le": value <= f.metadata.get("le", 0),
            "lt": value < f.metadata.get("lt", 0),
        }
        if not all(ok[k] for k, _ in bounds):
            what = "an integer" if isinstance(value, int) and _is_int_field(obj, f) else "a number"
            raise ConfigError(f"{key}={value:g} is out of range: give {what} {allowed(f)}")


def _is_int_field(obj: Any, f: dataclasses.Field) -> bool:
    try:
        hint = typing.get_type_hints(type(obj)).get(f.name)
    except Exception:  # noqa: BLE001 - a hint that cannot be resolved: say "a number"
        return False
    return hint is int or (
        typing.get_origin(hint) is typing.Union and int in typing.get_args(hint) and float not in typing.get_args(hint)
    )


def default_of(f: dataclasses.Field) -> Any:
    """A field's default value (``???`` for a mandatory one)."""
    if f.default is not dataclasses.MISSING:
        return f.default
    if f.default_factory is not dataclasses.MISSING:
        return f.default_factory()
    return MISSING


def describe_fields(params_cls: type) -> list[dict[str, Any]]:
    """Name, type, default, help, allowed values and input/required flags of each field."""
    rows = []
    for f in dataclasses.fields(params_cls):
        default = default_of(f)
        rows.append(
            {
                "name": f.name,
                "type": getattr(f.type, "__name__", str(f.type)).replace("typing.", ""),
                "default": default,
                "required": default == MISSING,
                "input": bool(f.metadata.get("input")),
                "help": f.metadata.get("help", ""),
                "allowed": allowed(f),
            }
        )
    return rows
