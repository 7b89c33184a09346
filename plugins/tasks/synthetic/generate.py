"""Batches of records from a chat model, varied on purpose, each validated and repaired.

Each batch asks for ``n`` records at once, as ``{"records": [...]}`` (the schema constrains
decoding where the backend can). Variety comes from the batch's seed. Every record gets its
own hints: a value from each ``hints`` list, and a target value for the steered fields (by
default the first enum, boolean or small integer range). Where decoding is constrained, the
target is pinned in the schema, so the fields written after it follow it. The temperature
follows the schedule, and the few-shot examples rotate. Each record is validated alone. An
invalid one is sent back to the model with the error a bounded number of times, and dropped
if it never validates. Greedy requests (temperature 0) of several batches are asked in one
``chat_batch`` (``ask``), which llama.cpp decodes together; each answer is then checked on
its own (``finish_batch``).
"""

from __future__ import annotations

import json
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Optional

from taskdeck.helpers.structured import StructuredOutputError, chat_json, parse_json, validate

from .shape import describe

SYSTEM = (
    "You write realistic synthetic data for testing and training. Every record is plausible, specific "
    "and different from the others: vary names, places, wording, length and details. "
    "You answer with JSON only."
)
BATCH_PROMPT = (
    "Write {n} records of: {kind}.\n\nEach record is a JSON object with these fields:\n{fields}\n"
    '{examples}{hints}\nReply with JSON only: {{"records": [ ...{n} objects... ]}}'
)
REPAIR_PROMPT = (
    "This record of {kind} does not fit its schema ({problem}):\n{record}\n\nThe fields:\n{fields}\n"
    "Reply with only the corrected JSON object."
)
#: Hints used when none are given and the records hold free text: a writing style per record.
DEFAULT_HINTS = {
    "style": [
        "casual",
        "formal",
        "detailed",
        "brief",
        "humorous",
        "matter-of-fact",
        "vivid",
        "plain-spoken",
        "technical",
        "warm",
    ]
}
_MAX_STEERED_RANGE = 10  # integer fields with at most this many values get a target value per record


@dataclass
class BatchPlan:
    """What one batch asks for: its size, seed, temperature, hints per record and examples."""

    index: int
    n: int
    seed: int
    temperature: float
    hints: list[dict[str, Any]] = field(default_factory=list)
    examples: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class BatchOutcome:
    """Records that validate (some after repair) and the counts of what did not."""

    records: list[dict[str, Any]]
    generated: int = 0
    invalid: int = 0
    repaired: int = 0
    unparsed: bool = False


def plan_batch(
    index: int,
    n: int,
    *,
    seed: int,
    temperatures: Sequence[float],
    schema: dict[str, Any],
    hints: Mapping[str, Sequence[Any]],
    examples: Sequence[dict[str, Any]],
    examples_per_batch: int = 2,
    steer: Sequence[str] = (),
) -> BatchPlan:
    """The plan of batch ``index`` (0-based): the same seed and index give the same plan.
    ``steer`` names the fields that get a seeded target value per record (see :func:`steerable`)."""
    rng = random.Random(f"{seed}:{index}")
    props = schema.get("properties", {})
    per_record = []
    for _ in range(n):
        h = {k: rng.choice(list(v)) for k, v in hints.items() if v}
        for name in steer:
            if name not in h:
                h[name] = _target(props[name], rng)
        per_record.append(h)
    shown = []
    if examples:
        start = (index * examples_per_batch) % len(examples)
        shown = [examples[(start + i) % len(examples)] for i in range(min(examples_per_batch, len(examples)))]
    temps = list(temperatures) or [0.8]
    return BatchPlan(
        index=index,
        n=n,
        seed=seed * 100_003 + index,
        temperature=float(temps[index % len(temps)]),
        hints=per_record,
        examples=shown,
    )


def steerable(schema: dict[str, Any]) -> list[str]:
    """Fields a target value can be drawn for: enums, booleans and small integer ranges."""
    out = []
    for name, node in schema.get("properties", {}).items():
        if (
            "enum" in node
            or node.get("type") == "boolean"
            or (
                node.get("type") == "integer"
                and "minimum" in node
                and "maximum" in node
                and node["maximum"] - node["minimum"] < _MAX_STEERED_RANGE
            )
        ):
            out.append(name)
    return out


def _target(node: dict[str, Any], rng: random.Random) -> Any:
    if "enum" in node:
        return rng.choice(node["enum"])
    if node.get("type") == "boolean":
        return rng.random() < 0.5
    return rng.randint(int(node["minimum"]), int(node["maximum"]))


def batch_messages(plan: BatchPlan, kind: str, schema: dict[str, Any]) -> list[dict[str, str]]:
    examples = ""
    if plan.examples:
        examples = (
            "\nExamples of the style (do not copy them):\n"
            + "\n".join(json.dumps(e, ensure_ascii=False) for e in plan.examples)
            + "\n"
        )
    hints = ""
    if any(plan.hints):
        hints = (
            "\nGuidance per record (it shapes the content; never copy these words into the values):\n"
            + "\n".join(
                f"Record {i}: " + "; ".join(f"{k}: {v}" for k, v in h.items()) for i, h in enumerate(plan.hints, 1)
            )
            + "\n"
        )
    prompt = BATCH_PROMPT.format(n=plan.n, kind=kind, fields=describe(schema), examples=examples, hints=hints)
    return [{"role": "system", "content": SYSTEM}, {"role": "user", "content": prompt}]


def batch_schema(schema: dict[str, Any], plan: BatchPlan) -> dict[str, Any]:
    """The schema of a batch answer for constrained decoding: one item per record, each with the
    fields its hints target pinned to the target value and moved first, so the text decoded
    after them fits them (records are put back in the schema's field order afterwards)."""
    props = schema.get("properties", {})
    items = []
    for hints in plan.hints or [{}] * plan.n:
        pinned = {k: {"enum": [v]} for k, v in hints.items() if k in props}
        if not pinned:
            items.append(schema)
            continue
        order = [*pinned, *(k for k in props if k not in pinned)]
        items.append(
            {
                **schema,
                "properties": {k: pinned.get(k, props[k]) for k in order},
                **({"required": [k for k in order if k in schema["required"]]} if "required" in schema else {}),
            }
        )
    return {
        "type": "object",
        "properties": {"records": {"type": "array", "prefixItems": items, "minItems": plan.n, "maxItems": plan.n}},
        "required": ["records"],
    }


def generate_batch(
    backend: Any,
    plan: BatchPlan,
    kind: str,
    schema: dict[str, Any],
    *,
    constrained: bool,
    tokens_per_record: int,
    retries: int,
) -> BatchOutcome:
    """Run one batch: ask, parse, validate each record, repair the invalid ones (bounded)."""
    text = ask(backend, [plan], kind, schema, constrained=constrained, tokens_per_record=tokens_per_record)[0]
    return finish_batch(backend, plan, text, kind, schema, retries=retries)


def ask(
    backend: Any,
    plans: Sequence[BatchPlan],
    kind: str,
    schema: dict[str, Any],
    *,
    constrained: bool,
    tokens_per_record: int,
) -> list[str]:
    """Each plan's answer, as text. Several greedy plans (temperature 0, where the seed changes
    nothing) go in one ``chat_batch``; any other plan is asked alone, with its seed."""
    requests = [
        dict(
            max_new_tokens=tokens_per_record * plan.n + 32,
            json_schema=batch_schema(schema, plan) if constrained else None,
        )
        for plan in plans
    ]
    conversations = [batch_messages(plan, kind, schema) for plan in plans]
    if len(plans) > 1 and all(plan.temperature == 0 for plan in plans):
        gens = backend.chat_batch(
            conversations,
            max_new_tokens=[r["max_new_tokens"] for r in requests],
            temperature=0.0,
            json_schema=[r["json_schema"] for r in requests],
        )
        return [gen.text for gen in gens]
    return [
        backend.chat(messages, temperature=plan.temperature, seed=plan.seed, **request).text
        for plan, messages, request in zip(plans, conversations, requests)
    ]


def finish_batch(
    backend: Any, plan: BatchPlan, text: str, kind: str, schema: dict[str, Any], *, retries: int
) -> BatchOutcome:
    """A batch's answer parsed, each record validated, the invalid ones repaired (bounded)."""
    try:
        items = candidates(parse_json(text))
    except ValueError:
        return BatchOutcome(records=[], unparsed=True)
    out = BatchOutcome(records=[], generated=len(items))
    for item in items:
        problem = validate(item, schema) if isinstance(item, dict) else "(root): not a JSON object"
        if not problem:
            out.records.append(in_order(item, schema))
            continue
        fixed = repair(backend, item, problem, kind, schema, retries=retries, seed=plan.seed)
        if fixed is None:
            out.invalid += 1
        else:
            out.repaired += 1
            out.records.append(in_order(fixed, schema))
    return out


def in_order(record: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    """The record's fields in the schema's order (other keys after them)."""
    props = schema.get("properties", {})
    return {**{k: record[k] for k in props if k in record}, **{k: v for k, v in record.items() if k not in props}}


def candidates(data: Any) -> list[Any]:
    """The records in a parsed answer: ``{"records": [...]}``, a bare list, or one object."""
    if isinstance(data, dict):
        inner = data.get("records")
        if isinstance(inner, list):
            return inner
        return [data]
    return list(data) if isinstance(data, list) else [data]


def repair(
    backend: Any, record: Any, problem: str, kind: str, schema: dict[str, Any], *, retries: int, seed: Optional[int]
) -> Optional[dict[str, Any]]:
    """The record fixed by the model (at most ``retries`` asks), or None."""
    if retries <= 0:
        return None
    prompt = REPAIR_PROMPT.format(
        kind=kind, problem=problem, record=json.dumps(record, ensure_ascii=False), fields=describe(schema)
    )
    try:
        return chat_json(
            backend,
            [{"role": "system", "content": SYSTEM}, {"role": "user", "content": prompt}],
            schema,
            retries=retries - 1,
            max_new_tokens=400,
            temperature=0.0,
            seed=seed,
        )
    except StructuredOutputError:
        return None
