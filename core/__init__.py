"""taskdeck: a deck of plugins over the Hugging Face ecosystem, driven by Hydra.

The public API for plugin authors::

    from taskdeck import hookimpl, Task, Labels, required, param
"""
from .backends import (CHAT, CHAT_JSON, CLASSIFY, DIARIZE, DRAW, EMBED, EXTRACT_ANSWER, FILL_MASK, SCORE_LABELS,
                       SEQ2SEQ, SPEAK, TAG, TRANSCRIBE, ZERO_SHOT, Backend, BackendParams, Generation)
from .context import RunContext
from .errors import (CapabilityError, ConfigError, InputError, MissingDependencyError,
                     ModelNotFoundError, TaskdeckError, UnknownNameError)
from .formatters import Formatter
from .hookspecs import hookimpl
from .models import ModelRef
from .packs import ModelPack, Piece
from .params import param, required
from .results import (Answer, Answers, Audio, Candidate, Entities, Entity, FillMask, Generated, Images,
                      LabelScore, Labels, Report, Result, Section, Segment, Text, Transcript, Word)
from .tasks import Task

__version__ = "0.1.0"

__all__ = [
    "Answer", "Answers", "Audio", "Images", "Segment", "Transcript", "Word", "Candidate", "Entities", "Entity", "EXTRACT_ANSWER", "FILL_MASK", "FillMask",
    "Generated", "SEQ2SEQ", "TAG", "ZERO_SHOT",
    "Backend", "BackendParams", "CHAT", "DIARIZE", "CHAT_JSON", "CLASSIFY", "CapabilityError", "ConfigError",
    "DRAW", "EMBED", "Formatter", "Generation", "InputError", "LabelScore", "Labels",
    "MissingDependencyError", "ModelNotFoundError", "ModelPack", "ModelRef", "Piece", "Report",
    "Result", "RunContext", "SCORE_LABELS", "SPEAK", "Section", "TRANSCRIBE", "Task",
    "TaskdeckError", "Text", "UnknownNameError", "hookimpl", "param", "required",
]
