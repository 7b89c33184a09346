"""The Capability contract: what a model can do, declared by a plugin like any other part.

A capability is a name (what a task lists in ``needs``), the backend methods that serve it,
the class that declares those methods' signatures (its protocol: ``Backend`` for the built-in
ones, a plugin's own class for a new one), and whether its main method takes many inputs at
once. The built-in capabilities are declared by the ``taskdeck.plugins.capabilities`` plugin
through ``register_capabilities``, the hook a third-party plugin uses to add one; the core
checks calls against the protocol and lets one call at a time into a shared model, and adds
nothing per capability.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional


@dataclass(frozen=True)
class Capability:
    """One capability: ``methods[0]`` serves it; the others belong with it (``chat_batch``,
    ``seq2seq_info``, ``detokenize`` ...). ``protocol`` declares each method with its typed
    signature; a backend that lists the capability implements them with the same parameters."""

    name: str
    description: str
    methods: tuple[str, ...]
    protocol: Optional[type] = None  # None: taskdeck.Backend declares the methods
    batched: bool = False  # methods[0] takes many inputs in one call
    light: bool = False  # served without the weights (a tokenizer, a file header)

    def declared_by(self) -> type:
        """The class whose methods are this capability's contract."""
        if self.protocol is not None:
            return self.protocol
        from .backends import Backend

        return Backend
