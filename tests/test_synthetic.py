"""task=synthetic: shapes, writers, dedup with real embeddings, and real runs on the embedded models."""

from __future__ import annotations

import json

import pytest
from conftest import cli

from taskdeck import ConfigError, InputError
from taskdeck.helpers.structured import validate
from taskdeck.plugins.tasks.synthetic.dedup import Deduplicator, long_text_fields, record_key
from taskdeck.plugins.tasks.synthetic.generate import BatchPlan, batch_schema, generate_batch, plan_batch, steerable
from taskdeck.plugins.tasks.synthetic.quality import distinct_ngrams, enum_distribution, mean_pairwise_distance
from taskdeck.plugins.tasks.synthetic.shape import infer_schema, load_schema, parse_field, schema_from_fields
from taskdeck.plugins.tasks.synthetic.writers import (
    check_writable,
    choose_format,
    file_name,
    read_records,
    write_records,
)

FAST = ("model=smollm2-135m", "backend.threads=1")  # plumbing: valid JSON by grammar, any content
LIGHT = ("model=qwen2.5-coder-0.5b", "backend.threads=1")  # real records
REVIEW_FIELDS = "fields=[customer:str,rating:int:1..5,mood:happy|neutral|upset,review:str:one or two sentences]"


def _written(record):
    res = record["result"]
    return read_records(res["path"], res["format"], res["schema"]), res


# ---- the shape ----
def test_field_shorthand_and_dicts():
    f = parse_field("rating:int:1..5:stars given")
    assert (f.name, f.type, f.minimum, f.maximum, f.description) == ("rating", "integer", 1, 5, "stars given")
    f = parse_field("mood:calm|tense|angry:how they felt")
    assert f.type == "enum" and f.values == ["calm", "tense", "angry"] and f.description == "how they felt"
    assert parse_field("status:enum:open|closed").values == ["open", "closed"]
    assert (
        parse_field("title").type == "string"
        and parse_field("text:str:the text: verbatim").description == "the text: verbatim"
    )
    assert parse_field({"name": "price", "type": "float", "min": 0.5, "max": 9}).schema() == {
        "type": "number",
        "minimum": 0.5,
        "maximum": 9,
    }
    schema = schema_from_fields([parse_field(s) for s in ("when:date", "who:email", "tags:list", "ok:bool")])
    assert validate({"when": "2024-05-01", "who": "a@b.io", "tags": ["x"], "ok": True}, schema) is None
    assert validate({"when": "May 1", "who": "a@b.io", "tags": ["x"], "ok": True}, schema)
    assert validate({"when": "2024-05-01", "who": "a@b.io", "tags": ["x"], "ok": True, "extra": 1}, schema)


@pytest.mark.parametrize(
    "spec, message",
    [
        ("rating:integr", "unknown field type 'integr'"),
        ("mood:enum:one", "two or more values"),
        ("bad name:str", "letters, digits and _"),
        ("n:int:9..1", "low end is above"),
    ],
)
def test_bad_fields_are_one_line(spec, message):
    with pytest.raises(InputError, match=message) as err:
        parse_field(spec)
    assert "\n" not in str(err.value)


def test_schema_file_checked(tmp_path):
    bad_json = tmp_path / "a.json"
    bad_json.write_text("{not json")
    with pytest.raises(InputError, match="not valid JSON"):
        load_schema(str(bad_json))
    bad_schema = tmp_path / "b.json"
    bad_schema.write_text(json.dumps({"type": "object", "properties": {"x": {"type": "strng"}}}))
    with pytest.raises(InputError, match="not a valid JSON Schema at properties/x/type"):
        load_schema(str(bad_schema))
    not_record = tmp_path / "c.json"
    not_record.write_text(json.dumps({"type": "array"}))
    with pytest.raises(InputError, match="must describe one record"):
        load_schema(str(not_record))


def test_shape_inferred_from_examples():
    schema = infer_schema(
        [
            {"name": "A", "n": 1, "p": 2.5, "ok": True, "on": "2024-01-02"},
            {"name": "B", "n": 3, "p": 1, "ok": False, "on": "2023-11-30", "note": "x"},
        ]
    )
    props = schema["properties"]
    assert [props[k]["type"] for k in ("name", "n", "p", "ok", "on")] == [
        "string",
        "integer",
        "number",
        "boolean",
        "string",
    ] and "pattern" in props["on"]
    assert schema["required"] == ["name", "n", "p", "ok", "on"]


# ---- diversity plan ----
def test_batch_plan_is_seeded_and_pins_steered_fields():
    schema = schema_from_fields([parse_field(s) for s in ("r:int:1..5", "m:a|b|c", "t:str")])
    assert steerable(schema) == ["r", "m"]
    args = dict(
        temperatures=[0.5, 1.0],
        schema=schema,
        hints={"persona": ["x", "y", "z"]},
        examples=[{"t": 1}, {"t": 2}],
        examples_per_batch=1,
        steer=["m"],
    )
    a, b, c = plan_batch(3, 4, seed=7, **args), plan_batch(3, 4, seed=7, **args), plan_batch(4, 4, seed=7, **args)
    assert a == b and a.hints != c.hints and (a.temperature, c.temperature) == (1.0, 0.5)
    assert a.examples != c.examples and all(set(h) == {"persona", "m"} for h in a.hints)
    items = batch_schema(schema, a)["properties"]["records"]["prefixItems"]
    assert [it["properties"]["m"] for it in items] == [{"enum": [h["m"]]} for h in a.hints]
    assert items[0]["properties"]["r"] == schema["properties"]["r"]
    # the pinned field is decoded first, so the free text after it follows it
    assert all(list(it["properties"]) == ["m", "r", "t"] and it["required"] == ["m", "r", "t"] for it in items)


class ScriptedChat:
    """Answers chat calls from a script: the validate/repair/drop accounting made deterministic
    (a real model under constrained decoding never writes an invalid record)."""

    name = "scripted"

    def __init__(self, *answers):
        self.answers, self.calls = list(answers), []

    def capabilities(self):
        return {"chat"}

    def chat(self, messages, **options):
        from taskdeck import Completion

        self.calls.append(messages)
        return Completion(text=self.answers.pop(0))


def test_invalid_records_are_repaired_within_bounds_or_dropped_and_counted():
    schema = schema_from_fields([parse_field(s) for s in ("name:str", "stars:int:1..5")])
    plan = BatchPlan(index=0, n=4, seed=1, temperature=0.7)
    answer = json.dumps(
        {
            "records": [
                {"stars": 4, "name": "Ann"},
                {"name": "Bo", "stars": 9},
                "not a record",
                {"name": "Cy", "stars": 2, "extra": True},
            ]
        }
    )
    chat = ScriptedChat(
        answer,
        '{"name": "Bo", "stars": 5}',  # Bo repaired at once
        "no idea",
        '```json\n{"name": "x"}\n```',  # the string: twice wrong
        '{"name": "Cy", "stars": 7}',
        '{"name": "Cy", "stars": 2}',
    )  # Cy: right on the 2nd try
    out = generate_batch(chat, plan, "reviews", schema, constrained=False, tokens_per_record=50, retries=2)
    assert out.records == [{"name": "Ann", "stars": 4}, {"name": "Bo", "stars": 5}, {"name": "Cy", "stars": 2}]
    assert list(out.records[0]) == ["name", "stars"]  # back in the schema's order
    assert (out.generated, out.repaired, out.invalid, out.unparsed) == (4, 2, 1, False)
    assert len(chat.calls) == 6 and not chat.answers  # 1 batch + at most 2 asks per invalid record
    assert "stars: 9 is greater than the maximum of 5" in chat.calls[1][-1]["content"]
    dropped = generate_batch(
        ScriptedChat(answer), plan, "reviews", schema, constrained=False, tokens_per_record=50, retries=0
    )
    assert (dropped.generated, dropped.repaired, dropped.invalid) == (4, 0, 3) and len(dropped.records) == 1
    broken = generate_batch(
        ScriptedChat('{"records": [{"name": "A'),
        plan,
        "reviews",
        schema,
        constrained=False,
        tokens_per_record=50,
        retries=2,
    )
    assert broken.unparsed and broken.records == [] and broken.generated == 0


def test_a_proposal_needs_three_distinct_fields():
    from taskdeck.helpers.structured import StructuredOutputError
    from taskdeck.plugins.tasks.synthetic.shape import propose_schema

    def proposal(*names):
        return json.dumps(
            {
                "fields": [
                    {
                        "name": n,
                        "type": "enum" if n == "mood" else "string",
                        "description": "",
                        "values": ["calm", "tense"] if n == "mood" else [],
                        "range": [],
                    }
                    for n in names
                ]
            }
        )

    chat = ScriptedChat(proposal("ticket", "ticket", "Ticket"), proposal("subject", "body", "subject", "mood"))
    schema = propose_schema(chat, "support tickets", retries=1)
    assert list(schema["properties"]) == ["subject", "body", "mood"] and schema["properties"]["mood"]["enum"]
    with pytest.raises(StructuredOutputError, match="named 1 distinct field"):
        propose_schema(ScriptedChat(*[proposal("a", "a", "a")] * 2), "things", retries=1)


# ---- writers ----
ROWS = [
    {"name": 'Ann, "the" baker', "n": 3, "p": 2.5, "ok": True, "m": "a"},
    {"name": "Bo\nnewline", "n": -1, "p": 10.0, "ok": False, "m": "b"},
]
FLAT = schema_from_fields([parse_field(s) for s in ("name:str", "n:int", "p:float", "ok:bool", "m:a|b")])


@pytest.mark.parametrize("fmt", ["json", "jsonl", "csv", "parquet", "dataset"])
def test_formats_round_trip(tmp_path, fmt):
    path = write_records(tmp_path / file_name("r", fmt), ROWS, fmt, FLAT)
    back = read_records(path, fmt, FLAT)
    assert back == ROWS and all(validate(r, FLAT) is None for r in back)
    write_records(path, ROWS[:1], fmt, FLAT)  # rewritten in place, nothing left beside it
    assert read_records(path, fmt, FLAT) == ROWS[:1] and sorted(p.name for p in tmp_path.iterdir()) == [path.name]


def test_parquet_and_datasets_folders_are_what_their_libraries_read(tmp_path):
    import datasets
    import pyarrow.parquet as pq

    nested = [{"name": "a", "tags": ["x", "y"]}, {"name": "b", "tags": []}]
    assert pq.read_table(write_records(tmp_path / "r.parquet", nested, "parquet", {})).to_pylist() == nested
    assert datasets.load_from_disk(str(write_records(tmp_path / "r", nested, "dataset", {}))).to_list() == nested


def test_csv_refuses_nested_shapes_and_formats_must_agree():
    nested = {"type": "object", "properties": {"a": {"type": "string"}, "addr": {"type": "object"}}}
    with pytest.raises(ConfigError, match="format=csv cannot hold field 'addr'"):
        check_writable("csv", nested)
    check_writable("jsonl", nested)
    assert choose_format(None, "x.csv") == "csv" and choose_format(None, None) == "jsonl"
    with pytest.raises(ConfigError, match="make them agree"):
        choose_format("json", "x.csv")
    with pytest.raises(ConfigError, match="choices: jsonl, json, csv"):
        choose_format("xml", None)


# ---- quality measures ----
def test_quality_measures():
    assert distinct_ngrams(["a b a b"], 1) == 0.5 and distinct_ngrams(["a b a b"], 2) == 2 / 3
    assert mean_pairwise_distance([[1, 0], [0, 1], [1, 0]]) == pytest.approx(2 / 3)
    assert mean_pairwise_distance([[1, 0]]) is None
    assert enum_distribution(ROWS + ROWS[:1], FLAT) == {"ok": {"true": 2, "false": 1}, "m": {"a": 2, "b": 1}}


# ---- real embeddings ----
@pytest.fixture(scope="module")
def minilm(session, one_torch_thread):
    from taskdeck import EMBED, BackendParams
    from taskdeck.engine.session_context import SessionContext

    ctx = SessionContext(session, BackendParams(threads=1))
    backend, _ = ctx.model("all-minilm-l6-v2", needs=[EMBED])
    yield backend
    ctx.close()


def test_embed_matches_sentence_transformers(session, minilm):
    import numpy as np
    from sentence_transformers import SentenceTransformer

    texts = ["The espresso was bitter.", "Great staff, slow wifi, lovely cake!", "x " * 600, ""]
    ours = np.array(minilm.embed(texts))
    st = SentenceTransformer(str(session.packs.get("all-minilm-l6-v2").path()), device="cpu").encode(texts)
    assert ours.shape == (4, 384) and np.abs(ours - st).max() < 1e-4
    assert np.allclose(np.linalg.norm(ours, axis=1), 1.0, atol=1e-5)


def test_planted_near_duplicates_are_removed(minilm):
    schema = schema_from_fields([parse_field(s) for s in ("customer:str", "stars:int:1..5", "review:str")])
    originals = [
        {"customer": "Ana", "stars": 5, "review": "The oat latte was creamy and the barista remembered my name."},
        {
            "customer": "Ben",
            "stars": 2,
            "review": "Waited twenty minutes for a lukewarm americano; the tables were sticky.",
        },
        {
            "customer": "Cy",
            "stars": 4,
            "review": "Quiet corner seats and fast wifi make it my favourite place to work.",
        },
    ]
    planted = [
        {"customer": "Dee", "stars": 5, "review": "The oat latte was creamy, and the barista remembered my name!"},
        {
            "customer": "Eli",
            "stars": 2,
            "review": "I waited twenty minutes for a lukewarm americano and the tables were sticky.",
        },
        {"customer": "ana", "stars": 5, "review": "the oat latte was creamy and the  barista remembered my name."},
    ]
    fresh = {"customer": "Fay", "stars": 3, "review": "Decent croissants, but the music was far too loud for a chat."}
    assert long_text_fields(schema, originals) == ["review"]
    dedup = Deduplicator(schema, minilm.embed, threshold=0.92)
    kept, exact, near = dedup.filter(originals)
    assert kept == originals and (exact, near) == (0, 0)
    kept, exact, near = dedup.filter([planted[0], fresh, planted[1], planted[2]])
    assert kept == [fresh] and exact == 1 and near == 2
    assert record_key(planted[2]) == record_key(originals[0])
    assert len(dedup.vectors) == 4  # kept records only, reused by the quality report


# ---- real runs ----
def test_generates_valid_records_with_a_quality_report(run_in_process):
    record, result, run_dir, out = run_in_process(
        "task=synthetic", "kind='customer reviews for a coffee shop'", REVIEW_FIELDS, "count=4", "batch_size=2", *LIGHT
    )
    assert record["status"] == "ok"
    records, res = _written(record)
    q = res["quality"]
    assert all(validate(r, res["schema"]) is None for r in records)
    assert len(records) == 4 - q["shortfall"] and q["written"] == len(records)
    if q["shortfall"]:
        assert "shortfall" in out
    assert q["written"] <= q["generated"] - q["invalid"] - q["duplicates_removed"]
    assert sum(q["enum_distribution"]["mood"].values()) == len(records)
    assert 0 < q["distinct_1"] <= 1 and q["mean_pairwise_embedding_distance"] is not None
    assert f"asked 4 · generated {q['generated']}" in out and "mood:" in out
    assert res["schema"]["properties"]["rating"] == {"type": "integer", "minimum": 1, "maximum": 5}
    assert record["models"][0]["backend"] == "llama_cpp" and record["models"][1]["capability"] == "embed"


def test_same_seed_same_records_and_resume_continues(run_in_process, tmp_path):
    out = tmp_path / "data.jsonl"
    args = (
        "task=synthetic",
        "kind='support tickets for an internet provider'",
        "fields=[subject:str,urgency:low|high]",
        "batch_size=2",
        "dedup=false",
        "seed=3",
        *FAST,
    )
    first = run_in_process(*args, "count=2", f"out={out}")[0]
    again = run_in_process(*args, "count=2", f"out={tmp_path / 'again.jsonl'}")[0]
    assert _written(first)[0] == _written(again)[0]
    before = _written(first)[0]
    resumed = run_in_process(*args, "count=4", f"out={out}")[0]
    records, res = _written(resumed)
    assert res["quality"]["existing"] == len(before) and records[: len(before)] == before
    assert len(records) == 4 - res["quality"]["shortfall"]
    meta = json.loads((tmp_path / "data.jsonl.meta.json").read_text())
    assert meta["batches"] == first["result"]["quality"]["batches"] + res["quality"]["batches"]
    with pytest.raises(ConfigError, match="another shape"):
        run_in_process(*args[:2], "fields=[subject:str]", "count=5", f"out={out}", *FAST)


def test_shape_from_examples_or_proposed_by_the_model_then_held(run_in_process, tmp_path):
    examples = tmp_path / "ex.jsonl"
    examples.write_text(
        '{"city": "Lyon", "population": 520000, "coastal": false}\n'
        '{"city": "Porto", "population": 230000, "coastal": true}\n'
    )
    record = run_in_process(
        "task=synthetic",
        "kind='European cities'",
        f"examples={examples}",
        "count=2",
        "batch_size=2",
        "dedup=false",
        *FAST,
    )[0]
    records, res = _written(record)
    assert set(res["schema"]["properties"]) == {"city", "population", "coastal"}
    assert records and all(validate(r, res["schema"]) is None for r in records)

    out = tmp_path / "proposed.jsonl"
    args = (
        "task=synthetic",
        "kind='support tickets for an internet provider'",
        "batch_size=1",
        "dedup=false",
        f"out={out}",
        *LIGHT,
    )  # SmolLM2 cannot design fields (it repeats one name)
    first = run_in_process(*args, "count=1")[0]
    records, res = _written(first)
    assert 3 <= len(res["schema"]["properties"]) <= 8 and all(validate(r, res["schema"]) is None for r in records)
    assert json.loads((tmp_path / "proposed.jsonl.meta.json").read_text())["schema"] == res["schema"]
    more = run_in_process(*args, "count=2")[0]  # continued: the proposed shape is held, not asked for again
    assert more["result"]["schema"] == res["schema"] and more["result"]["quality"]["existing"] == len(records)
    assert (
        more["result"]["quality"]["all_runs"]["batches"]
        == res["quality"]["batches"] + more["result"]["quality"]["batches"]
    )


def test_batch_of_kinds_writes_one_file_each(run_in_process, tmp_path):
    kinds = tmp_path / "kinds.csv"
    kinds.write_text("kind\nbook titles\nhiking trails\n")
    record = run_in_process(
        "task=synthetic", f"input={kinds}", "fields=[name:str,rating:int:1..5]", "count=1", "dedup=false", *FAST
    )[0]
    assert record["status"] == "ok" and record["result"]["ok"] == 2
    rows = [json.loads(ln) for ln in open(record["result"]["results"])]
    paths = [json.loads(r["path"]) if r["path"].startswith('"') else r["path"] for r in rows]
    assert len(set(paths)) == 2 and all("records-" in p for p in paths)
    assert all(read_records(p, "jsonl") for p in paths)


@pytest.mark.parametrize("fmt", ["csv", "json", "parquet", "dataset"])
def test_written_files_round_trip(run_in_process, fmt):
    record = run_in_process(
        "task=synthetic", "preset=transactions", "count=2", "batch_size=2", f"format={fmt}", "dedup=false", *FAST
    )[0]
    records, res = _written(record)
    assert res["path"].endswith("/" + file_name("records", fmt)) and records
    assert all(validate(r, res["schema"]) is None for r in records)
    assert records[: len(res["sample"])] == res["sample"]  # typed back from CSV cells


# ---- presets and bad input through the command line ----
def test_every_preset_composes_and_parses(session, compose):
    from omegaconf import OmegaConf

    from taskdeck.engine.config import preset_names

    names = preset_names(session, "preset")
    assert {"reviews", "products", "customers", "jobs", "tickets", "transactions"} <= set(names)
    for name in names:
        cfg = compose(["task=synthetic", f"preset={name}", "count=50"])
        assert cfg.task == "synthetic" and cfg.count == 50 and cfg.kind != "???"
        schema_from_fields([parse_field(f) for f in OmegaConf.to_container(cfg.fields)])
    assert compose(["preset=reviews"]).task == "synthetic"


@pytest.mark.parametrize(
    "args, message",
    [
        (["schema={bad}"], "is not a valid JSON Schema at properties/x/type"),
        (["fields=[a:str,b:whatever]"], "unknown field type 'whatever'"),
        (["fields=[a:str]", "count=0"], "count=0 is out of range: give an integer >= 1"),
        (["schema={nested}", "format=csv"], "format=csv cannot hold field 'address'"),
        (["preset=revews"], "unknown preset 'revews' (did you mean 'reviews'?); choices: customers"),
    ],
)
def test_bad_input_is_one_line(tmp_path, args, message):
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"type": "object", "properties": {"x": {"type": "strng"}}}))
    nested = tmp_path / "nested.json"
    nested.write_text(
        json.dumps(
            {
                "type": "object",
                "properties": {
                    "name": {"type": "string"},
                    "address": {"type": "object", "properties": {"city": {"type": "string"}}},
                },
            }
        )
    )
    args = [a.format(bad=bad, nested=nested) for a in args]
    proc = cli("task=synthetic", "kind=things", *args, tmp_path=tmp_path)
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and message in lines[0], proc.stderr


# ---- the same task through an OpenAI-compatible server (transformers serve, SmolLM2) ----
def test_same_task_through_backend_openai(run_in_process, openai_server):
    base_url, model = openai_server
    record, result, run_dir, out = run_in_process(
        "task=synthetic",
        "kind='customer reviews for a coffee shop'",
        REVIEW_FIELDS,
        "count=2",
        "batch_size=2",
        "max_batches=2",
        "retries=1",
        "backend=openai",
        f"backend.base_url={base_url}",
        f"model={model}",
    )
    assert record["status"] == "ok"
    records, res = _written(record)
    q = res["quality"]
    assert all(validate(r, res["schema"]) is None for r in records)
    assert len(records) == 2 - q["shortfall"] and q["batches"] <= 2
    assert (q["shortfall"] > 0) == ("shortfall" in out)
    used = {m["backend"]: m for m in record["models"]}
    assert used["openai"]["requests"] >= q["batches"] and used["numpy"]["capability"] == "embed"
