"""model= references: alias, local path, Hub id, mistakes."""

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
