"""GGUF files of Hugging Face Hub repositories: ``model=org/name-GGUF:Q4_K_M`` or ``:file.gguf``.

The tag after the colon is a file name or a quantization (llama.cpp's ``-hf org/name:quant``
form). A file already in the Hugging Face cache (``HF_HUB_CACHE``, else ``HF_HOME/hub``, else
``~/.cache/huggingface/hub``) is used without the network and without ``huggingface_hub``;
otherwise, unless ``HF_HUB_OFFLINE`` is set, the file is downloaded with ``huggingface_hub``,
which sends ``HF_TOKEN`` for gated and private repositories.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Optional

from .errors import MissingDependencyError, ModelNotFoundError

HUB_FILE = re.compile(r"^(?P<repo>[A-Za-z0-9][\w.\-]*/[\w.\-]+):(?P<tag>[\w.\-/]+)$")


def cache_dir() -> Path:
    """The Hugging Face Hub cache, found as ``huggingface_hub`` finds it."""
    if os.environ.get("HF_HUB_CACHE"):
        return Path(os.environ["HF_HUB_CACHE"]).expanduser()
    home = os.environ.get("HF_HOME") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache"), "huggingface"
    )
    return Path(home).expanduser() / "hub"


def cached_files(repo: str) -> dict[str, Path]:
    """The repository's cached GGUF files: name inside the repository → path."""
    snapshots = cache_dir() / f"models--{repo.replace('/', '--')}" / "snapshots"
    found: dict[str, Path] = {}
    for snapshot in sorted(snapshots.iterdir()) if snapshots.is_dir() else []:
        for path in sorted(snapshot.rglob("*.gguf")):
            if path.exists():  # a link to a blob that is gone does not count
                found.setdefault(path.relative_to(snapshot).as_posix(), path)
    return found


def pick(names: Iterable[str], tag: str) -> Optional[str]:
    """The file ``tag`` names: itself, or the one GGUF whose name holds the quantization
    (``Q4_K_M``; the first part of a split file)."""
    names = sorted(n for n in names if n.endswith(".gguf"))
    if tag in names:
        return tag
    by_base = [n for n in names if n.rsplit("/", 1)[-1] == tag]
    if by_base:
        return by_base[0]
    quant = re.compile(rf"(?<![A-Za-z0-9]){re.escape(tag)}(?![A-Za-z0-9])", re.I)
    matches = [n for n in names if quant.search(n.rsplit("/", 1)[-1].removesuffix(".gguf"))]
    first_parts = [n for n in matches if not re.search(r"-\d{5}-of-\d{5}\.gguf$", n) or "-00001-of-" in n]
    return first_parts[0] if first_parts else None


def hub_gguf(repo: str, tag: str, offline: bool) -> Path:
    """The local path of the GGUF file ``repo:tag``, downloaded when needed and allowed."""
    cached = cached_files(repo)
    name = pick(cached, tag)
    if name is not None:
        return cached[name]
    listed = f" (cached: {', '.join(sorted(cached))})" if cached else ""
    if offline:
        raise ModelNotFoundError(
            f"model '{repo}:{tag}': no GGUF file matching '{tag}' in the Hugging Face cache{listed}, and "
            f"HF_HUB_OFFLINE is set: download it where the Hub is reachable (hf download {repo} "
            f"--include '*{tag}*') or name a cached file"
        )
    try:
        from huggingface_hub import HfApi, hf_hub_download
    except ImportError:
        raise MissingDependencyError(
            "huggingface_hub", f"model '{repo}:{tag}' is not in the Hugging Face cache: downloading it"
        ) from None
    try:
        names = HfApi().list_repo_files(repo)  # HF_TOKEN is read by huggingface_hub
        name = pick(names, tag)
        if name is None:
            files = ", ".join(n for n in sorted(names) if n.endswith(".gguf")) or "none"
            raise ModelNotFoundError(
                f"model '{repo}:{tag}': no GGUF file of {repo} matches '{tag}'; its files: {files}"
            )
        return Path(hf_hub_download(repo, name))
    except ModelNotFoundError:
        raise
    except Exception as exc:  # noqa: BLE001 - network, auth, missing repo: one line
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ModelNotFoundError(
            f"model '{repo}:{tag}' could not be fetched from the Hub ({first}); for a gated or private "
            "repository set HF_TOKEN"
        ) from None
