"""The real Hydra config: every group option composes; typos and wrong types fail at compose."""

import pytest
from hydra.core.config_store import ConfigStore
from omegaconf import OmegaConf

from taskdeck.engine.config import config_dirs, preset_names


def _options(session, group):
    stored = [name[: -len(".yaml")] for name in ConfigStore.instance().repo.get(group, {})]
    return sorted(set(stored) | set(preset_names(session, group)))


def _groups(session):
    """Every config group: those in the ConfigStore and the folders on the search path."""
    from taskdeck.engine.config import register_configs

    register_configs(session)
    stored = {name for name, node in ConfigStore.instance().repo.items() if isinstance(node, dict)}
    folders = {p.name for d in config_dirs(session) for p in d.iterdir() if p.is_dir() and p.name != "__pycache__"}
    return sorted((stored | folders) - {"hydra"})


def test_the_groups_are_found(session):
    assert {"task", "backend", "preset"} <= set(_groups(session))


def test_every_config_group_option_composes(session, compose):
    for group in _groups(session):
        options = _options(session, group)
        assert options, f"no options in group {group}"
        for option in options:
            cfg = compose([f"{group}={option}"])
            assert cfg is not None, f"{group}={option}"


def test_every_task_and_backend_is_in_its_group(session, compose):
    assert set(session.tasks.names()) <= set(_options(session, "task"))
    assert set(session.backends.names()) | {"auto"} <= set(_options(session, "backend"))


def test_task_inputs_are_top_level_and_required_ones_missing(compose):
    cfg = compose(["task=sentiment"])
    assert cfg.task == "sentiment"
    assert OmegaConf.is_missing(cfg, "text")
    assert cfg.model == "qwen2.5-coder-1.5b"
    assert compose(["task=sentiment", "text=I love this"]).text == "I love this"


def test_misspelled_key_fails_at_compose(compose):
    with pytest.raises(Exception, match="txt"):
        compose(["task=sentiment", "txt=hello"])


def test_wrong_type_fails_at_compose(compose):
    with pytest.raises(Exception, match="top_k"):
        compose(["task=sentiment", "top_k=many"])
    with pytest.raises(Exception, match="n_ctx"):
        compose(["task=sentiment", "backend=llama_cpp", "backend.n_ctx=big"])


def test_backend_params_are_typed(compose):
    cfg = compose(["task=sentiment", "backend=llama_cpp", "backend.n_ctx=2048", "backend.threads=2"])
    assert cfg.backend.n_ctx == 2048 and cfg.backend.threads == 2 and cfg.backend.name == "llama_cpp"
    with pytest.raises(Exception, match="nope"):
        compose(["task=sentiment", "backend=transformers", "backend.nope=1"])
