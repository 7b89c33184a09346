"""model= references: alias, local path, Hub id, mistakes."""

import json

import pytest

from taskdeck.errors import ModelNotFoundError, UnknownNameError
from taskdeck.models import resolve


def test_alias(session):
    ref = resolve("smollm2-135m", session.packs)
    assert ref.source == "pack" and ref.format == "gguf" and ref.path().suffix == ".gguf"


def test_local_paths(session, tmp_path, tiny_classifier):
    gguf = session.packs.get("smollm2-135m").path()
    assert resolve(str(gguf), session.packs).format == "gguf"
    ref = resolve(str(tiny_classifier), session.packs)
    assert ref.source == "path" and ref.format == "hf"
    with pytest.raises(ModelNotFoundError, match="does not exist"):
        resolve(str(tmp_path / "nope.gguf"), session.packs)
    with pytest.raises(ModelNotFoundError, match="no model"):
        resolve(str(tmp_path), session.packs)


def test_hub_id(session):
    ref = resolve("distilbert/distilbert-base-uncased-finetuned-sst-2-english", session.packs)
    assert ref.source == "hub" and ref.id.startswith("distilbert/")


def test_unknown_alias_suggests(session):
    with pytest.raises(UnknownNameError, match="did you mean 'smollm2-135m'"):
        resolve("smollm2-135", session.packs)


def _hub_cache(tmp_path, session, repo="HuggingFaceTB/SmolLM2-135M-Instruct-GGUF"):
    """A Hugging Face cache holding one GGUF of ``repo`` as huggingface_hub lays it out: the
    snapshot's file is a link to a blob (here the embedded SmolLM2 weights)."""
    cache = tmp_path / "hub"
    folder = cache / f"models--{repo.replace('/', '--')}"
    (folder / "blobs").mkdir(parents=True)
    blob = folder / "blobs" / "0123abcd"
    blob.symlink_to(session.packs.get("smollm2-135m").path())
    snapshot = folder / "snapshots" / ("a" * 40)
    snapshot.mkdir(parents=True)
    (snapshot / "smollm2-135m-instruct-q4_1.gguf").symlink_to(blob)
    (snapshot / "smollm2-135m-instruct-q8_0.gguf").symlink_to(folder / "blobs" / "gone")  # a broken link
    return cache


def test_hub_gguf_files_resolve_from_the_cache(session, tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HUB_CACHE", str(_hub_cache(tmp_path, session)))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    for tag in ("Q4_1", "q4_1", "smollm2-135m-instruct-q4_1.gguf"):
        ref = resolve(f"HuggingFaceTB/SmolLM2-135M-Instruct-GGUF:{tag}", session.packs)
        assert ref.format == "gguf" and ref.source == "hub-file"
        assert ref.path().name == "smollm2-135m-instruct-q4_1.gguf" and ref.path().stat().st_size > 10_000_000
    missing = resolve("HuggingFaceTB/SmolLM2-135M-Instruct-GGUF:Q8_0", session.packs)  # its link is broken
    with pytest.raises(ModelNotFoundError, match=r"no GGUF file matching 'Q8_0' .*cached: smollm2-135m-instruct-q4_1"):
        missing.path()


def test_a_hub_gguf_runs_on_llama_cpp(session, tmp_path):
    from conftest import cli

    env = {"HF_HUB_CACHE": str(_hub_cache(tmp_path, session)), "HF_TOKEN": "hf_secret_never_written"}
    proc = cli(
        "task=chat", "prompt=Say hi", "max_new_tokens=4", "temperature=0",
        "model=HuggingFaceTB/SmolLM2-135M-Instruct-GGUF:Q4_1", tmp_path=tmp_path, env=env,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    record = json.loads((tmp_path / "run" / "result.json").read_text())
    assert record["status"] == "ok" and record["models"][0]["backend"] == "llama_cpp"
    for path in (tmp_path / "run").rglob("*"):
        assert not path.is_file() or b"hf_secret" not in path.read_bytes(), path
    proc = cli(
        "task=chat", "prompt=hi", "model=HuggingFaceTB/SmolLM2-135M-Instruct-GGUF:IQ2_XS", tmp_path=tmp_path, env=env
    )
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1 and "hf download" in proc.stderr


@pytest.fixture
def fake_hub(session, tmp_path):
    """A Hub on loopback (``HF_ENDPOINT``) holding ``org/tiny-GGUF`` with the embedded SmolLM2
    weights as ``tiny-Q4_1.gguf``; ``org/gated-GGUF`` answers 401 without ``HF_TOKEN``."""
    from fake_hub import FakeHub

    for name in ("tiny-GGUF", "gated-GGUF"):
        repo = tmp_path / "repos" / "models" / "org" / name
        repo.mkdir(parents=True)
        (repo / "tiny-Q4_1.gguf").symlink_to(session.packs.get("smollm2-135m").path())
        (repo / "README.md").write_text("# tiny\n")
    with FakeHub(tmp_path / "repos", gated=("models/org/gated-GGUF",)) as hub:
        yield hub.url, hub.seen


def test_a_hub_gguf_is_downloaded_with_hf_token(fake_hub, tmp_path):
    from conftest import cli

    endpoint, seen = fake_hub
    env = {"HF_ENDPOINT": endpoint, "HF_HUB_CACHE": str(tmp_path / "hub"), "HF_HUB_OFFLINE": "",
           "HF_TOKEN": "hf_secret_token"}  # fmt: skip
    proc = cli("task=chat", "prompt=Say hi", "max_new_tokens=4", "temperature=0", "model=org/tiny-GGUF:Q4_1",
               tmp_path=tmp_path, env=env)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert any(path.endswith("/resolve/main/tiny-Q4_1.gguf") and auth == "Bearer hf_secret_token"
               for _, path, auth in seen)  # fmt: skip
    assert list((tmp_path / "hub").glob("models--org--tiny-GGUF/snapshots/*/tiny-Q4_1.gguf"))
    for path in (tmp_path / "run").rglob("*"):
        assert not path.is_file() or b"hf_secret" not in path.read_bytes(), path
    gated = cli("task=chat", "prompt=hi", "model=org/gated-GGUF:Q4_1", tmp_path=tmp_path,
                env={**env, "HF_TOKEN": ""})  # fmt: skip
    assert gated.returncode == 2 and gated.stderr.count("\n") == 1
    assert "could not be fetched from the Hub" in gated.stderr and "set HF_TOKEN" in gated.stderr, gated.stderr
