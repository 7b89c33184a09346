"""Name → object registries that refuse duplicates and explain unknown names."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Generic, TypeVar

from .errors import DuplicateNameError, UnknownNameError

T = TypeVar("T")


class Registry(Generic[T]):
    """A mapping from names to registered objects of one kind (task, backend, ...).

    ``add`` raises :class:`DuplicateNameError` on a second registration of a name;
    ``get`` raises :class:`UnknownNameError` listing the choices and the nearest match.
    An alias (``add_alias``) is a second name ``get`` answers to; ``names`` lists no alias.
    """

    def __init__(self, what: str):
        self.what = what  # what it holds, for messages: "task", "backend", ...
        self._items: dict[str, T] = {}
        self._owners: dict[str, str] = {}
        self._aliases: dict[str, str] = {}

    def add(self, name: str, item: T, owner: str = "?") -> None:
        if not name or not isinstance(name, str):
            raise DuplicateNameError(f"{self.what} from plugin '{owner}' has no name")
        self._refuse_taken(name, owner)
        self._items[name] = item
        self._owners[name] = owner

    def add_alias(self, alias: str, name: str, owner: str = "?") -> None:
        """``alias`` answers for the registered ``name`` (``question-answering`` for ``qa``)."""
        self._refuse_taken(alias, owner)
        self._aliases[alias] = name
        self._owners[alias] = owner

    def _refuse_taken(self, name: str, owner: str) -> None:
        if name in self:
            raise DuplicateNameError(
                f"{self.what} '{name}' is registered twice: by plugin '{self._owners[name]}' "
                f"and by plugin '{owner}'; rename one or disable a plugin with TASKDECK_PLUGINS"
            )

    def canonical(self, name: str) -> str:
        """The registered name ``name`` stands for (itself unless it is an alias)."""
        return self._aliases.get(name, name)

    def aliases(self, name: str | None = None) -> list[str]:
        """The aliases of ``name`` (of every name when None), sorted."""
        return sorted(a for a, n in self._aliases.items() if name is None or n == name)

    def get(self, name: str, hint: str = "") -> T:
        try:
            return self._items[self.canonical(name)]
        except KeyError:
            raise UnknownNameError(self.what, name, self._items, hint, aliases=self._aliases) from None

    def owner(self, name: str) -> str:
        return self._owners[name]

    def names(self) -> list[str]:
        return sorted(self._items)

    def __contains__(self, name: object) -> bool:
        return name in self._items or name in self._aliases

    def __iter__(self) -> Iterator[str]:
        return iter(self.names())

    def __len__(self) -> int:
        return len(self._items)

    def items(self) -> list[tuple[str, T]]:
        return [(n, self._items[n]) for n in self.names()]
