"""Batch mode: input files, length-sorted batches in input order, errors per row, resume."""

import csv
import json
import subprocess

import pytest
from conftest import cli

TEXTS = [
    "I love it, fantastic!",
    "Awful.",
    "",
    "It arrived on Tuesday and works as described, nothing more.",
    "Not bad",
    "Worst purchase ever, broke after one day and support never answered.",
]


@pytest.fixture
def reviews_csv(tmp_path):
    path = tmp_path / "reviews.csv"
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["id", "review"])
        for i, t in enumerate(TEXTS):
            w.writerow([i, t])
    return path


def test_batch_classifier_matches_single_runs_in_input_order(run_in_process, reviews_csv, tiny_classifier, tmp_path):
    record, result, run_dir, out = run_in_process(
        "task=sentiment",
        f"input={reviews_csv}",
        "column=review",
        f"model={tiny_classifier}",
        "backend.batch_size=2",
        "backend=transformers",
    )
    assert record["status"] == "ok"
    rows = [json.loads(ln) for ln in (run_dir / "results.jsonl").read_text().splitlines()]
    assert [r["index"] for r in rows] == list(range(len(TEXTS)))
    assert [r["text"] for r in rows] == TEXTS
    assert rows[2]["error"].startswith("text= is empty") and all(not r["error"] for i, r in enumerate(rows) if i != 2)
    assert result.ok == 5 and result.failed == 1 and "5 ok, 1 failed" in out
    assert json.loads((run_dir / "result.json").read_text())["metrics"]["items"] == len(TEXTS)
    with open(run_dir / "results.csv") as f:
        table = list(csv.DictReader(f))
    assert [t["text"] for t in table] == TEXTS and "error" in table[0]
    for i in (0, 3, 5):  # the same scores as one-by-one runs, despite sorting and padding
        _, single, _, _ = run_in_process("task=sentiment", f"text={TEXTS[i]!r}", f"model={tiny_classifier}")
        assert rows[i]["label"] == single.top.label
        assert rows[i]["score"] == pytest.approx(single.top.score, abs=1e-5)


def test_resume_skips_finished_rows(run_in_process, reviews_csv, tiny_classifier, tmp_path):
    results = tmp_path / "mine.jsonl"
    args = ("task=sentiment", f"input={reviews_csv}", "column=review", f"model={tiny_classifier}", f"results={results}")
    run_in_process(*args)
    lines = results.read_text().splitlines()
    results.write_text("\n".join(lines[:3]) + '\n{"index": 4, "te')  # interrupted mid-line
    record, result, _, _ = run_in_process(*args)
    assert record["metrics"]["skipped"] == 2  # rows 0 and 1; row 2 failed before and is retried
    assert result.skipped == 2 and result.total == len(TEXTS)
    final = [json.loads(ln) for ln in results.read_text().splitlines()]
    assert [r["index"] for r in final] == list(range(len(TEXTS)))


def test_txt_and_jsonl_inputs_with_the_chat_fallback(run_in_process, tmp_path):
    txt = tmp_path / "lines.txt"
    txt.write_text("I adore this café\n\nThis is a disaster\n")
    _, result, run_dir, _ = run_in_process("task=sentiment", f"input={txt}")
    rows = [json.loads(ln) for ln in (run_dir / "results.jsonl").read_text().splitlines()]
    assert [r["label"] for r in rows] == ["positive", "negative"]
    jsonl = tmp_path / "qa.jsonl"
    jsonl.write_text(json.dumps({"prompt": "Reply with the word yes."}) + "\n")
    _, result, run_dir, _ = run_in_process(
        "task=chat", f"input={jsonl}", "max_new_tokens=4", "temperature=0", "model=smollm2-135m"
    )
    assert result.ok == 1


def test_results_of_another_input_are_not_resumed(run_in_process, reviews_csv, tiny_classifier, tmp_path):
    results = tmp_path / "shared.jsonl"
    run_in_process(
        "task=sentiment", f"input={reviews_csv}", "column=review", f"model={tiny_classifier}", f"results={results}"
    )
    other = tmp_path / "other.txt"
    other.write_text("something else entirely\n")
    from taskdeck.errors import InputError

    with pytest.raises(InputError, match="holds results of other inputs"):
        run_in_process("task=sentiment", f"input={other}", f"model={tiny_classifier}", f"results={results}")


def test_missing_column_is_one_line(reviews_csv, tmp_path):
    proc = cli("task=sentiment", f"input={reviews_csv}", tmp_path=tmp_path)
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1
    assert "has no column 'text' (columns: id, review): add column=<name>" in proc.stderr


def test_missing_input_file_is_one_line(tmp_path):
    proc = cli("task=sentiment", f"input={tmp_path / 'nope.csv'}", tmp_path=tmp_path)
    assert proc.returncode == 2 and "does not exist" in proc.stderr


def test_batch_keeps_outputs_named_like_inputs(run_in_process, tmp_path):
    """A translation's result field `text` is its output: kept as output_text, not dropped."""
    txt = tmp_path / "rows.txt"
    txt.write_text("Good morning, how are you?\n")
    _, result, run_dir, _ = run_in_process("task=translation", f"input={txt}", "target=French", "backend.threads=1")
    row = json.loads((run_dir / "results.jsonl").read_text())
    assert row["text"] == "Good morning, how are you?"
    assert "bonjour" in row["output_text"].lower()


def test_resuming_a_complete_batch_runs_nothing_and_exits_cleanly(reviews_csv, tiny_classifier, tmp_path):
    """The second run of a finished batch (every row done) had no rows to run: it crashed with
    IndexError on the first row; now it reports the rows as done, on both paths."""
    for model in (str(tiny_classifier), "smollm2-135m"):
        results = tmp_path / f"done-{len(model)}.jsonl"
        args = (
            "task=sentiment",
            f"input={reviews_csv}",
            "column=review",
            f"model={model}",
            f"results={results}",
            "quiet=true",
        )
        first = cli(*args, tmp_path=tmp_path / "a")
        assert first.returncode == 0, first.stderr
        rows = results.read_text()
        results.write_text("".join(ln + "\n" for ln in rows.splitlines() if '"index": 2,' not in ln))
        again = cli(*args, tmp_path=tmp_path / "b")  # row 2 (the empty text) failed: it is retried
        assert again.returncode == 0, again.stderr
        done = cli(*args, tmp_path=tmp_path / "c")
        assert done.returncode == 0, done.stderr
        assert "6 rows: 5 ok, 1 failed, 5 already done" in done.stdout
        assert results.read_text() == rows  # the same records, in input order


def test_one_row_that_breaks_a_forward_batch_fails_alone(run_in_process, tiny_classifier, tmp_path):
    """A text longer than the classifier's 512 positions makes the pipeline raise for its whole
    forward batch; the chunk is retried row by row, so only that row fails."""
    path = tmp_path / "long.csv"
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["text"])
        for t in ["fine", "word " * 2000, "also fine", "good"]:
            w.writerow([t])
    record, result, run_dir, _ = run_in_process(
        "task=sentiment", f"input={path}", f"model={tiny_classifier}", "backend=transformers", "backend.batch_size=4"
    )
    rows = [json.loads(ln) for ln in (run_dir / "results.jsonl").read_text().splitlines()]
    assert [bool(r["error"]) for r in rows] == [False, True, False, False]
    assert result.ok == 3 and result.failed == 1


def test_rows_stream_through_a_bounded_window(session, tiny_classifier):
    """run_batch pulls rows a window at a time (it never reads the whole input first) and
    sorts within the window; an empty batch loads no model."""
    from taskdeck.engine.session_context import SessionContext
    from taskdeck.plugins.backends.hf_transformers import TransformersParams

    task_cls = session.tasks.get("sentiment")
    task = task_cls()
    task.sort_window, task.chunk_size = 4, 2
    pulled = []

    def rows():
        for i in range(10):
            pulled.append(i)
            yield i, task_cls.Params(text="x" * (10 - i), model=str(tiny_classifier))

    ctx = SessionContext(session, TransformersParams(), quiet=True)
    try:
        assert list(task.run_batch(iter(()), ctx)) == [] and not ctx.models_used
        order = []
        for i, _ in task.run_batch(rows(), ctx):
            order.append(i)
            assert len(pulled) <= (i // 4 + 1) * 4  # never more than the current window read ahead
    finally:
        ctx.close()
    assert sorted(order) == list(range(10)) and order[:4] == [3, 2, 1, 0]  # shortest first in its window


def test_results_are_put_in_order_in_bounded_runs(tmp_path, monkeypatch):
    """The results file of several interrupted runs: one record per row, in input order, the
    last good try winning, sorted through runs of at most SORT_RUN records on disk."""
    from taskdeck.engine import batch

    monkeypatch.setattr(batch, "SORT_RUN", 3)
    out = tmp_path / "results.jsonl"
    tries = [(4, ""), (1, "boom"), (0, ""), (3, ""), (1, ""), (2, "bad"), (5, ""), (2, "worse"), (4, "")]
    out.write_text(
        "".join(
            json.dumps({"index": i, "text": f"t{i}", "try": n, "error": e}) + "\n" for n, (i, e) in enumerate(tries)
        )
        + '{"index": 9, "te'
    )
    batch.put_in_order(out)
    final = [json.loads(ln) for ln in out.read_text().splitlines()]
    assert [r["index"] for r in final] == [0, 1, 2, 3, 4, 5]
    assert [r["try"] for r in final] == [2, 4, 7, 3, 8, 6]  # row 1: the good retry; row 2: the last error
    with open(out.with_suffix(".csv")) as f:
        assert [r["index"] for r in csv.DictReader(f)] == ["0", "1", "2", "3", "4", "5"]


def test_result_json_holds_counts_not_records(run_in_process, reviews_csv, tiny_classifier):
    record, _, run_dir, _ = run_in_process(
        "task=sentiment", f"input={reviews_csv}", "column=review", f"model={tiny_classifier}"
    )
    saved = json.loads((run_dir / "result.json").read_text())
    assert saved["result"] == {
        "kind": "batch",
        "task": "sentiment",
        "total": 6,
        "ok": 5,
        "failed": 1,
        "skipped": 0,
        "results": str(run_dir / "results.jsonl"),
        "table": str(run_dir / "results.csv"),
        "totals": {},  # sentiment sums nothing; tokenize sums its tokens
    }


def test_parquet_and_datasets_folders_are_batch_inputs(run_in_process, reviews_csv, tiny_classifier, tmp_path):
    """The same rows from a CSV, a Parquet file and a datasets folder (a DatasetDict's split)
    give the same results; a folder of several splits asks for split=."""
    import datasets
    import pyarrow as pa
    import pyarrow.parquet as pq

    rows = [{"id": i, "review": t} for i, t in enumerate(TEXTS)]
    parquet = tmp_path / "reviews.parquet"
    pq.write_table(pa.Table.from_pylist(rows), parquet, row_group_size=2)  # several row groups
    folder = tmp_path / "reviews_ds"
    datasets.DatasetDict(
        {"train": datasets.Dataset.from_list(rows[:2]), "test": datasets.Dataset.from_list(rows)}
    ).save_to_disk(str(folder))
    common = ("task=sentiment", "column=review", f"model={tiny_classifier}")

    def labels(*args):
        record, result, run_dir, _ = run_in_process(*common, *args)
        found = [json.loads(ln) for ln in (run_dir / "results.jsonl").read_text().splitlines()]
        return [(r["index"], r["text"], r.get("label"), r["error"]) for r in found], result

    expected, _ = labels(f"input={reviews_csv}")
    from_parquet, result = labels(f"input={parquet}")
    assert from_parquet == expected and result.total == len(TEXTS)
    from_split, result = labels(f"input={folder}", "split=test")
    assert from_split == expected
    proc = cli(*common, f"input={folder}", tmp_path=tmp_path)
    assert proc.returncode == 2 and "holds the splits train, test: add split=<one of them>" in proc.stderr
    for fmt in ("parquet", "dataset"):  # the ordered table as Parquet or a datasets folder
        record, result, run_dir, _ = run_in_process(*common, f"input={parquet}", f"table={fmt}")
        found = [json.loads(ln) for ln in (run_dir / "results.jsonl").read_text().splitlines()]
        table = (
            pq.read_table(run_dir / "results.parquet").to_pylist()
            if fmt == "parquet"
            else datasets.load_from_disk(str(run_dir / "results")).to_list()
        )
        assert result.table == str(run_dir / ("results.parquet" if fmt == "parquet" else "results"))
        assert [(r["index"], r["text"], r["error"]) for r in table] == [
            (r["index"], r["text"], r["error"]) for r in found
        ]
    proc = cli(*common, f"input={reviews_csv}", "split=test", tmp_path=tmp_path)
    assert proc.returncode == 2 and "has none: drop split=" in proc.stderr


CARD = """---
dataset_info:
  features:
  - name: id
    dtype: int64
  - name: review
    dtype: string
  splits:
  - name: train
    num_bytes: 100
    num_examples: 2
  - name: test
    num_bytes: 300
    num_examples: 6
---
# Reviews
"""


def test_a_hub_dataset_is_streamed_as_batch_input(run_in_process, reviews_csv, tiny_classifier, tmp_path):
    """``input=org/name split=…`` streams a Hub dataset's Parquet files (a Hub on loopback): the
    same results as the CSV, nothing in the datasets cache; a gated one needs HF_TOKEN, which
    never reaches the run directory; wrong splits and subsets, and offline runs, are one line."""
    import pyarrow as pa
    import pyarrow.parquet as pq
    from fake_hub import FakeHub

    rows = [{"id": i, "review": t} for i, t in enumerate(TEXTS)]
    for name, card in (("reviews", CARD), ("private", None)):
        data = tmp_path / "repos" / "datasets" / "org" / name / "data"
        data.mkdir(parents=True)
        pq.write_table(pa.Table.from_pylist(rows[:2]), data / "train-00000-of-00001.parquet")
        pq.write_table(pa.Table.from_pylist(rows), data / "test-00000-of-00001.parquet", row_group_size=2)
        if card:
            (data.parent / "README.md").write_text(card)
    common = ("task=sentiment", "column=review", f"model={tiny_classifier}")
    record, _, run_dir, _ = run_in_process(*common, f"input={reviews_csv}")
    expected = (run_dir / "results.jsonl").read_text()

    with FakeHub(tmp_path / "repos", gated=("datasets/org/private",)) as hub:
        env = {"HF_ENDPOINT": hub.url, "HF_HUB_OFFLINE": "", "HF_HUB_CACHE": str(tmp_path / "hub"),
               "HF_DATASETS_CACHE": str(tmp_path / "datasets"), "HF_TOKEN": "hf_secret_token"}  # fmt: skip
        for source in ("org/reviews", "hf://datasets/org/private"):  # counted by its card / by a first pass
            proc = cli(*common, f"input={source}", "split=test", tmp_path=tmp_path, env=env)
            assert proc.returncode == 0, proc.stderr
            assert (tmp_path / "run" / "results.jsonl").read_text() == expected
            record = json.loads((tmp_path / "run" / "result.json").read_text())
            assert record["result"]["total"] == len(TEXTS)
            assert not list((tmp_path / "datasets").rglob("*.arrow"))  # streamed, not cached whole
        assert any("/datasets/org/private/resolve/" in path and auth == "Bearer hf_secret_token"
                   for _, path, auth in hub.seen)  # fmt: skip
        for path in (tmp_path / "run").rglob("*"):
            assert not path.is_file() or b"hf_secret" not in path.read_bytes(), path

        for args, extra, message in (
            (("input=org/private", "split=test"), {"HF_TOKEN": ""}, "set HF_TOKEN"),
            (("input=org/reviews",), {}, "holds the splits train, test: add split=<one of them>"),
            (("input=org/reviews", "subset=nope", "split=test"), {}, "subset=<name>; its subsets: default"),
            (("input=org/reviews", "split=test"), {"HF_HUB_OFFLINE": "1"}, "HF_HUB_OFFLINE is set: unset it"),
        ):  # fmt: skip
            proc = cli(*common, *args, tmp_path=tmp_path, env={**env, **extra})
            assert proc.returncode == 2 and proc.stderr.count("\n") == 1, proc.stderr
            assert message in proc.stderr and "input 'hf://datasets/org/" in proc.stderr, proc.stderr


def test_a_hub_dataset_that_drops_mid_stream_keeps_the_rows_that_finished(tmp_path):
    """The Hub serves the first of two Parquet shards, then drops every read of the second
    (half its bytes, then the connection closes): after the Hub client's own retries the run
    ends in one line that says how many rows are kept and how to go on; run again with
    results= on a Hub that is back, it does only the rest, and the rows equal one whole run."""
    import pyarrow as pa
    import pyarrow.parquet as pq
    from fake_hub import FakeHub

    rows = [{"id": i, "review": f"review {i}: " + TEXTS[i % len(TEXTS)]} for i in range(30)]
    data = tmp_path / "repos" / "datasets" / "org" / "reviews" / "data"
    data.mkdir(parents=True)
    pq.write_table(pa.Table.from_pylist(rows[:20]), data / "test-00000-of-00002.parquet")
    pq.write_table(pa.Table.from_pylist(rows[20:]), data / "test-00001-of-00002.parquet")
    (data.parent / "README.md").write_text(CARD.replace("num_examples: 6", "num_examples: 30"))
    common = ("task=tokenize", "model=smollm2-135m", "input=org/reviews", "split=test", "column=review")
    results = tmp_path / "kept.jsonl"

    def run(hub: FakeHub, *args: str) -> subprocess.CompletedProcess:
        env = {"HF_ENDPOINT": hub.url, "HF_HUB_OFFLINE": "", "HF_HUB_CACHE": str(tmp_path / "hub"),
               "HF_DATASETS_CACHE": str(tmp_path / "datasets")}  # fmt: skip
        return cli(*common, f"results={results}", *args, tmp_path=tmp_path, env=env)

    with FakeHub(tmp_path / "repos", cut={"test-00001-of-00002.parquet": 0}) as hub:
        proc = run(hub)
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1, proc.stderr
    assert "input 'hf://datasets/org/reviews' dropped mid-stream after 20 rows" in proc.stderr, proc.stderr
    assert f"the 20 rows that finished are kept in {results}: run again with results={results}" in proc.stderr
    assert len(results.read_text().splitlines()) == 20
    assert json.loads((tmp_path / "run" / "result.json").read_text())["status"] == "error"

    with FakeHub(tmp_path / "repos") as hub:
        proc = run(hub)
        assert proc.returncode == 0 and "30 ok, 0 failed, 20 already done" in proc.stdout, proc.stdout + proc.stderr
        resumed = [json.loads(line) for line in results.read_text().splitlines()]
        whole = tmp_path / "whole.jsonl"
        assert cli(*common, f"results={whole}", tmp_path=tmp_path / "w", env={"HF_ENDPOINT": hub.url,
                   "HF_HUB_OFFLINE": "", "HF_HUB_CACHE": str(tmp_path / "hub2")}).returncode == 0  # fmt: skip
    assert resumed == [json.loads(line) for line in whole.read_text().splitlines()]
