"""Multirun comparisons through the real CLI: the table, the CSV, the plot, failed jobs,
parallel (joblib) and cluster (submitit_local) launchers, shards merged back in order."""

import csv
import json
from pathlib import Path

import pytest
from conftest import REPO, cli, tiny_bert

SENTIMENT = REPO / "examples" / "data" / "sentiment_eval.csv"
GOLD = [row["label"] for row in csv.DictReader(open(SENTIMENT))]


def sweep(tmp_path, *args, env=None):
    """``python run.py -m ARGS`` with the sweep directory in tmp_path; returns (proc, dir)."""
    out = tmp_path / "sweep"
    proc = cli("-m", *args, "quiet=true", f"hydra.sweep.dir={out}", tmp_path=tmp_path, env=env)
    return proc, out


def table(sweep_dir: Path) -> list[dict]:
    with open(sweep_dir / "comparison.csv") as f:
        return list(csv.DictReader(f))


def always(label):
    """A tiny classifier whose bias makes it answer ``label`` for any text."""

    def prepare(model):
        model.classifier.bias.zero_()
        model.classifier.bias[model.config.label2id[label]] = 50.0

    return prepare


@pytest.fixture(scope="module")
def biased_classifiers(tmp_path_factory, session):
    """Two tiny BERT classifiers (other label orders) that always say positive / negative."""
    root = tmp_path_factory.mktemp("biased")
    pos = tiny_bert(
        session,
        "BertForSequenceClassification",
        root / "always-pos",
        labels=["negative", "neutral", "positive"],
        prepare=always("positive"),
    )
    neg = tiny_bert(
        session,
        "BertForSequenceClassification",
        root / "always-neg",
        labels=["positive", "negative", "neutral"],
        prepare=always("negative"),
    )
    return {"positive": pos, "negative": neg}


def expected_scores(label):
    """Accuracy and macro-F1 of answering ``label`` for every row of the gold file."""
    hits, n = GOLD.count(label), len(GOLD)
    return hits / n, (2 * hits / (hits + n)) / len(set(GOLD))


def rescored_accuracy(job_dir: Path) -> float:
    rows = [json.loads(ln) for ln in (job_dir / "results.jsonl").read_text().splitlines()]
    return sum(r["label"] == GOLD[r["index"]] for r in rows) / len(GOLD)


def test_two_by_two_sweep_with_a_failed_model(biased_classifiers, tmp_path):
    pos, neg = biased_classifiers["positive"], biased_classifiers["negative"]
    missing = tmp_path / "no-such-model"
    proc, out = sweep(
        tmp_path,
        "task=sentiment",
        f"model={pos},{neg},{missing}",
        "backend=transformers",
        "backend.batch_size=1,8",
        f"eval={SENTIMENT}",
        "backend.threads=1",
    )
    assert proc.returncode == 0, proc.stderr
    rows = table(out)
    assert len(rows) == 6
    assert {
        "model",
        "backend.batch_size",
        "status",
        "accuracy",
        "macro_f1",
        "items_per_s",
        "load_s",
        "wall_s",
        "peak_rss_mb",
        "error",
    } <= set(rows[0])
    for row in rows:
        if row["model"] == str(missing):
            assert row["status"] == "error" and "does not exist" in row["error"] and row["accuracy"] == ""
            continue
        label = "positive" if row["model"] == str(pos) else "negative"
        accuracy, macro_f1 = expected_scores(label)
        assert row["status"] == "ok" and row["error"] == ""
        assert float(row["accuracy"]) == pytest.approx(accuracy, abs=1e-4)
        assert float(row["macro_f1"]) == pytest.approx(macro_f1, abs=1e-4)
        assert float(row["accuracy"]) == pytest.approx(rescored_accuracy(out / row["job"]), abs=1e-4)
        assert int(row["items"]) == len(GOLD) and float(row["items_per_s"]) > 0
    assert sorted(r["backend.batch_size"] for r in rows) == ["1", "1", "1", "8", "8", "8"]
    md = (out / "comparison.md").read_text()
    assert "| job | model | backend.batch_size | status | accuracy | macro_f1 |" in md
    assert md.count("\n| ") == 7 and "Fixed: `task=sentiment`" in md
    assert "# Comparison: 6 job(s), 4 ok" in proc.stdout  # the table is shown at the end
    assert proc.stderr.count("error: job") == 2  # one line per failed job
    assert "Traceback" not in proc.stderr
    png = (out / "comparison.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    import matplotlib.image

    height, width, _ = matplotlib.image.imread(out / "comparison.png").shape
    assert width > 500 and height > 200


def test_embedded_model_on_joblib_workers(tmp_path):
    """Jobs run in two loky worker processes: each composes its config (taskdeck's ConfigStore
    nodes and search path travel with Hydra's state), loads its own plugins and model."""
    proc, out = sweep(
        tmp_path,
        "task=sentiment",
        f"model=smollm2-135m,{tmp_path / 'missing.gguf'}",
        f"eval={SENTIMENT}",
        "backend.threads=1",
        "hydra/launcher=joblib",
        "hydra.launcher.n_jobs=2",
    )
    assert proc.returncode == 0, proc.stderr
    assert "Joblib.Parallel(n_jobs=2" in proc.stdout
    ok, failed = table(out)
    assert ok["status"] == "ok" and float(ok["accuracy"]) == pytest.approx(rescored_accuracy(out / "0"), abs=1e-4)
    assert failed["status"] == "error" and "does not exist" in failed["error"]
    errors = [ln for ln in proc.stderr.splitlines() if ln.startswith("error:")]
    assert len(errors) == 1 and "missing.gguf" in errors[0] and "Traceback" not in proc.stderr
    assert (out / "comparison.png").stat().st_size > 0


def test_submitit_local_launcher(biased_classifiers, tmp_path):
    """The cluster launcher's local mode: each job is pickled and run by a submitit process."""
    pos = biased_classifiers["positive"]
    proc, out = sweep(
        tmp_path,
        "task=sentiment",
        "text=great,awful",
        f"model={pos}",
        "backend.threads=1",
        "hydra/launcher=submitit_local",
        "hydra.launcher.timeout_min=5",
    )
    assert proc.returncode == 0, proc.stderr
    rows = table(out)
    assert [r["text"] for r in rows] == ["great", "awful"] and all(r["status"] == "ok" for r in rows)
    assert (out / ".submitit").is_dir()
    for row in rows:
        result = json.loads((out / row["job"] / "result.json").read_text())
        assert result["result"]["labels"][0]["label"] == "positive"


def test_shards_are_merged_in_order_and_rescored(biased_classifiers, tmp_path):
    pos = biased_classifiers["positive"]
    mine = tmp_path / "mine" / "res.jsonl"
    proc, out = sweep(
        tmp_path, "task=sentiment", f"model={pos}", f"eval={SENTIMENT}", "shard=1/3,2/3,3/3", f"results={mine}"
    )
    assert proc.returncode == 0, proc.stderr
    assert sorted(p.name for p in mine.parent.glob("*.jsonl")) == [f"res.part{k}of3.jsonl" for k in (1, 2, 3)]
    rows = table(out)
    assert [r["shard"] for r in rows] == ["1/3", "2/3", "3/3", "merged"]
    assert [int(r["items"]) for r in rows] == [10, 10, 10, 30]
    merged = [json.loads(ln) for ln in (out / "merged" / "0" / "results.jsonl").read_text().splitlines()]
    assert [r["index"] for r in merged] == list(range(len(GOLD)))
    assert {r["label"] for r in merged} == {"positive"}
    assert float(rows[-1]["accuracy"]) == pytest.approx(expected_scores("positive")[0], abs=1e-4)
    first = [json.loads(ln)["index"] for ln in (mine.parent / "res.part1of3.jsonl").read_text().splitlines()]
    assert first == list(range(10))
    assert float(rows[0]["accuracy"]) == pytest.approx(GOLD[:10].count("positive") / 10, abs=1e-4)
    assert (out / "merged" / "0" / "results.csv").is_file()

    # shard 2/3 lost as it started (Hydra made .hydra/ but wrote nothing), then lost entirely:
    # a row for what is on disk, and the merge refuses a group with a shard missing
    from taskdeck.comparison import STOPPED_AT_START, write_comparison

    for name in ("overrides.yaml", "config.yaml", "hydra.yaml"):
        (out / "1" / ".hydra" / name).unlink()
    (out / "1" / "result.json").unlink()
    write_comparison(out)
    rows = {r["job"]: r for r in table(out)}
    assert (rows["1"]["status"], rows["1"]["error"]) == ("no result", STOPPED_AT_START)
    assert (rows["merged/0"]["status"], rows["merged/0"]["error"]) == (
        "incomplete",
        "no job for shard 2/3; nothing merged",
    )
    import shutil

    shutil.rmtree(out / "1")
    write_comparison(out)
    assert [(r["job"], r["status"]) for r in table(out)] == [("0", "ok"), ("2", "ok"), ("merged/0", "incomplete")]


def test_table_survives_the_sweeper_reraising(biased_classifiers, tmp_path):
    """Job 1's config fails in Hydra itself (checked batch by batch, one job per batch here):
    the sweep stops with one line, exit 2, and the table still holds job 0, though Hydra
    skipped on_multirun_end."""
    pos = biased_classifiers["positive"]
    proc, out = sweep(
        tmp_path,
        "task=sentiment",
        "text=fine",
        f"model={pos}",
        "backend=transformers",
        "backend.batch_size=4,lots",
        "hydra.sweeper.max_batch_size=1",
    )
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines()[-1].startswith("error: ") and "Traceback" not in proc.stderr
    ok, stopped = table(out)
    assert ok["status"] == "ok" and ok["backend.batch_size"] == "4" and "text" not in ok  # text= not swept
    assert stopped["job"] == "sweep" and stopped["status"] == "stopped"
    assert "backend.batch_size=lots" in stopped["error"] and stopped["error"] in proc.stderr
    assert "# Comparison: 1 job(s), 1 ok" in proc.stdout


def test_rebuild_from_disk(biased_classifiers, tmp_path):
    """``python -m taskdeck.comparison DIR`` rebuilds a sweep's table (e.g. after a cluster run)."""
    import subprocess
    import sys

    pos = biased_classifiers["positive"]
    proc, out = sweep(tmp_path, "task=sentiment", "text=good,bad", f"model={pos}")
    assert proc.returncode == 0, proc.stderr
    for name in ("comparison.md", "comparison.csv", "comparison.png"):
        (out / name).unlink()
    rebuilt = subprocess.run(
        [sys.executable, "-m", "taskdeck.comparison", str(out)], capture_output=True, text=True, timeout=120
    )
    assert rebuilt.returncode == 0, rebuilt.stderr
    assert [r["text"] for r in table(out)] == ["good", "bad"] and (out / "comparison.png").is_file()

    # a job whose result.json cannot be read (a folder here; no permission alike) is a row saying so
    (out / "1" / "result.json").unlink()
    (out / "1" / "result.json").mkdir()
    rebuilt = subprocess.run(
        [sys.executable, "-m", "taskdeck.comparison", str(out)], capture_output=True, text=True, timeout=120
    )
    assert rebuilt.returncode == 0, rebuilt.stderr
    good, bad = table(out)
    assert good["status"] == "ok" and bad["status"] == "no result" and "result.json unreadable" in bad["error"]
    # a sweep folder the table cannot be written in: one line, exit 2
    (out / "comparison.md").unlink()
    (out / "comparison.md").mkdir()
    rebuilt = subprocess.run(
        [sys.executable, "-m", "taskdeck.comparison", str(out)], capture_output=True, text=True, timeout=120
    )
    assert rebuilt.returncode == 2 and rebuilt.stderr.count("\n") == 1, rebuilt.stderr
    assert rebuilt.stderr.startswith(f"error: cannot use {out}"), rebuilt.stderr


def test_ner_eval_scores_entities_with_seqeval(session, tmp_path):
    """``eval=`` on a JSONL of texts with gold entity spans: a tagger that finds nothing has
    entity recall and F1 0 on every row, and the metrics land in result.json."""

    def only_o(model):
        model.classifier.bias.zero_()
        model.classifier.bias[0] = 50.0

    tagger = tiny_bert(
        session,
        "BertForTokenClassification",
        tmp_path / "tagger",
        labels=["O", "B-PER", "I-PER", "B-LOC", "I-LOC"],
        prepare=only_o,
    )
    proc = cli(
        "task=ner",
        f"eval={REPO / 'examples' / 'data' / 'ner_eval.jsonl'}",
        f"model={tagger}",
        "quiet=true",
        tmp_path=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    record = json.loads((tmp_path / "run" / "result.json").read_text())
    assert record["eval_plan"]["metric"] == "entities" and record["eval_plan"]["column"] == "entities"
    m = record["metrics"]
    assert m["eval_rows"] == 30 and m["eval_failed"] == 0 and m["items"] == 30
    assert m["entity_recall"] == 0 and m["entity_f1"] == 0


def test_eval_errors_are_one_line(tmp_path):
    bad = tmp_path / "stars.csv"
    bad.write_text("text,stars\ngood,5\n")
    proc = cli("task=sentiment", f"eval={bad}", "model=smollm2-135m", tmp_path=tmp_path)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert proc.stderr.strip().splitlines() == [
        "error: eval file 'stars.csv' has no gold column (looked for label, gold, gold_label; "
        "columns: text, stars): add gold=<column>"
    ]
    proc = cli("task=sentiment", "text=hi", "shard=1/2", "model=smollm2-135m", tmp_path=tmp_path)
    assert proc.returncode == 2
    assert proc.stderr.strip() == "error: shard= splits a batch: give input=<file> (or eval=<file>) as well"


def test_translation_eval_chrf_bleu_and_batch_tokens_per_s(tmp_path):
    """A chat model translating a labelled file: sacrebleu's chrF/BLEU against the reference
    column, and the batch's tokens/s from every row's generated tokens."""
    import sacrebleu

    data = tmp_path / "fr.csv"
    with open(data, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["text", "reference"])
        w.writerows(
            [
                ["Good morning.", "Bonjour."],
                ["Thank you very much.", "Merci beaucoup."],
                ["The cat is black.", "Le chat est noir."],
            ]
        )
    proc = cli(
        "task=translation",
        f"eval={data}",
        "target=French",
        "model=smollm2-135m",
        "max_new_tokens=24",
        "backend.threads=1",
        "quiet=true",
        tmp_path=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    record = json.loads((tmp_path / "run" / "result.json").read_text())
    m = record["metrics"]
    rows = [json.loads(ln) for ln in (tmp_path / "run" / "results.jsonl").read_text().splitlines()]
    hyps, refs = [r["output_text"] for r in rows], ["Bonjour.", "Merci beaucoup.", "Le chat est noir."]
    assert m["chrf"] == pytest.approx(sacrebleu.corpus_chrf(hyps, [refs]).score, abs=1e-3)
    assert m["bleu"] == pytest.approx(sacrebleu.corpus_bleu(hyps, [refs]).score, abs=1e-3)
    assert m["completion_tokens"] >= sum(r["completion_tokens"] for r in rows) > 0
    assert m["tokens_per_s"] == pytest.approx(m["completion_tokens"] / m["run_s"], rel=0.01)


def test_asr_eval_word_error_rate(session, tmp_path):
    """``task=asr eval=`` (batch field ``audio``, result ``text``): WER of the embedded
    whisper-tiny.en on the example meeting against its script (speaker names not spoken)."""
    meeting = REPO / "examples" / "meeting"
    if "asr" not in session.tasks.names() or not (meeting / "launch_meeting.mp3").is_file():
        pytest.skip("needs the asr task and the example meeting recording")
    import re

    from taskdeck.evaluation import evaluate

    script = " ".join(
        re.sub(r"^\w+: ", "", ln) for ln in (meeting / "launch_meeting.txt").read_text().splitlines() if ln.strip()
    )
    data = tmp_path / "asr.jsonl"
    data.write_text(json.dumps({"audio": str(meeting / "launch_meeting.mp3"), "text": script}) + "\n")
    proc = cli("task=asr", f"eval={data}", "quiet=true", tmp_path=tmp_path)
    assert proc.returncode == 0, proc.stderr
    record = json.loads((tmp_path / "run" / "result.json").read_text())
    assert record["eval_plan"]["metric"] == "transcript" and record["eval_plan"]["column"] == "text"
    row = json.loads((tmp_path / "run" / "results.jsonl").read_text())
    assert record["metrics"]["wer"] == pytest.approx(evaluate("transcript", [script], [row])["wer"], abs=1e-4)
    assert 0 < record["metrics"]["wer"] < 0.3  # a clear synthetic voice: few errors, but some
