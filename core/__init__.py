"""taskdeck: a deck of plugins over the Hugging Face ecosystem, driven by Hydra.

The public API for plugin authors::

    from taskdeck import hookimpl, Task, Labels, required, param

``PLUGIN_API`` is the version of that API (``docs/plugin-api.md``: the public names, the
compatibility policy and the changelog).

The layers, each a package: ``taskdeck`` (this one: contracts and engine), ``taskdeck.helpers``
(services plugins share), ``taskdeck.evaluation`` (eval= metrics), ``taskdeck.comparison``
(multirun tables), ``taskdeck.plugins`` (built-in plugins) and ``taskdeck.app`` (the command line).
"""

from .backends import (
    CAPTION,
    CHAT,
    CHAT_JSON,
    CLASSIFY,
    CLASSIFY_IMAGE,
    DETECT,
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
    VISION_CHAT,
    ZERO_SHOT,
    ZERO_SHOT_IMAGE,
    AnswerSpan,
    Backend,
    BackendParams,
    Box,
    Completion,
    Detection,
    EntitySpan,
    MaskFill,
    Message,
    Seq2SeqInfo,
    SpecialToken,
    Token,
    Turn,
    Vocabulary,
)
from .capabilities import Capability
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
from .io import atomic_write_bytes, atomic_write_text
from .models import ModelRef
from .packs import ModelPack, Piece
from .params import param, required
from .plugin_api import PLUGIN_API, PluginAPIWarning, PluginContractError
from .results import (
    Answer,
    Answers,
    Audio,
    Candidate,
    Caption,
    DetectedObject,
    Detections,
    Entities,
    Entity,
    FillMask,
    Generated,
    ImageLabels,
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
    "PLUGIN_API",
    "PluginAPIWarning",
    "PluginContractError",
    "CHAT",
    "CHAT_JSON",
    "VISION_CHAT",
    "DETECT",
    "CAPTION",
    "ZERO_SHOT_IMAGE",
    "CLASSIFY_IMAGE",
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
    "Box",
    "Candidate",
    "Caption",
    "DetectedObject",
    "Capability",
    "CapabilityError",
    "Catalog",
    "Completion",
    "Detection",
    "Detections",
    "ConfigError",
    "Entities",
    "Entity",
    "EntitySpan",
    "FillMask",
    "Formatter",
    "Generated",
    "ImageLabels",
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
    "atomic_write_bytes",
    "atomic_write_text",
    "hookimpl",
    "param",
    "required",
]
