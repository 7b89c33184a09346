"""``task=synthetic``: described data in, valid, varied, deduplicated records out.

The record shape (``fields=``, ``schema=``, ``examples=``, or proposed by the model and then
held fixed) becomes a JSON Schema. Records are generated in batches (``generate.py``), each
validated against it and repaired or dropped, then deduplicated exactly and by embedding
similarity (``dedup.py``), and written after every batch (``writers.py``: jsonl, json, csv),
with a sidecar that lets a rerun with the same ``out=`` continue to ``count``. The quality
report (``quality.py``) goes to ``result.json`` and the terminal. Presets for common kinds
live in ``conf/preset/`` (``preset=reviews``).
"""

from __future__ import annotations

import dataclasses
import hashlib
import math
import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, Optional

from taskdeck import (
    CHAT,
    CHAT_JSON,
    EMBED,
    ConfigError,
    InputError,
    Result,
    Task,
    TaskdeckError,
    hookimpl,
    param,
    required,
)
from taskdeck.helpers.structured import StructuredOutputError, validate

from . import quality
from .dedup import Deduplicator, has_free_text, text_fields
from .generate import DEFAULT_HINTS, ask, finish_batch, plan_batch, steerable
from .shape import infer_schema, load_examples, load_schema, parse_field, propose_schema, schema_from_fields
from .writers import (
    check_writable,
    choose_format,
    file_name,
    read_meta,
    read_records,
    write_meta,
    write_records,
)

DEFAULT_MODEL = "qwen2.5-coder-1.5b"
#: Greedy batches (temperatures=[0]) asked together, decoded at once where the backend can.
AHEAD = 8


@dataclass
class SyntheticData(Result):
    """Generated records (in the file ``path``), their schema and the quality report."""

    kind: ClassVar[str] = "records"
    records: list
    schema: dict
    quality: dict
    path: str = ""
    format: str = "jsonl"
    description: str = ""
    method: str = ""

    def to_dict(self) -> dict[str, Any]:  # the records live in their file; a sample is enough here
        return {
            "kind": self.kind,
            "description": self.description,
            "path": self.path,
            "format": self.format,
            "count": len(self.records),
            "schema": self.schema,
            "quality": self.quality,
            "sample": self.records[:3],
            "method": self.method,
        }

    def rows(self) -> list[dict[str, Any]]:
        return list(self.records)

    def summary(self) -> str:
        return f"{len(self.records)} records of {self.description} in {self.path}\n" + quality.render(self.quality)


class SyntheticTask(Task):
    name = "synthetic"
    description = (
        "synthetic records from a description: schema-valid, varied, deduplicated; jsonl/json/csv/parquet/dataset"
    )
    batch_fields = ("kind",)
    form_hints = {
        "count": "main",
        "format": "main;choices:jsonl,json,csv,parquet,dataset",
        "out": "advanced",
        "schema": "file:.json",
        "examples": "file:.json,.jsonl",
    }
    outputs = ("text",)

    @dataclass
    class Params:
        kind: str = required("what the records are, e.g. 'customer reviews for a coffee shop'")
        count: int = param(20, "how many records to write", ge=1)
        format: Optional[str] = param(
            None, "jsonl | json | csv | parquet | dataset (a datasets folder); default: out's extension, else jsonl"
        )
        out: Optional[str] = param(
            None,
            "the output file; an existing one is continued up to count "
            "(default: records.<format> in the run directory)",
            input=True,
        )
        fields: list = param(
            [], "record shape as name:type pairs, e.g. [name:str,rating:int:1..5,mood:calm|tense]", input=True
        )
        schema: Optional[str] = param(None, "record shape as a JSON Schema file", input=True)
        examples: Optional[str] = param(
            None,
            "example records (.json list or .jsonl): the shape, if no other is given, and rotated few-shot examples",
            input=True,
        )
        hints: dict = param(
            {},
            "per-record variation: attribute -> values, one picked per record by seed, "
            "e.g. 'hints={persona:[student,retiree]}' (none given: a writing style)",
        )
        steer: str = param(
            "first",
            "fields drawn per record by seed (enums, booleans, small int ranges): "
            "first | all | none | names, comma-separated",
        )
        model: str = param(DEFAULT_MODEL, "the chat model that writes the records")
        batch_size: int = param(5, "records asked for per request", ge=1)
        temperatures: list = param([0.7, 0.9, 1.1], "temperature schedule, cycled over batches")
        seed: int = param(0, "seed of the hints, examples and sampling: same seed, same records")
        retries: int = param(2, "repair attempts for a record that does not validate (0: drop it)", ge=0)
        max_batches: Optional[int] = param(
            None, "give up after this many batches (default: 3x what count needs); the shortfall is reported", ge=1
        )
        tokens_per_record: int = param(160, "generation budget per record", ge=1)
        dedup: bool = param(True, "remove near duplicates by embedding similarity (exact ones always)")
        similarity: float = param(0.92, "cosine similarity at or above which a record is a near duplicate", gt=0, le=1)
        dedup_on: list = param([], "fields compared for near duplicates (default: the long free-text ones)")
        embedder: str = param("all-minilm-l6-v2", "sentence-embedding model for dedup and the report")
        embedder_backend: str = param("auto", "backend of the embedding model")
        examples_per_batch: int = param(2, "examples shown per batch (rotated)", ge=0)

    def for_batch(self, params, ctx):
        """``input=kinds.csv`` (a ``kind`` column): one dataset per row, each in its own file named
        after the kind (``records-<kind>.<format>``, or ``<out stem>-<kind>.<ext>``), so rows
        never share a file and a rerun continues each one."""
        fmt = choose_format(params.format, params.out)
        slug = kind_slug(params.kind)
        if params.out:
            given = Path(params.out).expanduser()
            out = given.with_name(f"{given.stem}-{slug}{given.suffix}" if given.suffix else file_name(
                f"{given.name}-{slug}", fmt))  # fmt: skip
        else:
            out = Path(ctx.run_dir or ".") / file_name(f"records-{slug}", fmt)
        return dataclasses.replace(params, out=str(out))

    def run(self, params, ctx):
        check_params(params)
        fmt = choose_format(params.format, params.out)
        path = Path(params.out).expanduser() if params.out else Path(ctx.run_dir or ".") / file_name("records", fmt)
        examples = load_examples(params.examples) if params.examples else []
        meta = read_meta(path) if path.exists() else None
        schema = given_schema(params, examples)
        if schema is None and meta is not None:
            schema = meta["schema"]
        if schema is not None:
            check_writable(fmt, schema)
            steered_fields(params.steer, schema)
            compared_fields(params.dedup_on, schema)
        if meta is not None and schema != meta["schema"]:
            raise ConfigError(
                f"out='{path}' holds records of another shape: use a new out=, or the same "
                f"fields=/schema= as before (the shape is in {path.name}.meta.json)"
            )
        existing = read_existing(path, fmt, schema, meta) if path.exists() else []
        if schema is None and existing:
            schema = infer_schema(existing)

        backend, constrained = None, False
        if schema is None or len(existing) < params.count:  # a file already complete needs no chat model
            backend, _ = ctx.model(params.model, needs=[CHAT])
            constrained = CHAT_JSON in backend.capabilities()
        if schema is None:
            schema = proposed(backend, params)
            check_writable(fmt, schema)
        embed = None
        if params.dedup:
            embedder, _ = ctx.model(params.embedder, needs=[EMBED], backend=params.embedder_backend)
            embed = embedder.embed
        dedup = Deduplicator(schema, embed, params.similarity, fields=compared_fields(params.dedup_on, schema))
        dedup.seed(existing)

        records = list(existing)
        batches_before = (meta or {}).get("batches", 0)
        before = dict((meta or {}).get("counts") or {})  # what earlier runs on this file did
        limit = params.max_batches or 3 * math.ceil(max(params.count - len(existing), 1) / params.batch_size)
        counts = dict(
            asked=params.count,
            existing=len(existing),
            generated=0,
            invalid=0,
            repaired=0,
            unparsed_batches=0,
            exact_duplicates=0,
            near_duplicates=0,
        )
        bar = ctx.progress([], total=params.count, desc="synthetic")
        bar.update(min(len(records), params.count))
        batches = 0
        steered = steered_fields(params.steer, schema)
        hints = {str(k): list(v) if isinstance(v, (list, tuple)) else [v] for k, v in dict(params.hints).items()}
        if not params.hints and has_free_text(schema):
            hints = dict(DEFAULT_HINTS)
        t0 = time.perf_counter()
        with ctx.watch.time("generate"):
            while len(records) < params.count and batches < limit:
                plans = [
                    plan_batch(
                        batches_before + batches + k,
                        n,
                        seed=params.seed,
                        temperatures=params.temperatures,
                        schema=schema,
                        hints=hints,
                        examples=examples,
                        examples_per_batch=params.examples_per_batch,
                        steer=steered,
                    )
                    for k, n in enumerate(ahead(params, len(records), limit - batches))
                ]
                answers = ask(
                    backend,
                    plans,
                    params.kind,
                    schema,
                    constrained=constrained,
                    tokens_per_record=params.tokens_per_record,
                )
                for plan, answer in zip(plans, answers):
                    if plan.n != min(params.batch_size, params.count - len(records)):
                        break  # an earlier batch fell short: one at a time, this batch would differ
                    outcome = finish_batch(backend, plan, answer, params.kind, schema, retries=params.retries)
                    batches += 1
                    kept, exact, near = dedup.filter(outcome.records)
                    kept = kept[: params.count - len(records)]
                    records += kept
                    for key, value in (
                        ("generated", outcome.generated),
                        ("invalid", outcome.invalid),
                        ("repaired", outcome.repaired),
                        ("unparsed_batches", int(outcome.unparsed)),
                        ("exact_duplicates", exact),
                        ("near_duplicates", near),
                    ):
                        counts[key] += value
                    write_records(path, records, fmt, schema)
                    write_meta(
                        path,
                        {
                            "description": params.kind,
                            "schema": schema,
                            "batches": batches_before + batches,
                            "seed": params.seed,
                            "counts": added(
                                before,
                                {
                                    **counts,
                                    "batches": batches,
                                    "written": len(records) - len(existing),
                                    "generate_s": time.perf_counter() - t0,
                                },
                            ),
                        },
                    )
                    bar.update(len(kept))
        bar.close()
        if not records:
            write_records(path, records, fmt, schema)
        counts.update(
            batches=batches,
            duplicates_removed=counts["exact_duplicates"] + counts["near_duplicates"],
            written=len(records) - len(existing),
            total=len(records),
            shortfall=max(0, params.count - len(records)),
        )
        vectors = dedup.vectors[: len(records)] if embed is not None else None
        report = quality.report(counts, records, schema, dedup.fields or text_fields(schema), vectors)
        if existing:  # a continued file: what every run on it did, together
            report["all_runs"] = {
                **added(before, {**counts, "generate_s": time.perf_counter() - t0}),
                "total": len(records),
                "shortfall": counts["shortfall"],
            }
        ctx.metrics.update(
            items=counts["written"], batches=batches, generate_s=round(ctx.watch.spans.get("generate", 0.0), 3)
        )
        return SyntheticData(
            records=records,
            schema=schema,
            quality=report,
            path=str(path),
            format=fmt,
            description=params.kind,
            method="already complete"
            if backend is None
            else f"{params.model} on {backend.name}"
            + (", schema-constrained" if constrained else ", validated and repaired"),
        )


def ahead(params, have: int, batches_left: int) -> list[int]:
    """The sizes of the next batches to ask: one at a time, or with a greedy schedule
    (``temperatures=[0]``) as many as the count still needs (up to ``AHEAD``), each sized as
    if those before it filled up."""
    width = AHEAD if params.temperatures and all(float(t) == 0 for t in params.temperatures) else 1
    sizes: list[int] = []
    while len(sizes) < min(width, batches_left) and have < params.count:
        sizes.append(min(params.batch_size, params.count - have))
        have += sizes[-1]
    return sizes


_SUMMED = ("generated", "invalid", "repaired", "unparsed_batches", "exact_duplicates", "near_duplicates")


def added(before: dict, counts: dict) -> dict:
    """The counts of earlier runs on a file plus this run's (batches, records written, and the
    generated/invalid/duplicate counts), for the file's sidecar and the report of a continued run."""
    out: dict[str, Any] = {k: int(before.get(k, 0)) + int(counts.get(k, 0)) for k in (*_SUMMED, "batches")}
    out["written"] = int(before.get("written", 0)) + int(counts.get("written", 0))
    out["generate_s"] = round(float(before.get("generate_s", 0.0)) + float(counts.get("generate_s", 0.0)), 1)
    out["duplicates_removed"] = out["exact_duplicates"] + out["near_duplicates"]
    return out


def kind_slug(kind: str) -> str:
    """A file-name part for a kind: its first words, plus a short hash so kinds never collide."""
    words = re.sub(r"[^a-z0-9]+", "-", str(kind).lower()).strip("-")[:40].strip("-") or "records"
    return f"{words}-{hashlib.sha1(str(kind).encode('utf-8')).hexdigest()[:6]}"


def check_params(params) -> None:
    """Values the config types cannot rule out, each as one line."""
    if not str(params.kind).strip():
        raise InputError("kind= is empty: say what the records are, e.g. kind='support tickets for an ISP'")
    if sum(bool(x) for x in (params.fields, params.schema)) > 1:
        raise ConfigError("give the shape once: fields= or schema=, not both")


def compared_fields(names: list, schema: dict) -> list[str]:
    unknown = [n for n in names if n not in schema.get("properties", {})]
    if unknown:
        raise ConfigError(f"dedup_on: no field '{unknown[0]}'; fields: {', '.join(schema.get('properties', {}))}")
    return [str(n) for n in names]


def steered_fields(steer: str, schema: dict) -> list[str]:
    """The fields named by ``steer=`` (first, all, none, or names), each one that can be steered."""
    able = steerable(schema)
    value = str(steer).strip().lower()
    if value in ("none", "", "false"):
        return []
    if value in ("first", "true"):
        return able[:1]
    if value == "all":
        return able
    names = [n.strip() for n in str(steer).split(",") if n.strip()]
    bad = [n for n in names if n not in able]
    if bad:
        raise ConfigError(
            f"steer={bad[0]}: not a field that can be steered; choices: first, all, none, "
            f"{', '.join(able) or '(no enum, boolean or small int range fields)'}"
        )
    return names


def given_schema(params, examples: list[dict]) -> Optional[dict]:
    """The shape the user gave (fields=, schema=, or the examples'), or None."""
    if params.schema:
        schema = load_schema(params.schema)
    elif params.fields:
        specs = params.fields if isinstance(params.fields, (list, tuple)) else str(params.fields).split(",")
        schema = schema_from_fields([parse_field(s) for s in specs])
    elif examples:
        return infer_schema(examples)
    else:
        return None
    for i, example in enumerate(examples, 1):
        problem = validate(example, schema)
        if problem:
            raise InputError(f"example {i} in '{params.examples}' does not fit the shape: {problem}")
    return schema


def read_existing(path: Path, fmt: str, schema: Optional[dict], meta: Optional[dict]) -> list[dict]:
    """Records already in ``out=`` (a run being continued); each must fit the shape."""
    records = read_records(path, fmt, schema)
    if schema is not None:
        for i, r in enumerate(records, 1):
            problem = validate(r, schema)
            if problem:
                raise InputError(
                    f"out='{path}' record {i} does not fit the shape ({problem}): "
                    "use a new out= or the shape it was written with"
                )
    return records


def proposed(backend, params) -> dict:
    try:
        return propose_schema(backend, params.kind, retries=params.retries, seed=params.seed)
    except StructuredOutputError as exc:
        raise TaskdeckError(
            f"the model '{params.model}' could not propose fields for '{params.kind}' ({exc}); "
            "give them, e.g. fields=[name:str,rating:int:1..5]"
        ) from None


@hookimpl
def register_tasks(register):
    register(SyntheticTask)
