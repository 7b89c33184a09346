"""The record shape of ``task=synthetic``, as a JSON Schema held fixed for the run.

It comes from ``fields=`` (``name:type`` pairs, or dicts in YAML presets), a JSON Schema file
(``schema=``), example records (``examples=``), or the model's proposal. Field shorthand::

    name                      a string
    name:type                 str|int|float|bool|date|datetime|email|list
    rating:int:1..5           a number range (also on float)
    mood:calm|tense|angry     an enum (or enum:calm|tense|angry)
    text:str:the review text  a trailing part is the field's description
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional

from taskdeck import InputError

TYPES = {
    "str": "string",
    "string": "string",
    "text": "string",
    "int": "integer",
    "integer": "integer",
    "float": "number",
    "number": "number",
    "decimal": "number",
    "bool": "boolean",
    "boolean": "boolean",
    "date": "date",
    "datetime": "datetime",
    "email": "email",
    "list": "list",
    "enum": "enum",
}
#: Formats checked by pattern (jsonschema does not check ``format`` unless asked; grammars follow patterns).
PATTERNS = {
    "date": r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$",
    "datetime": r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}(:[0-9]{2})?Z?$",
    "email": r"^[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}$",
}
_RANGE = re.compile(r"^(-?\d+(?:\.\d+)?)\.\.(-?\d+(?:\.\d+)?)(?::(.*))?$")
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


@dataclass
class FieldSpec:
    """One field of a record."""

    name: str
    type: str = "string"  # a value of TYPES
    description: str = ""
    values: list[str] = field(default_factory=list)  # enum choices
    minimum: Optional[float] = None
    maximum: Optional[float] = None

    def schema(self) -> dict[str, Any]:
        if self.type == "enum":
            node: dict[str, Any] = {"type": "string", "enum": list(self.values)}
        elif self.type in PATTERNS:
            node = {"type": "string", "pattern": PATTERNS[self.type]}
        elif self.type == "list":
            node = {"type": "array", "items": {"type": "string", "minLength": 1}, "minItems": 1, "maxItems": 6}
        elif self.type == "string":
            node = {"type": "string", "minLength": 1}
        else:
            node = {"type": self.type}
        if self.type in ("integer", "number"):
            if self.minimum is not None:
                node["minimum"] = int(self.minimum) if self.type == "integer" else self.minimum
            if self.maximum is not None:
                node["maximum"] = int(self.maximum) if self.type == "integer" else self.maximum
        if self.description:
            node["description"] = self.description
        return node


def parse_field(spec: Any) -> FieldSpec:
    """A field from its shorthand (``rating:int:1..5``) or a dict (``{name, type, values, min, max,
    description}``); an unknown type or a bad name is one line naming the choices."""
    if isinstance(spec, dict):
        return _from_dict(spec)
    text = str(spec).strip()
    name, _, rest = text.partition(":")
    type_, _, tail = rest.partition(":")
    type_ = type_.strip() or "string"
    f = FieldSpec(name=name.strip())
    if "|" in type_ or type_.lower() == "enum":
        values = tail.split(":", 1) if type_.lower() == "enum" else [type_, tail]
        f.type, f.values = "enum", [v.strip() for v in values[0].split("|") if v.strip()]
        f.description = values[1].strip() if len(values) > 1 else ""
    else:
        f.type = _type(type_, text)
        m = _RANGE.match(tail.strip())
        if m and f.type in ("integer", "number"):
            f.minimum, f.maximum, f.description = float(m.group(1)), float(m.group(2)), (m.group(3) or "").strip()
        else:
            f.description = tail.strip()
    return _checked(f, text)


def _from_dict(spec: dict) -> FieldSpec:
    values = spec.get("values") or spec.get("enum") or []
    type_ = "enum" if values and not spec.get("type") else str(spec.get("type") or "string")
    f = FieldSpec(
        name=str(spec.get("name", "")).strip(),
        type=_type(type_, json.dumps(spec)),
        description=str(spec.get("description") or ""),
        values=[str(v) for v in values],
        minimum=spec.get("min", spec.get("minimum")),
        maximum=spec.get("max", spec.get("maximum")),
    )
    return _checked(f, json.dumps(spec))


def _type(name: str, where: str) -> str:
    t = TYPES.get(name.strip().lower())
    if t is None:
        raise InputError(
            f"unknown field type '{name}' in '{where}'; types: "
            f"{', '.join(sorted(set(TYPES) - {'text', 'decimal'}))}, or values a|b|c"
        )
    return t


def _checked(f: FieldSpec, where: str) -> FieldSpec:
    if not _NAME.match(f.name):
        raise InputError(f"field '{where}': the name must be letters, digits and _ (e.g. rating:int:1..5)")
    if f.type == "enum" and len(f.values) < 2:
        raise InputError(f"field '{where}': an enum needs two or more values, e.g. {f.name}:low|medium|high")
    if f.minimum is not None and f.maximum is not None and f.minimum > f.maximum:
        raise InputError(f"field '{where}': the range's low end is above its high end")
    return f


def schema_from_fields(fields: list[FieldSpec]) -> dict[str, Any]:
    """A JSON Schema for records with exactly these fields, all required."""
    names = [f.name for f in fields]
    if len(set(names)) != len(names):
        dup = next(n for n in names if names.count(n) > 1)
        raise InputError(f"field '{dup}' is given twice in fields=")
    return {
        "type": "object",
        "properties": {f.name: f.schema() for f in fields},
        "required": names,
        "additionalProperties": False,
    }


def load_schema(path: str) -> dict[str, Any]:
    """A JSON Schema file describing one record (an object with properties), checked."""
    import jsonschema

    data = _read_json(path, "schema file")
    try:
        jsonschema.Draft202012Validator.check_schema(data)
    except jsonschema.SchemaError as exc:
        where = "/".join(str(p) for p in exc.path) or "(root)"
        raise InputError(
            f"schema file '{path}' is not a valid JSON Schema at {where}: {exc.message.splitlines()[0]}"
        ) from None
    if not isinstance(data, dict) or data.get("type") != "object" or not data.get("properties"):
        raise InputError(
            f'schema file \'{path}\' must describe one record: {{"type": "object", "properties": {{...}}}}'
        )
    return data


def load_examples(path: str) -> list[dict[str, Any]]:
    """Example records from a .json list or a .jsonl file (one object per line)."""
    p = Path(path).expanduser()
    if p.suffix.lower() == ".jsonl":
        if not p.is_file():
            raise InputError(f"examples file '{path}' does not exist")
        try:
            data = [json.loads(ln) for ln in p.read_text(encoding="utf-8").splitlines() if ln.strip()]
        except ValueError as exc:
            raise InputError(f"examples file '{path}' is not valid JSONL: {exc}") from None
    else:
        data = _read_json(path, "examples file")
    if isinstance(data, dict):
        data = data.get("records", [data])
    if not isinstance(data, list) or not data or not all(isinstance(r, dict) and r for r in data):
        raise InputError(f"examples file '{path}' must hold one or more JSON objects (records)")
    return data


def infer_schema(records: list[dict[str, Any]]) -> dict[str, Any]:
    """A schema the example records fit: each key's type from its values; keys in every record required."""
    props: dict[str, Any] = {}
    for rec in records:
        for key, value in rec.items():
            props.setdefault(key, []).append(value)
    schema_props = {k: _infer(v) for k, v in props.items()}
    required = [k for k in props if all(k in r for r in records)]
    return {"type": "object", "properties": schema_props, "required": required, "additionalProperties": False}


def _infer(values: list[Any]) -> dict[str, Any]:
    kinds = {type(v) for v in values if v is not None}
    if kinds == {bool}:
        return {"type": "boolean"}
    if kinds <= {int} and kinds:
        return {"type": "integer"}
    if kinds <= {int, float} and kinds:
        return {"type": "number"}
    if kinds == {list}:
        items = [x for v in values for x in v]
        return {"type": "array", "items": _infer(items) if items else {}}
    if kinds == {dict}:
        return infer_schema([v for v in values if isinstance(v, dict)])
    if kinds == {str}:
        for name in ("date", "datetime", "email"):
            if all(re.match(PATTERNS[name], v) for v in values):
                return {"type": "string", "pattern": PATTERNS[name]}
        return {"type": "string"}
    return {}


def _read_json(path: str, what: str) -> Any:
    p = Path(path).expanduser()
    if not p.is_file():
        raise InputError(f"{what} '{path}' does not exist")
    try:
        return json.loads(p.read_text(encoding="utf-8"))
    except ValueError as exc:
        raise InputError(f"{what} '{path}' is not valid JSON: {exc}") from None


def describe(schema: dict[str, Any]) -> str:
    """The fields as prompt lines: ``- name (type): description; one of a, b``."""
    lines = []
    required = set(schema.get("required", []))
    for name, node in schema.get("properties", {}).items():
        kind = node.get("type", "any")
        if kind == "array":
            kind = f"list of {node.get('items', {}).get('type', 'values')}"
        parts = [f"- {name} ({kind}{'' if name in required else ', optional'})"]
        notes = [node["description"]] if node.get("description") else []
        if "enum" in node:
            notes.append("one of " + ", ".join(map(str, node["enum"])))
        if "minimum" in node or "maximum" in node:
            notes.append(f"from {node.get('minimum', '…')} to {node.get('maximum', '…')}")
        if node.get("pattern") == PATTERNS["date"]:
            notes.append("a date YYYY-MM-DD")
        elif node.get("pattern") == PATTERNS["datetime"]:
            notes.append("a date and time YYYY-MM-DDTHH:MM:SSZ")
        elif node.get("pattern") == PATTERNS["email"]:
            notes.append("an email address")
        lines.append(parts[0] + (": " + "; ".join(notes) if notes else ""))
    return "\n".join(lines)


def enum_fields(schema: dict[str, Any]) -> dict[str, list[Any]]:
    """Fields with a fixed set of values (enums and booleans) and their values."""
    out = {}
    for name, node in schema.get("properties", {}).items():
        if "enum" in node:
            out[name] = list(node["enum"])
        elif node.get("type") == "boolean":
            out[name] = [True, False]
    return out


# ---- a shape proposed by the model ----
PROPOSAL_SCHEMA = {
    "type": "object",
    "properties": {
        "fields": {
            "type": "array",
            "minItems": 3,
            "maxItems": 8,
            "items": {
                "type": "object",
                "properties": {
                    "name": {"type": "string", "pattern": "^[a-z][a-z0-9_]{0,30}$"},
                    "type": {"type": "string", "enum": ["string", "integer", "number", "boolean", "enum", "date"]},
                    "description": {"type": "string"},
                    "values": {"type": "array", "items": {"type": "string"}, "maxItems": 8},
                    "range": {"type": "array", "items": {"type": "number"}, "maxItems": 2},
                },
                "required": ["name", "type", "description", "values", "range"],
            },
        }
    },
    "required": ["fields"],
}

PROPOSAL_PROMPT = (
    "Design the fields of a realistic dataset of: {kind}.\n"
    "Give 3 to 8 fields. Field names are snake_case. Types: string (free text), integer, number, "
    "boolean, enum (a fixed set of values: list them in values) or date. values is empty unless the type "
    "is enum; range is [lowest, highest] for an integer or number with bounds (like a 1 to 5 rating), "
    "else empty. Include at least one enum field (a category, status or sentiment). Reply with JSON only."
)


def propose_schema(backend: Any, kind: str, *, retries: int = 2, seed: Optional[int] = 0) -> dict[str, Any]:
    """Ask the chat model for the fields of ``kind``; the resulting schema is held fixed for the run."""
    from taskdeck.helpers.structured import StructuredOutputError, chat_json

    messages = [
        {"role": "system", "content": "You design datasets. You answer with JSON only."},
        {"role": "user", "content": PROPOSAL_PROMPT.format(kind=kind)},
    ]
    fields: list[FieldSpec] = []
    for attempt in range(retries + 1):  # greedy first, then sampled: a proposal must name 3 distinct fields
        data = chat_json(
            backend,
            messages,
            PROPOSAL_SCHEMA,
            retries=retries,
            max_new_tokens=700,
            temperature=0.0 if attempt == 0 else 0.8,
            seed=(seed or 0) + attempt,
        )
        fields = _proposed_fields(data)
        if len(fields) >= 3:
            return schema_from_fields(fields)
    raise StructuredOutputError(
        f"the proposals named {len(fields)} distinct field(s), 3 or more are needed", json.dumps(data)
    )


def _proposed_fields(data: dict[str, Any]) -> list[FieldSpec]:
    fields: list[FieldSpec] = []
    seen: set[str] = set()
    for item in data["fields"]:
        name = re.sub(r"[^a-z0-9_]", "_", item["name"].lower()).strip("_") or f"field{len(fields) + 1}"
        if name in seen:
            continue
        values = [v for v in dict.fromkeys(str(x).strip() for x in item.get("values") or []) if v]
        type_ = item["type"] if item["type"] != "enum" or len(values) >= 2 else "string"
        seen.add(name)
        bounds = sorted(item.get("range") or []) if type_ in ("integer", "number") else []
        fields.append(
            FieldSpec(
                name=name,
                type=type_,
                description=item.get("description", "").strip(),
                values=values if type_ == "enum" else [],
                minimum=bounds[0] if len(bounds) == 2 else None,
                maximum=bounds[1] if len(bounds) == 2 else None,
            )
        )
    return fields
