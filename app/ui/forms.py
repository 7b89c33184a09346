"""A task's web form, from its typed Params: which widget each field gets, and the values
a submitted form sets on the composed config.

Pure Python (no gradio): the widget of a field follows its type, range and choices, and the
task's ``form_hints`` where it gives one. Inputs and the model are shown; every other option
is folded away as advanced. Nested dataclasses (minutes' ``asr``/``llm``) become dotted keys.
"""

from __future__ import annotations

import dataclasses
import json
import re
import shlex
import typing
from dataclasses import dataclass
from typing import Any, Optional

from taskdeck.params import MISSING, default_of

#: Field names that hold a file to upload when the task gives no hint.
_FILE_NAMES = {"audio": "audio", "image": "image", "file": "file", "path": "file"}
_LONG_TEXT = {"text", "context", "prompt", "system"}


@dataclass(frozen=True)
class FieldSpec:
    """One form field: the config key it sets and how it is asked for."""

    key: str  # the config key, dotted for a nested field (asr.model)
    #: textarea | text | number | slider | checkbox | tristate | dropdown | tags | mapping | file | audio | model
    widget: str
    default: Any
    help: str = ""
    type_name: str = "str"  # str | int | float | bool | list | dict
    optional: bool = False  # None is allowed (an empty box means "not given")
    required: bool = False
    advanced: bool = False
    choices: tuple = ()
    minimum: Optional[float] = None
    maximum: Optional[float] = None
    file_types: tuple[str, ...] = ()

    @property
    def name(self) -> str:
        """A Python identifier for the API's parameter (``asr.model`` → ``asr_model``)."""
        return self.key.replace(".", "_")

    @property
    def label(self) -> str:
        return self.key

    @property
    def info(self) -> str:
        rule = f" ({self.allowed})" if self.allowed else ""
        return f"{self.help}{rule}"

    @property
    def allowed(self) -> str:
        if self.choices:
            return ""
        bounds = []
        if self.minimum is not None:
            bounds.append(f">= {self.minimum:g}")
        if self.maximum is not None:
            bounds.append(f"<= {self.maximum:g}")
        return " and ".join(bounds)

    @property
    def initial(self) -> Any:
        """What the widget shows before the user changes it."""
        if self.required or self.widget in ("file", "audio"):
            return None  # nothing filled in (an upload starts empty)
        value = self.default
        if self.widget in ("tags",):
            return [str(v) for v in (value or [])]
        if self.widget == "mapping":
            return json.dumps(value) if value else ""
        if self.widget == "tristate":
            return "auto" if value is None else ("true" if value else "false")
        if self.widget in ("text", "textarea") and value is None:
            return ""
        return value


def form_fields(task_cls: Any, hints: Optional[dict[str, str]] = None) -> list[FieldSpec]:
    """The fields of ``task_cls``' form: required inputs, other inputs, then the advanced
    options, each in Params order."""
    params: Any = task_cls.Params
    if not dataclasses.is_dataclass(params):
        return []
    given = {**getattr(task_cls, "form_hints", {}), **(hints or {})}
    specs = [s for s in _fields(params, "", given) if given.get(s.key) != "hidden"]
    return sorted(specs, key=lambda s: (s.advanced, not s.required))


def _fields(params: Any, prefix: str, hints: dict[str, str]) -> list[FieldSpec]:
    types = typing.get_type_hints(params)
    out: list[FieldSpec] = []
    for f in dataclasses.fields(params):
        key = f"{prefix}{f.name}"
        hint = types.get(f.name, str)
        inner, optional = _unwrap(hint)
        if isinstance(inner, type) and dataclasses.is_dataclass(inner):
            out += [dataclasses.replace(s, advanced=True) for s in _fields(inner, f"{key}.", hints)]
            continue
        out.append(_spec(f, key, inner, optional, hints.get(key, ""), bool(prefix)))
    return out


def _spec(f: dataclasses.Field, key: str, inner: Any, optional: bool, hints: str, nested: bool) -> FieldSpec:
    parts = [p.strip() for p in hints.split(";") if p.strip()]  # e.g. "main;choices:a,b"
    place = next((p for p in parts if p in ("main", "advanced")), "")
    hint = next((p for p in parts if p not in ("main", "advanced")), "")
    meta = f.metadata
    default = default_of(f)
    type_name = _type_name(inner)
    is_input = bool(meta.get("input")) or default == MISSING
    spec = FieldSpec(
        key=key,
        widget="text",
        default=default,
        help=str(meta.get("help", "")),
        type_name=type_name,
        optional=optional or default is None,
        required=default == MISSING,
        advanced=place != "main" and (not (is_input or f.name == "model") or nested or place == "advanced"),
        choices=tuple(meta.get("choices", ())),
        minimum=meta.get("ge", meta.get("gt")),
        maximum=meta.get("le", meta.get("lt")),
    )
    if hint.startswith("choices:"):  # a free-text field whose usual values the form offers
        spec = dataclasses.replace(spec, choices=tuple(c for c in hint.partition(":")[2].split(",") if c))
    widget, file_types = _widget(spec, f.name, hint)
    return dataclasses.replace(spec, widget=widget, file_types=file_types)


def _widget(spec: FieldSpec, name: str, hint: str) -> tuple[str, tuple[str, ...]]:
    if hint.startswith("choices:"):
        return "dropdown", ()
    if hint.startswith("file"):
        return "file", tuple(t for t in hint.partition(":")[2].split(",") if t)
    if hint in ("audio", "text", "textarea", "chat"):
        return ("textarea" if hint == "chat" else hint), ()
    if name == "model":
        return "model", ()
    if spec.choices:
        return "dropdown", ()
    if spec.type_name == "bool":
        return ("tristate" if spec.default is None else "checkbox"), ()
    if spec.type_name in ("int", "float"):
        bounded = spec.minimum is not None and spec.maximum is not None
        return ("slider" if bounded and not spec.optional else "number"), ()  # a slider cannot be empty
    if spec.type_name == "list":
        return "tags", ()
    if spec.type_name == "dict":
        return "mapping", ()
    if name in _FILE_NAMES:
        return _FILE_NAMES[name], ()
    if name.endswith(("_file", "_path")):
        return "file", ()
    long_default = isinstance(spec.default, str) and (len(spec.default) > 60 or "\n" in spec.default)
    return ("textarea" if name in _LONG_TEXT or long_default else "text"), ()


def _unwrap(hint: Any) -> tuple[Any, bool]:
    """``Optional[X]`` → ``(X, True)``; anything else → ``(hint, False)``."""
    if typing.get_origin(hint) is typing.Union:
        args = [a for a in typing.get_args(hint) if a is not type(None)]
        return (args[0] if len(args) == 1 else Any), len(args) < len(typing.get_args(hint))
    return hint, False


def _type_name(hint: Any) -> str:
    origin = typing.get_origin(hint) or hint
    if origin in (list, tuple):
        return "list"
    if origin is dict:
        return "dict"
    if origin in (bool, int, float):
        return origin.__name__
    return "str"


# ---- submitted values → config values ----


def value_of(spec: FieldSpec, raw: Any) -> Any:
    """What a widget's value means for the config; ``MISSING`` when left as it was (so a
    preset's value or the task's default stands). Raises ValueError naming the field."""
    if spec.widget == "tristate":
        value: Any = {"auto": None, "true": True, "false": False}.get(str(raw), None)
    elif spec.widget == "tags":
        value = [_scalar(v) for v in (raw or []) if str(v).strip()]
    elif spec.widget == "mapping":
        value = _mapping(spec, raw)
    elif spec.widget in ("number", "slider"):
        value = None if raw is None or raw == "" else raw
        if value is not None and spec.type_name == "int":
            if float(value) != int(float(value)):
                raise ValueError(f"{spec.key}={value} is not an integer")
            value = int(float(value))
    elif spec.widget in ("file", "audio"):
        value = upload_path(raw)
        if value is None:
            return MISSING  # no upload: the default stands
    elif isinstance(raw, str) and raw == "" and (spec.optional or spec.required):
        value = None
    else:
        value = raw
    default = None if spec.default == MISSING else spec.default
    if value == default or (value is None and spec.required):
        return MISSING
    return value


def _scalar(text: Any) -> Any:
    s = str(text).strip()
    if re.fullmatch(r"[+-]?\d+", s):
        return int(s)
    if re.fullmatch(r"[+-]?(\d+\.\d*|\.\d+)([eE][+-]?\d+)?", s):
        return float(s)
    return s


def _mapping(spec: FieldSpec, raw: Any) -> Any:
    if raw in (None, ""):
        return {}
    if isinstance(raw, dict):
        return raw
    import yaml

    try:
        value = yaml.safe_load(str(raw))
    except yaml.YAMLError as exc:
        raise ValueError(f"{spec.key}: not JSON or YAML ({str(exc).splitlines()[0]})") from None
    if not isinstance(value, dict):
        raise ValueError(f'{spec.key}: give a mapping, e.g. {{"persona": ["student", "retiree"]}}')
    return value


def upload_path(raw: Any) -> Optional[str]:
    """An upload's path: gradio gives a path, a dict with one, or an object with ``.name``."""
    if raw in (None, ""):
        return None
    if isinstance(raw, dict):
        return raw.get("path") or raw.get("name")
    return str(getattr(raw, "name", raw))


# ---- the same run on the command line ----


def override(key: str, value: Any, shell: bool = True) -> str:
    """``key=value`` as Hydra parses it, quoted for a POSIX shell (``shell=False``: as Hydra reads it)."""
    text = f"{key}={_hydra_value(value)}"
    return shlex.quote(text) if shell else text


def _hydra_value(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, (list, tuple)):
        return "[" + ",".join(_hydra_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ",".join(f"{k}:{_hydra_value(v)}" for k, v in value.items()) + "}"
    text = str(value)
    if re.fullmatch(r"[\w./@+?!%&*;~# -]*[\w./@+?!%&*;~#-]", text) and text.lower() not in ("null", "true", "false"):
        return text  # Hydra reads it unquoted (inner spaces included)
    if '"' not in text:
        return '"' + text.replace("\\", "\\\\") + '"'
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"
