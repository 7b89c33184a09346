"""Shared fixtures: the real session, real Hydra composition, CLI runs, tiny models."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]

# Started from a background job (a CI script's `&`, a shell without job control), the suite
# inherits SIGINT ignored, and every process it starts would too: Ctrl-C sent to a server
# under test would never arrive. A handler here makes the children start with SIGINT's default.
if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)


@pytest.fixture(scope="session", autouse=True)
def _no_process_left():
    """Whatever a test started and did not stop (a server after a failure) is killed when the
    suite ends, and named: nothing outlives the run."""
    yield
    import psutil

    left, names = psutil.Process().children(recursive=True), []
    for child in left:
        try:
            names.append(" ".join(child.cmdline())[:80])
            child.kill()
        except psutil.Error:
            pass
    psutil.wait_procs(left, timeout=30)
    if names:
        print(f"\nkilled {len(names)} process(es) the tests left running: {'; '.join(names)}", file=sys.stderr)


@pytest.fixture(autouse=True)
def _offline_and_isolated(monkeypatch, tmp_path):
    """No test reaches the Hub; plugins installed by hand elsewhere don't leak in; what a user
    keeps (known voices, the minutes archive) goes to the test's own folder, never the user's."""
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("TRANSFORMERS_VERBOSITY", "error")
    monkeypatch.setenv("TASKDECK_DATA", str(tmp_path / "taskdeck-data"))
    monkeypatch.setenv("TASKDECK_ARCHIVE", str(tmp_path / "archive.sqlite"))


def text_arg(text: str) -> str:
    """A text= override, quoted for Hydra (quotes inside escaped)."""
    return "text='" + text.replace("'", "\\'") + "'"


@pytest.fixture(scope="module")
def one_torch_thread():
    """Tiny models run fastest on one thread (and do not fight other processes for cores)."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="session")
def session():
    from taskdeck.engine.plugin_manager import get_session

    return get_session()


@pytest.fixture(scope="session")
def compose(session):
    """compose(overrides) -> the real composed config (with Hydra's own validation)."""
    from hydra import compose as hydra_compose
    from hydra import initialize_config_module
    from hydra.core.global_hydra import GlobalHydra

    from taskdeck.engine.config import register_configs, with_search_path

    register_configs(session)

    def _compose(overrides):
        GlobalHydra.instance().clear()
        with initialize_config_module("taskdeck.conf", version_base="1.3"):
            return hydra_compose("config", overrides=with_search_path(session, list(overrides)))

    return _compose


@pytest.fixture
def run_in_process(session, compose, tmp_path):
    """Run a task through the real runner; returns (record, result, run_dir)."""
    from taskdeck.engine.runner import Runner

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


def cli(
    *args: str, tmp_path: Path, env: dict | None = None, python: str = sys.executable, cwd: Path = REPO
) -> subprocess.CompletedProcess:
    """Run ``python run.py ARGS`` as a user would, its run directory under tmp_path."""
    full_env = {k: v for k, v in os.environ.items() if k not in ("HYDRA_FULL_ERROR", "TASKDECK_TRACEBACK")}
    full_env.update({"HF_HUB_OFFLINE": "1", **(env or {})})
    cmd = [python, str(REPO / "run.py"), *args, f"hydra.run.dir={tmp_path / 'run'}"]
    return subprocess.run(cmd, cwd=cwd, env=full_env, capture_output=True, text=True, timeout=900)


def plugin_venv(root: Path, packages: list[Path]) -> Path:
    """A venv under ``root`` that sees this environment's packages (taskdeck included) through
    a .pth file, with ``packages`` (plugin folders) pip-installed into it as a user would,
    each from a copy (the build leaves nothing in the checkout); returns its python."""
    import shutil
    import sysconfig

    venv = root / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    site = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    parent = sysconfig.get_paths()["purelib"]
    (venv / site.split(str(venv) + "/", 1)[1] / "parent.pth").write_text(f"import site; site.addsitedir({parent!r})\n")
    pip = [sys.executable, "-m", "pip", "--python", str(python), "install", "-q", "--no-deps", "--no-build-isolation"]
    copies = [
        shutil.copytree(p, root / "sources" / p.name, ignore=shutil.ignore_patterns("build", "*.egg-info"))
        for p in packages
    ]
    subprocess.run([*pip, *map(str, copies)], check=True, cwd=root)
    return python


def used(record: dict) -> list[dict]:
    """The models a run's result.json names, each as (model, backend, capability) alone
    (without the usage a backend records beside them, e.g. its memory footprint)."""
    return [{k: m[k] for k in ("model", "backend", "capability")} for m in record["models"]]


def tiny_bert(session, head: str, out: Path, labels=None, padding_side="right", prepare=None) -> Path:
    """Save a tiny random BERT (``transformers.<head>``, e.g. BertForQuestionAnswering) with a
    real tokenizer, all-MiniLM-L6-v2's WordPiece, into ``out``. ``labels`` names the classes
    of a classification head; ``prepare(model)`` may adjust weights before saving."""
    import torch
    import transformers

    tokenizer = transformers.AutoTokenizer.from_pretrained(session.packs.get("all-minilm-l6-v2").path())
    tokenizer.padding_side = padding_side
    extra = {}
    if labels:
        extra = dict(
            num_labels=len(labels), id2label=dict(enumerate(labels)), label2id={t: i for i, t in enumerate(labels)}
        )
    config = transformers.BertConfig(
        vocab_size=tokenizer.vocab_size,
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=37,
        max_position_embeddings=512,
        **extra,
    )
    torch.manual_seed(0)
    model = getattr(transformers, head)(config).eval()
    if prepare is not None:
        with torch.no_grad():
            prepare(model)
    model.save_pretrained(out)
    tokenizer.save_pretrained(out)
    return out


@pytest.fixture(scope="session")
def tiny_classifier(tmp_path_factory, session):
    """A tiny random BERT sentiment classifier with a real tokenizer (all-MiniLM-L6-v2's)."""
    return tiny_bert(
        session,
        "BertForSequenceClassification",
        tmp_path_factory.mktemp("tiny-classifier"),
        labels=["negative", "neutral", "positive"],
    )


@pytest.fixture(scope="session")
def openai_server(session, tmp_path_factory):
    """``transformers serve`` on 127.0.0.1 (a free port) with the embedded SmolLM2, for the
    whole session; yields ``(base_url, model_name)``, e.g. ``("http://127.0.0.1:PORT/v1",
    "SmolLM2-135M-Instruct")``. Use with ``backend=openai backend.base_url=... model=...``."""
    from servers import transformers_folder, transformers_serve

    with transformers_serve(transformers_folder(session), tmp_path_factory.mktemp("openai-server")) as served:
        yield served


@pytest.fixture(scope="session")
def smollm2_tokenizer(session):
    """SmolLM2's real tokenizer and chat template, converted from its GGUF once (seconds)."""
    from transformers import AutoTokenizer

    gguf = session.packs.get("smollm2-135m").path()
    return AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)


def tiny_llama(tokenizer, out: Path, **config) -> Path:
    """Save a tiny random Llama (2 layers, 32 wide unless ``config`` says otherwise) with
    ``tokenizer`` into ``out``."""
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    settings = dict(
        vocab_size=len(tokenizer),
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=8192,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
    )
    torch.manual_seed(0)
    model = LlamaForCausalLM(LlamaConfig(**{**settings, **config})).eval()
    model.save_pretrained(out)
    tokenizer.save_pretrained(out)
    return out


@pytest.fixture(scope="session")
def tiny_chat_model(tmp_path_factory, smollm2_tokenizer):
    """A tiny random Llama with SmolLM2's real tokenizer and chat template."""
    return tiny_llama(smollm2_tokenizer, tmp_path_factory.mktemp("tiny-llama"))


WORDFREQ = REPO / "examples" / "taskdeck-wordfreq"


@pytest.fixture(scope="session")
def ui_session():
    """The built-in plugins and the example third-party plugin (as its entry point would load it)."""
    sys.path.insert(0, str(WORDFREQ))
    from taskdeck.engine.plugin_manager import build_session, builtin_plugins

    yield build_session((*builtin_plugins(), "taskdeck_wordfreq"), third_party=False)
    sys.path.remove(str(WORDFREQ))


@pytest.fixture(scope="module")
def ui_app(ui_session, tmp_path_factory):
    """task=ui on a free loopback port (server, gradio_client, work folder); run directories
    and uploads under a temporary folder."""
    from gradio_client import Client

    from taskdeck.app.ui import UiTask, serve

    work = tmp_path_factory.mktemp("ui")
    before, env = os.getcwd(), dict(os.environ)
    os.chdir(work)
    os.environ["GRADIO_TEMP_DIR"] = str(work / "gradio")
    server = serve(UiTask.Params(port=0, keep_models=2), session=ui_session)
    client = Client(server.url, verbose=False)
    yield server, client, work
    client.close()
    server.close()
    os.chdir(before)
    os.environ.clear()
    os.environ.update(env)
