"""Typed results. Tasks return them; formatters write them.

Each result serialises to a plain dict (``to_dict``), offers a tabular view (``rows``)
for table formats, and a short human summary (``summary``) for the terminal.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, ClassVar, Optional


@dataclass
class Result:
    """Base class of all results; ``kind`` names the shape for formatters."""

    kind: ClassVar[str] = "result"

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, **dataclasses.asdict(self)}

    def rows(self) -> list[dict[str, Any]]:
        return [{k: v for k, v in dataclasses.asdict(self).items()}]

    def summary(self) -> str:
        return "\n".join(f"{k}: {v}" for k, v in dataclasses.asdict(self).items())

    def best_label(self) -> Optional[tuple[str, float]]:
        """The best label and its score, for results that label their input (a batch row leads with it)."""
        return None

    def generated_tokens(self) -> int:
        """Tokens the model generated for this result (a batch adds them up for tokens/s)."""
        return 0

    def to_markdown(self) -> Optional[str]:
        """The result's own Markdown report; None: formatters write a heading and a table."""
        return None

    def to_terminal(self, colour: bool) -> str:
        """What the terminal shows; ``colour``: ANSI colours may be used (a terminal that
        wants them). Most results show their ``summary``."""
        return self.summary()

    def to_html(self) -> Optional[str]:
        """The result's own HTML body (e.g. coloured spans); None: the Markdown report is converted."""
        return None


@dataclass
class LabelScore:
    label: str
    score: float


@dataclass
class Labels(Result):
    """Scored labels for one text, best first (classification, sentiment, zero-shot)."""

    kind: ClassVar[str] = "labels"
    text: str
    labels: list[LabelScore]
    method: str = ""  # how the scores were obtained, e.g. "classifier" or "chat-label-scoring"
    multi_label: bool = False  # scores are independent (each in 0..1), not a distribution

    @property
    def top(self) -> LabelScore:
        return self.labels[0]

    def best_label(self) -> Optional[tuple[str, float]]:
        return (self.labels[0].label, self.labels[0].score) if self.labels else None

    def rows(self) -> list[dict[str, Any]]:
        return [{"label": s.label, "score": round(s.score, 4)} for s in self.labels]

    def summary(self) -> str:
        best = self.top
        rest = ", ".join(f"{s.label} {s.score:.3f}" for s in self.labels[1:])
        return f"{best.label} ({best.score:.3f})" + (f"   [{rest}]" if rest else "")


@dataclass
class ImageLabels(Labels):
    """Scored labels for one image, best first (image classification, zero-shot on images)."""

    text: str = ""  # unused: the input is the image
    labels: list[LabelScore] = field(default_factory=list)
    image: str = ""  # the image file
    width: int = 0  # the image's size in pixels, as given
    height: int = 0
    note: str = ""  # what was done to the image to read it (first frame of an animation, downscaled, ...)

    def to_dict(self) -> dict[str, Any]:
        out = super().to_dict()
        del out["text"]
        return out

    def summary(self) -> str:
        return super().summary() + (f"\n({self.note})" if self.note else "")


@dataclass
class Caption(Result):
    """A text written about an image (captioning, or a vision chat model's description)."""

    kind: ClassVar[str] = "generated"
    text: str
    image: str = ""
    method: str = ""
    prompt_tokens: int = 0
    completion_tokens: int = 0
    tokens_per_second: float = 0.0
    finish_reason: str = ""
    note: str = ""
    streamed: bool = False  # the kind's views read it: a caption is never streamed

    def rows(self) -> list[dict[str, Any]]:
        return [{"image": self.image, "text": self.text}]

    def generated_tokens(self) -> int:
        return self.completion_tokens

    def summary(self) -> str:
        return self.text


@dataclass
class DetectedObject:
    """An object found in an image: its label, score and box (pixels of the image as given)."""

    label: str
    score: float
    xmin: int
    ymin: int
    xmax: int
    ymax: int


@dataclass
class Detections(Result):
    """Objects found in one image, best first, and the image with their boxes drawn
    (``annotated``: PNG bytes, not serialised by ``to_dict``; ``output=png`` writes it)."""

    kind: ClassVar[str] = "detections"
    image: str
    objects: list[DetectedObject] = field(default_factory=list)
    width: int = 0
    height: int = 0
    threshold: float = 0.0
    method: str = ""
    note: str = ""
    annotated: Optional[bytes] = None

    @property
    def images(self) -> list[bytes]:
        """What ``output=png`` writes: the annotated image."""
        return [self.annotated] if self.annotated else []

    def to_dict(self) -> dict[str, Any]:
        out = {"kind": self.kind, **dataclasses.asdict(self)}
        del out["annotated"]
        return out

    def best_label(self) -> Optional[tuple[str, float]]:
        return (self.objects[0].label, self.objects[0].score) if self.objects else None

    def rows(self) -> list[dict[str, Any]]:
        return [dataclasses.asdict(o) for o in self.objects]

    def summary(self) -> str:
        if not self.objects:
            return f"(no object scored {self.threshold:g} or more)"
        return "\n".join(f"{o.label}\t{o.score:.3f}\t[{o.xmin}, {o.ymin}, {o.xmax}, {o.ymax}]" for o in self.objects)


@dataclass
class Text(Result):
    """Generated or transformed text."""

    kind: ClassVar[str] = "text"
    text: str

    def summary(self) -> str:
        return self.text


@dataclass
class Generated(Result):
    """Text generated from a source (summary, translation, chat reply), with speed."""

    kind: ClassVar[str] = "generated"
    text: str
    source: str = ""
    method: str = ""
    prompt_tokens: int = 0
    completion_tokens: int = 0
    tokens_per_second: float = 0.0
    finish_reason: str = ""
    streamed: bool = False  # already shown on the terminal token by token

    def rows(self) -> list[dict[str, Any]]:
        return [{"source": self.source, "text": self.text}]

    def generated_tokens(self) -> int:
        return self.completion_tokens

    def summary(self) -> str:
        return "" if self.streamed else self.text


@dataclass
class Entity:
    """A labelled span: ``text[start:end] == word`` always holds (character offsets)."""

    entity: str
    score: float
    start: int
    end: int
    word: str


@dataclass
class Entities(Result):
    """Named entities / token labels found in one text."""

    kind: ClassVar[str] = "entities"
    text: str
    entities: list[Entity]
    method: str = ""

    def rows(self) -> list[dict[str, Any]]:
        return [dataclasses.asdict(e) for e in self.entities]

    def summary(self) -> str:
        if not self.entities:
            return "(no entities)"
        return "\n".join(f"{e.word}\t{e.entity}\t{e.score:.3f}\t[{e.start}:{e.end}]" for e in self.entities)


@dataclass
class Answer:
    """An answer span of the context (``context[start:end] == answer`` for extractive QA)."""

    answer: str
    score: float
    start: int
    end: int


@dataclass
class Answers(Result):
    """Answers to a question, best first; empty when the context holds no answer."""

    kind: ClassVar[str] = "answers"
    question: str
    answers: list[Answer]
    context: str = ""
    method: str = ""

    def rows(self) -> list[dict[str, Any]]:
        return [dataclasses.asdict(a) for a in self.answers] or [{"answer": "", "score": 0.0}]

    def summary(self) -> str:
        if not self.answers:
            return "(no answer in the context)"
        best = self.answers[0]
        rest = "".join(f"\n  {a.answer!r} ({a.score:.3f})" for a in self.answers[1:])
        return f"{best.answer} ({best.score:.3f})" + rest


@dataclass
class Candidate:
    token: str
    score: float
    sequence: str


@dataclass
class FillMask(Result):
    """Candidates for a masked token, best first."""

    kind: ClassVar[str] = "fill_mask"
    text: str
    candidates: list[Candidate]
    method: str = ""

    def rows(self) -> list[dict[str, Any]]:
        return [dataclasses.asdict(c) for c in self.candidates]

    def summary(self) -> str:
        return "\n".join(f"{c.token}\t{c.score:.3f}\t{c.sequence}" for c in self.candidates)


@dataclass
class Section:
    title: str
    rows: list[dict[str, Any]] = field(default_factory=list)
    note: str = ""


@dataclass
class Report(Result):
    """Titled sections of tables (listings, tool outputs)."""

    kind: ClassVar[str] = "report"
    title: str
    sections: list[Section]

    def rows(self) -> list[dict[str, Any]]:
        return [{"section": s.title, **r} for s in self.sections for r in s.rows]

    def summary(self) -> str:
        out = [self.title]
        for s in self.sections:
            out.append(f"\n{s.title}")
            if s.note:
                out.append(f"  {s.note}")
            width = max((len(str(next(iter(r.values()), ""))) for r in s.rows), default=0)
            for r in s.rows:
                items = list(r.items())
                head = f"  {str(items[0][1]):<{width}}"
                if len(items) > 1:
                    head += f"  {items[1][1]}"
                out.append(head)
                pad = " " * (width + 4)
                out += [f"{pad}{k}: {v}" for k, v in items[2:] if v not in ("", None)]
        return "\n".join(out)


@dataclass
class Word:
    """A word with its time span in seconds."""

    start: float
    end: float
    word: str
    probability: float = 0.0


@dataclass
class Segment:
    """A stretch of speech with its time span in seconds (and its words when asked for)."""

    start: float
    end: float
    text: str
    words: list[Word] = field(default_factory=list)
    speaker: str = ""  # filled by a diarization step when one runs


@dataclass
class Transcript(Result):
    """Speech turned into text: the whole text and its timed segments."""

    kind: ClassVar[str] = "transcript"
    text: str
    segments: list[Segment] = field(default_factory=list)
    language: str = ""
    duration: float = 0.0  # seconds of audio
    source: str = ""  # the audio file
    method: str = ""

    def rows(self) -> list[dict[str, Any]]:
        return [
            {"start": round(s.start, 2), "end": round(s.end, 2), **({"speaker": s.speaker} if s.speaker else {}),
             "text": s.text.strip()}
            for s in self.segments
        ]  # fmt: skip

    def turns(self) -> list[tuple[str, str]]:
        """(speaker, text) per run of one speaker's segments; one ("", text) when unlabelled."""
        out: list[tuple[str, str]] = []
        for s in self.segments:
            text = s.text.strip()
            if not text:
                continue
            if out and out[-1][0] == s.speaker:
                out[-1] = (s.speaker, f"{out[-1][1]} {text}")
            else:
                out.append((s.speaker, text))
        return out

    def summary(self) -> str:
        if not any(s.speaker for s in self.segments):
            return self.text.strip()
        return "\n".join(f"{who or '?'}: {text}" for who, text in self.turns())


@dataclass
class Audio(Result):
    """Synthesised or processed audio: mono float32 samples in -1..1 at ``sample_rate``.

    ``samples`` (a numpy array) is not serialised by ``to_dict``: the WAV formatter writes it.
    """

    kind: ClassVar[str] = "audio"
    samples: Any
    sample_rate: int
    text: str = ""
    method: str = ""

    @property
    def duration(self) -> float:
        return len(self.samples) / float(self.sample_rate) if self.sample_rate else 0.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "text": self.text,
            "sample_rate": self.sample_rate,
            "duration_s": round(self.duration, 3),
            "method": self.method,
        }

    def rows(self) -> list[dict[str, Any]]:
        return [{k: v for k, v in self.to_dict().items() if k != "kind"}]

    def summary(self) -> str:
        return f"{self.duration:.2f} s of audio at {self.sample_rate} Hz"


@dataclass
class Images(Result):
    """Generated images as PNG bytes (not serialised by ``to_dict``; the PNG formatter writes them)."""

    kind: ClassVar[str] = "images"
    prompt: str
    images: list[bytes] = field(default_factory=list)
    width: int = 0
    height: int = 0
    seed: Any = None
    method: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "prompt": self.prompt,
            "count": len(self.images),
            "width": self.width,
            "height": self.height,
            "seed": self.seed,
            "method": self.method,
        }

    def rows(self) -> list[dict[str, Any]]:
        return [{k: v for k, v in self.to_dict().items() if k != "kind"}]

    def summary(self) -> str:
        return f"{len(self.images)} image(s), {self.width}x{self.height}"


@dataclass
class Inspection(Result):
    """What a model is made of, without its weights (``task=inspect``): from a transformers
    config on the meta device, or from a GGUF file's header."""

    kind: ClassVar[str] = "inspection"
    model: str
    source: str  # "config" (transformers, meta device) | "gguf" (the file's header)
    architecture: str  # "Qwen2ForCausalLM" | GGUF's general.architecture ("qwen2")
    model_type: str = ""
    dtype: str = ""  # the checkpoint's dtype (config torch_dtype) or the GGUF file's main type
    parameters: int = 0
    #: Parameters per top-level module, in model order (tied weights where first seen):
    #: [{"module": "model.layers", "kind": "28 × Qwen2DecoderLayer", "parameters": n, "note": "tied to ..."}]
    modules: list[dict[str, Any]] = field(default_factory=list)
    tree: str = ""  # the architecture as a tree, repeated blocks folded ("28 × Qwen2DecoderLayer")
    #: Memory to load it per dtype (fp32, bf16, fp16, int8, nf4, nf4 double-quant; GGUF: the file's own first):
    #: [{"dtype": "fp32", "bytes": n, "largest_layer": "model.embed_tokens, lm_head", "largest_layer_bytes": n}]
    memory: list[dict[str, Any]] = field(default_factory=list)
    kv_cache_bytes_per_1000_tokens: Optional[int] = None
    context_length: Optional[int] = None
    vocab_size: Optional[int] = None
    generation_config: dict[str, Any] = field(default_factory=dict)
    chat_template: Optional[str] = None
    #: GGUF files: size, quantization type per tensor group, metadata keys (long arrays summarised)
    gguf: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
