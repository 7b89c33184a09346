"""Shared fixtures: the real session, real Hydra composition, CLI runs, tiny models."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(autouse=True)
def _offline_and_isolated(monkeypatch):
    """No test reaches the Hub; plugins installed by hand elsewhere don't leak in."""
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("TRANSFORMERS_VERBOSITY", "error")


@pytest.fixture(scope="session")
def session():
    from taskdeck.plugin_manager import get_session
    return get_session()


@pytest.fixture(scope="session")
def compose(session):
    """compose(overrides) -> the real composed config (with Hydra's own validation)."""
    from hydra import compose as hydra_compose, initialize_config_module
    from hydra.core.global_hydra import GlobalHydra

    from taskdeck.config import register_configs, with_search_path

    register_configs(session)

    def _compose(overrides):
        GlobalHydra.instance().clear()
        with initialize_config_module("taskdeck.conf", version_base="1.3"):
            return hydra_compose("config", overrides=with_search_path(session, list(overrides)))

    return _compose


@pytest.fixture
def run_in_process(session, compose, tmp_path):
    """Run a task through the real runner; returns (record, result, run_dir)."""
    from taskdeck.runner import Runner

    runs = iter(range(1000))

    def _run(*overrides):
        cfg = compose(["quiet=true", *overrides])
        run_dir = tmp_path / f"run{next(runs)}"  # a fresh run directory per run, as Hydra gives
        import io
        out = io.StringIO()
        runner = Runner(session, cfg, run_dir, stream=out)
        record = runner.run()
        return record, runner.result, run_dir, out.getvalue()

    return _run


def cli(*args: str, tmp_path: Path, env: dict | None = None, python: str = sys.executable,
        cwd: Path = REPO) -> subprocess.CompletedProcess:
    """Run ``python run.py ARGS`` as a user would, its run directory under tmp_path."""
    full_env = {k: v for k, v in os.environ.items() if k not in ("HYDRA_FULL_ERROR", "TASKDECK_TRACEBACK")}
    full_env.update({"HF_HUB_OFFLINE": "1", **(env or {})})
    cmd = [python, str(REPO / "run.py"), *args, f"hydra.run.dir={tmp_path / 'run'}"]
    return subprocess.run(cmd, cwd=cwd, env=full_env, capture_output=True, text=True, timeout=900)


@pytest.fixture(scope="session")
def tiny_classifier(tmp_path_factory, session):
    """A tiny random BERT sentiment classifier with a real tokenizer (all-MiniLM-L6-v2's)."""
    import torch
    from transformers import AutoTokenizer, BertConfig, BertForSequenceClassification

    tokenizer = AutoTokenizer.from_pretrained(session.packs.get("all-minilm-l6-v2").path())
    config = BertConfig(vocab_size=tokenizer.vocab_size, hidden_size=32, num_hidden_layers=2,
                        num_attention_heads=2, intermediate_size=37, max_position_embeddings=512,
                        num_labels=3, id2label={0: "negative", 1: "neutral", 2: "positive"},
                        label2id={"negative": 0, "neutral": 1, "positive": 2})
    torch.manual_seed(0)
    model = BertForSequenceClassification(config).eval()
    out = tmp_path_factory.mktemp("tiny-classifier")
    model.save_pretrained(out)
    tokenizer.save_pretrained(out)
    return out
