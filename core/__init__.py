"""taskdeck: a deck of plugins over the Hugging Face ecosystem, driven by Hydra.

The public API for plugin authors::

    from taskdeck import hookimpl, Task, Labels, required, param
"""
from .backends import (CHAT, CHAT_JSON, CLASSIFY, DRAW, EMBED, SCORE_LABELS, SPEAK, TRANSCRIBE,
                       Backend, BackendParams, Generation)
from .context import RunContext
from .errors import (CapabilityError, ConfigError, InputError, MissingDependencyError,
                     ModelNotFoundError, TaskdeckError, UnknownNameError)
from .formatters import Formatter
from .hookspecs import hookimpl
from .models import ModelRef
from .packs import ModelPack, Piece
from .params import param, required
from .results import LabelScore, Labels, Report, Result, Section, Text
from .tasks import Task

__version__ = "0.1.0"

__all__ = [
    "Backend", "BackendParams", "CHAT", "CHAT_JSON", "CLASSIFY", "CapabilityError", "ConfigError",
    "DRAW", "EMBED", "Formatter", "Generation", "InputError", "LabelScore", "Labels",
    "MissingDependencyError", "ModelNotFoundError", "ModelPack", "ModelRef", "Piece", "Report",
    "Result", "RunContext", "SCORE_LABELS", "SPEAK", "Section", "TRANSCRIBE", "Task",
    "TaskdeckError", "Text", "UnknownNameError", "hookimpl", "param", "required",
]
