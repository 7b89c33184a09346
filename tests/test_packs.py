"""Model packs: found without importing their packages, joined once, verified by hash."""

import hashlib
import sys

import pytest

from taskdeck.errors import ModelNotFoundError
from taskdeck.packs import ModelPack, Piece


@pytest.fixture
def split_packages(tmp_path, monkeypatch):
    """Two installed packages each holding half of a file, like the Qwen part packages."""
    data = bytes(range(256)) * 4096  # 1 MiB
    halves = [data[: len(data) // 2], data[len(data) // 2 :]]
    for i, half in enumerate(halves, 1):
        pkg = tmp_path / "site" / f"tdpart{i}"
        (pkg / "data").mkdir(parents=True)
        (pkg / "__init__.py").write_text("raise RuntimeError('packs must not be imported')\n")
        (pkg / "data" / f"part{i:02d}.bin").write_bytes(half)
    monkeypatch.syspath_prepend(str(tmp_path / "site"))
    monkeypatch.setenv("TASKDECK_CACHE", str(tmp_path / "cache"))
    return data


def _pack(sha):
    return ModelPack(
        alias="tdsplit",
        description="test",
        format="gguf",
        extra="tdsplit",
        files={"model.gguf": [Piece("tdpart1", "data/part01.bin"), Piece("tdpart2", "data/part02.bin")]},
        entry="model.gguf",
        sha256={"model.gguf": sha},
    )


def test_split_pack_is_joined_once_and_verified(split_packages, tmp_path):
    pack = _pack(hashlib.sha256(split_packages).hexdigest())
    assert pack.installed() and not pack.ready()
    path = pack.path()
    assert path.read_bytes() == split_packages
    assert pack.ready()
    mtime = path.stat().st_mtime_ns
    assert pack.path().stat().st_mtime_ns == mtime  # not joined again
    assert "tdpart1" not in sys.modules and "tdpart2" not in sys.modules


@pytest.mark.parametrize("fault", ["truncated", "changed", "deleted"])
def test_an_assembled_file_damaged_in_the_cache_is_assembled_again(split_packages, fault):
    """A cached file cut short (a full disk, a killed copy) or edited is noticed by its size and
    time, and joined again from the installed parts, which are checked by hash."""
    import os

    pack = _pack(hashlib.sha256(split_packages).hexdigest())
    path = pack.path()
    if fault == "truncated":
        with open(path, "r+b") as f:
            f.truncate(1000)
    elif fault == "changed":
        path.write_bytes(b"x" * len(split_packages))
        os.utime(path, ns=(path.stat().st_atime_ns, path.stat().st_mtime_ns + 1))
    else:
        path.unlink()
    assert not pack.ready()
    assert pack.path().read_bytes() == split_packages and pack.ready()


def test_no_room_to_assemble_is_one_line_naming_the_fix(split_packages, monkeypatch):
    import errno

    from taskdeck import packs

    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(packs, "_join", full)
    with pytest.raises(ModelNotFoundError, match=r"no space left to assemble model pack 'tdsplit' .*TASKDECK_CACHE="):
        _pack("0" * 64).path()


def test_hash_mismatch_fails_and_leaves_nothing(split_packages, tmp_path):
    pack = _pack("0" * 64)
    with pytest.raises(ModelNotFoundError, match="SHA-256"):
        pack.path()
    folder = tmp_path / "cache" / "packs" / "tdsplit"
    assert not list(folder.glob("*.gguf")) and not list(folder.glob(".*.part"))


def test_missing_part_names_the_install_command(split_packages):
    pack = _pack("0" * 64)
    pack.files["model.gguf"].append(Piece("tdpart3_absent", "data/part03.bin"))
    assert not pack.installed()
    with pytest.raises(ModelNotFoundError, match=r"pip install 'taskdeck\[tdsplit\]'"):
        pack.path()


def test_embedded_packs_are_found_without_import(session):
    for alias in ("qwen2.5-coder-1.5b", "smollm2-135m", "all-minilm-l6-v2"):
        pack = session.packs.get(alias)
        assert pack.installed(), alias
        for module in pack.modules():
            assert module not in sys.modules, module


@pytest.mark.parametrize("alias,size", [("qwen2.5-coder-1.5b", 1_117_320_768), ("qwen2.5-coder-0.5b", 491_400_064)])
def test_real_qwen_packs_join_to_the_published_file(session, alias, size):
    pack = session.packs.get(alias)
    path = pack.path()  # joined and SHA-256-checked on first use, then cached
    assert path.suffix == ".gguf" and path.stat().st_size == size
    with open(path, "rb") as f:
        assert f.read(4) == b"GGUF"


def test_every_pack_states_licence_and_extra(session):
    for alias, pack in session.packs.items():
        assert pack.licence and pack.extra and pack.description, alias


def test_every_file_of_every_pack_has_its_hash(session):
    for alias, pack in session.packs.items():
        assert set(pack.sha256) == set(pack.files), alias
        assert all(len(h) == 64 for h in pack.sha256.values()), alias


def test_a_pack_used_in_place_is_verified_once_and_a_changed_file_refused(split_packages, tmp_path):
    one = tmp_path / "site" / "tdpart1" / "data" / "part01.bin"
    pack = ModelPack(
        alias="tdplace", description="test", format="gguf", extra="tdplace", entry="model.gguf",
        files={"model.gguf": [Piece("tdpart1", "data/part01.bin")]},
        sha256={"model.gguf": hashlib.sha256(one.read_bytes()).hexdigest()},
    )  # fmt: skip
    assert pack.path() == one  # in place: no copy
    (stamp,) = (tmp_path / "cache" / "packs").glob(".tdplace.*.verified")
    seen = stamp.stat().st_mtime_ns
    pack.path()
    assert stamp.stat().st_mtime_ns == seen  # not hashed again
    one.write_bytes(b"X" + one.read_bytes()[1:])  # the same size, another content
    with pytest.raises(ModelNotFoundError, match=r"does not match its SHA-256; reinstall .*--force-reinstall tdpart1"):
        pack.path()
