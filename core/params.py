"""Helpers to declare typed ``Params`` dataclasses for tasks and backends.

A field made with :func:`required` holds Hydra's ``???`` (missing) until the user sets it;
:func:`param` gives a default. Both carry a one-line ``help`` shown by ``task=plugins``;
``input=True`` marks a field as a task input (a top-level key like ``text=``).
"""
from __future__ import annotations

import dataclasses
from typing import Any

MISSING = "???"  # Hydra/OmegaConf's marker for a mandatory value


def required(help: str, *, input: bool = True) -> Any:
    """A mandatory field: composing works, running without it fails naming the key."""
    return dataclasses.field(default=MISSING, metadata={"help": help, "input": input})


def param(default: Any, help: str, *, input: bool = False) -> Any:
    """An optional field with a default (lists and dicts are copied per instance)."""
    meta = {"help": help, "input": input}
    if isinstance(default, (list, dict)):
        return dataclasses.field(default_factory=lambda: type(default)(default), metadata=meta)
    return dataclasses.field(default=default, metadata=meta)


def describe_fields(params_cls: type) -> list[dict]:
    """Name, type, default, help and input/required flags of each field, for listings."""
    rows = []
    for f in dataclasses.fields(params_cls):
        if f.default is not dataclasses.MISSING:
            default = f.default
        elif f.default_factory is not dataclasses.MISSING:  # type: ignore[misc]
            default = f.default_factory()  # type: ignore[misc]
        else:
            default = MISSING
        rows.append({
            "name": f.name,
            "type": getattr(f.type, "__name__", str(f.type)).replace("typing.", ""),
            "default": default,
            "required": default == MISSING,
            "input": bool(f.metadata.get("input")),
            "help": f.metadata.get("help", ""),
        })
    return rows
