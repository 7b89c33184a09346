"""taskdeck: a deck of plugins over the Hugging Face ecosystem, driven by Hydra.

The public API for plugin authors::

    from taskdeck import hookimpl, Task, Labels, required, param

The layers, each a package: ``taskdeck`` (this one: contracts and engine), ``taskdeck.helpers``
(services plugins share), ``taskdeck.evaluation`` (eval= metrics), ``taskdeck.comparison``
(multirun tables), ``taskdeck.plugins`` (built-in plugins) and ``taskdeck.app`` (the command line).
"""

from .backends import (
    CHAT,
    CHAT_JSON,
    CLASSIFY,
    DIARIZE,
    DRAW,
    EMBED,
    EXTRACT_ANSWER,
    FILL_MASK,
    INSPECT,
    SCORE_LABELS,
    SEQ2SEQ,
    SPEAK,
    TAG,
    TOKENIZE,
    TRANSCRIBE,
    ZERO_SHOT,
    AnswerSpan,
    Backend,
    BackendParams,
    Completion,
    EntitySpan,
    MaskFill,
    Message,
    Seq2SeqInfo,
    SpecialToken,
    Token,
    Turn,
    Vocabulary,
)
from .context import Catalog, RunContext
from .errors import (
    CapabilityError,
    ConfigError,
    InputError,
    MissingDependencyError,
    ModelNotFoundError,
    TaskdeckError,
    UnknownNameError,
)
from .formatters import Formatter
from .hookspecs import hookimpl
from .models import ModelRef
from .packs import ModelPack, Piece
from .params import param, required
from .results import (
    Answer,
    Answers,
    Audio,
    Candidate,
    Entities,
    Entity,
    FillMask,
    Generated,
    Images,
    Inspection,
    Labels,
    LabelScore,
    Report,
    Result,
    Section,
    Segment,
    Text,
    Transcript,
    Word,
)
from .scoring import Metric
from .tasks import Model, Task

__version__ = "0.1.0"

__all__ = [
    "CHAT",
    "CHAT_JSON",
    "CLASSIFY",
    "DIARIZE",
    "DRAW",
    "EMBED",
    "EXTRACT_ANSWER",
    "FILL_MASK",
    "INSPECT",
    "SCORE_LABELS",
    "SEQ2SEQ",
    "SPEAK",
    "TAG",
    "TOKENIZE",
    "TRANSCRIBE",
    "ZERO_SHOT",
    "Answer",
    "AnswerSpan",
    "Answers",
    "Audio",
    "Backend",
    "BackendParams",
    "Candidate",
    "CapabilityError",
    "Catalog",
    "Completion",
    "ConfigError",
    "Entities",
    "Entity",
    "EntitySpan",
    "FillMask",
    "Formatter",
    "Generated",
    "Images",
    "InputError",
    "Inspection",
    "LabelScore",
    "Labels",
    "MaskFill",
    "Message",
    "Metric",
    "MissingDependencyError",
    "Model",
    "ModelNotFoundError",
    "ModelPack",
    "ModelRef",
    "Piece",
    "Report",
    "Result",
    "RunContext",
    "Section",
    "Segment",
    "Seq2SeqInfo",
    "SpecialToken",
    "Task",
    "TaskdeckError",
    "Text",
    "Token",
    "Transcript",
    "Turn",
    "UnknownNameError",
    "Vocabulary",
    "Word",
    "hookimpl",
    "param",
    "required",
]
