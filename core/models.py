"""Model references: what ``model=`` may name, resolved without loading anything.

A reference is, in this order: an alias of a registered model pack; a local path (a
``.gguf`` file, a transformers folder or its config ``.json`` alone, a CTranslate2 folder,
...); a GGUF file of a Hub repository (``org/name-GGUF:Q4_K_M`` or ``:file.gguf``,
``hub.py``); or a Hugging Face Hub id, which the backend loads from the local cache when
``HF_HUB_OFFLINE`` is set.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Optional

from .errors import ModelNotFoundError, UnknownNameError
from .hub import HUB_FILE, hub_gguf

if TYPE_CHECKING:
    from .packs import ModelPack
    from .registry import Registry

#: A transformers config is a few kilobytes; a JSON file past this is something else.
CONFIG_MAX_BYTES = 4 * 1024 * 1024
_HUB_ID = re.compile(r"^[A-Za-z0-9][\w.\-]*(/[\w.\-]+)?$")


@dataclass
class ModelRef:
    """A resolved model reference. ``path()`` materialises pack files when needed."""

    ref: str  # what the user wrote
    source: str  # "pack" | "path" | "hub" | "hub-file" (a Hub repository's GGUF file) | "remote"
    format: str  # "gguf" | "hf" | "ctranslate2" | "piper" | "api" | ...
    pack: Optional[ModelPack] = None
    local: Optional[Path] = None
    hub_file: Optional[tuple[str, str]] = None  # (repository, file or quantization) of a Hub GGUF

    def path(self) -> Path:
        if self.pack is not None:
            return self.pack.path()
        if self.local is None and self.hub_file is not None:
            self.local = hub_gguf(*self.hub_file, offline=hub_offline())
        if self.local is not None:
            return self.local
        kind = "a model served by an API" if self.source == "remote" else "a Hub id"
        raise ModelNotFoundError(f"model '{self.ref}' is {kind}, not a local path")

    @property
    def id(self) -> str:
        """The string a library's ``from_pretrained`` gets (Hub id or path), or an API's model name."""
        return self.ref if self.source in ("hub", "remote") else str(self.path())


def hub_offline() -> bool:
    return os.environ.get("HF_HUB_OFFLINE", "").strip().lower() in ("1", "true", "yes", "on")


def detect_format(path: Path) -> str:
    """The format of a local model file or folder, from its name and contents."""
    if path.is_file():
        if path.suffix == ".gguf":
            return "gguf"
        if path.suffix == ".json":  # a transformers config alone (model_type): inspected, not loaded
            return "hf-config" if _is_transformers_config(path) else "unknown"
        if path.suffix == ".onnx":
            return "piper" if path.with_name(path.name + ".json").exists() else "onnx"
        return "file"
    if any(path.glob("*.gguf")) and not (path / "config.json").exists():
        return "gguf"
    if (path / "model.bin").exists() and (path / "vocabulary.txt").exists():
        return "ctranslate2"
    if (path / "model_index.json").exists():
        return "diffusers"
    if (path / "config.json").exists():
        return "hf"
    return "unknown"


def _is_transformers_config(path: Path) -> bool:
    """A JSON object naming a ``model_type``, as every transformers ``config.json`` does."""
    if path.stat().st_size > CONFIG_MAX_BYTES:  # a tokenizer.json or a dataset, not a config
        return False
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError):
        return False
    return isinstance(data, dict) and isinstance(data.get("model_type"), str) and bool(data["model_type"])


def remote(ref: str) -> ModelRef:
    """A model name served by a remote API (``gpt-4o-mini``, whatever a local server calls its
    model): taken as written, never looked up as an alias, a path or a Hub id."""
    ref = str(ref).strip()
    if not ref:
        raise ModelNotFoundError("model= is empty: name the model the server offers (e.g. model=gpt-4o-mini)")
    return ModelRef(ref=ref, source="remote", format="api")


def resolve(ref: str, packs: Registry[ModelPack]) -> ModelRef:
    """Turn what the user wrote after ``model=`` into a :class:`ModelRef`."""
    ref = str(ref).strip()
    if not ref:
        raise ModelNotFoundError(
            f"model= is empty: name a model pack alias, a local path or a Hub id (packs: {', '.join(packs.names())})"
        )
    if ref in packs:
        pack = packs.get(ref)
        return ModelRef(ref=ref, source="pack", format=pack.format, pack=pack)
    path = Path(ref).expanduser()
    if path.exists():
        fmt = detect_format(path)
        if fmt == "unknown" and path.suffix == ".json" and path.is_file():
            raise ModelNotFoundError(
                f"model file '{ref}' is not a transformers config (a JSON object with \"model_type\"): "
                "give a model's config.json, a model folder, a .gguf file or a Hub id"
            )
        if fmt == "unknown":
            raise ModelNotFoundError(
                f"model path '{ref}' holds no model taskdeck recognises "
                "(expected a .gguf file, or a folder with config.json or model_index.json)"
            )
        if fmt == "gguf" and path.is_dir():
            path = sorted(path.glob("*.gguf"))[0]
        return ModelRef(ref=ref, source="path", format=fmt, local=path.resolve())
    hub_file = HUB_FILE.match(ref)
    if hub_file:  # org/name:tag, never a path (HUB_FILE starts with a letter or digit)
        return ModelRef(ref=ref, source="hub-file", format="gguf", hub_file=(hub_file["repo"], hub_file["tag"]))
    looks_local = ref.startswith((".", "/", "~")) or ref.endswith((".gguf", ".onnx"))
    if looks_local:
        raise ModelNotFoundError(f"model path '{ref}' does not exist")
    if not _HUB_ID.match(ref):
        raise UnknownNameError(
            "model", ref, packs.names(), "Name a pack alias, a local path, or a Hub id like org/name"
        )
    if "/" not in ref:
        # A bare word is a mistyped alias far more often than a legacy org-less Hub id.
        raise UnknownNameError("model alias", ref, packs.names(), "Or give a Hub id as org/name, or a local path")
    return ModelRef(ref=ref, source="hub", format="hf")
