"""Hub datasets as batch input: ``input=org/name`` (or ``hf://datasets/org/name``), with
``split=`` and ``subset=`` (what ``datasets.load_dataset(id, subset, split=…)`` takes).

The rows are streamed with ``datasets`` (``streaming=True``): nothing is loaded whole and
nothing is written to the datasets cache. ``HF_TOKEN`` is sent for gated and private
datasets (``huggingface_hub`` reads it). With ``HF_HUB_OFFLINE`` set the dataset comes from
the ``datasets`` cache instead (memory-mapped Arrow), as ``load_dataset`` finds it offline.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Optional

from ..errors import ConfigError, InputError, MissingDependencyError

PREFIX = "hf://datasets/"
HUB_ID = re.compile(r"^[A-Za-z0-9][\w.\-]*/[\w.\-]+$")


def hub_dataset_id(value: str) -> Optional[str]:
    """The Hub id ``value`` names: ``hf://datasets/org/name``, or ``org/name`` when no such local
    file or folder exists and it has no file suffix."""
    if value.startswith(PREFIX):
        return value[len(PREFIX) :].strip("/")
    path = Path(value).expanduser()
    if HUB_ID.match(value) and not path.exists() and not re.search(r"\.[A-Za-z]{2,7}$", value):
        return value
    return None


def pick_split(splits: list[str], split: Optional[str], where: str) -> str:
    """The split to read: ``split=``, or the only one there is."""
    if split is None and len(splits) == 1:
        return splits[0]
    if split not in splits:
        raise ConfigError(
            f"{where} holds the splits {', '.join(splits)}: "
            f"{'add' if split is None else 'use'} split=<one of them>" + (f", not split={split}" if split else "")
        )
    return split


def one_try_per_read(config: Any) -> None:
    """A dropped read is tried again by ``huggingface_hub`` (5 times, 1 to 8 s apart: a blip of
    about 20 s is ridden over); ``datasets`` would try that whole round 20 times more, 5 s
    apart, so a Hub that stays away took many minutes to fail. One round is kept."""
    config.STREAMING_READ_MAX_RETRIES = config.STREAMING_OPEN_MAX_RETRIES = 1


class HubDataset:
    """One split of a Hub dataset: ``rows`` streamed; ``count`` when the dataset card says it
    (else ``None``); ``columns`` from its features."""

    def __init__(self, repo: str, split: Optional[str], subset: Optional[str], offline: bool):
        self.repo, self.where = repo, f"input '{PREFIX}{repo}'"
        try:
            import datasets
        except ImportError:
            raise MissingDependencyError("datasets", f"{self.where} (a Hub dataset)", extra="datasets") from None
        datasets.logging.set_verbosity_error()
        datasets.disable_progress_bars()
        one_try_per_read(datasets.config)
        try:
            loaded = datasets.load_dataset(repo, subset, streaming=not offline)
        except Exception as exc:  # noqa: BLE001 - not found, gated, offline, bad subset: one line
            raise self._error(exc, offline) from None
        self.split = pick_split(list(loaded), split, self.where)
        self.rows = loaded[self.split]
        self.count: Optional[int] = len(self.rows) if offline else self._card_count()
        features = self.rows.features
        self.columns: list[str] = list(features) if features else list(next(iter(self.rows), {}))

    def _card_count(self) -> Optional[int]:
        splits = self.rows.info.splits or {}
        info = splits.get(self.split) if hasattr(splits, "get") else None
        return int(info.num_examples) if info is not None and info.num_examples else None

    def _error(self, exc: Exception, offline: bool) -> Exception:
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0].strip()
        if offline:
            return InputError(
                f"{self.where} is not in the datasets cache and HF_HUB_OFFLINE is set: unset it to stream the "
                f"dataset from the Hub ({first})"
            )
        if "Config name is missing" in first or "BuilderConfig" in first:
            listed = re.search(r"\[(.*)\]", str(exc))
            names = re.findall(r"[\w.\-]+", listed.group(1)) if listed else []
            known = f"; its subsets: {', '.join(names)}" if names else f" ({first})"
            return ConfigError(f"{self.where}: choose its subset with subset=<name>{known}")
        hint = "; for a gated or private dataset set HF_TOKEN" if type(exc).__name__.endswith("NotFoundError") else ""
        if "Couldn't reach" in first:
            hint = "; without a network set HF_HUB_OFFLINE=1 to read it from the datasets cache"
        return InputError(f"{self.where} could not be read from the Hub ({first}){hint}")
