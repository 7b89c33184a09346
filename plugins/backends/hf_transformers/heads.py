"""What a transformers model is, read from its ``config.json`` without loading weights: its
head (``sequence-classification``, ``causal-lm``, ...), the Auto class that loads it and the
capabilities it offers."""

from __future__ import annotations

from taskdeck import (
    CAPTION,
    CHAT,
    CLASSIFY,
    CLASSIFY_IMAGE,
    DETECT,
    EMBED,
    EXTRACT_ANSWER,
    FILL_MASK,
    SCORE_LABELS,
    SEQ2SEQ,
    SPEAK,
    TAG,
    TRANSCRIBE,
    ZERO_SHOT,
    ZERO_SHOT_IMAGE,
)

from .speech import speech_head

#: The Auto class that loads each head (speech heads load through their pipelines).
AUTO_CLASSES = {
    "sequence-classification": "AutoModelForSequenceClassification",
    "token-classification": "AutoModelForTokenClassification",
    "question-answering": "AutoModelForQuestionAnswering",
    "masked-lm": "AutoModelForMaskedLM",
    "seq2seq": "AutoModelForSeq2SeqLM",
    "causal-lm": "AutoModelForCausalLM",
    "feature-extraction": "AutoModel",
}
SPEECH_HEADS = ("speech-recognition", "text-to-speech")
#: Vision heads load with their image processor (and tokenizer) through ``vision.load``.
VISION_HEADS = {
    "image-classification": "AutoModelForImageClassification",
    "zero-shot-image-classification": "AutoModelForZeroShotImageClassification",
    "image-to-text": "AutoModelForImageTextToText",
    "object-detection": "AutoModelForObjectDetection",
}
#: Captioners: encoder-decoders and generators that write text from pixels alone.
_CAPTIONERS = (
    "VisionEncoderDecoderModel",
    "BlipForConditionalGeneration",
    "Blip2ForConditionalGeneration",
    "GitForCausalLM",
    "Pix2StructForConditionalGeneration",
)
_CAPABILITIES = {
    "token-classification": (TAG,),
    "question-answering": (EXTRACT_ANSWER,),
    "masked-lm": (FILL_MASK,),
    "seq2seq": (SEQ2SEQ,),
    "causal-lm": (CHAT, SCORE_LABELS),
    "feature-extraction": (EMBED,),
    "speech-recognition": (TRANSCRIBE,),
    "text-to-speech": (SPEAK,),
    "image-classification": (CLASSIFY_IMAGE,),
    "zero-shot-image-classification": (ZERO_SHOT_IMAGE,),
    "image-to-text": (CAPTION,),
    "object-detection": (DETECT,),
}


def model_head(config: dict) -> str:
    """The head a config describes (``unknown`` when taskdeck has no use for it)."""
    archs = config.get("architectures") or []
    vision = _vision_head(config, archs)
    if vision:
        return vision
    suffixes = [
        ("ForSequenceClassification", "sequence-classification"),
        ("ForTokenClassification", "token-classification"),
        ("ForQuestionAnswering", "question-answering"),
        ("ForMaskedLM", "masked-lm"),
    ]
    for suffix, head in suffixes:
        if any(a.endswith(suffix) for a in archs):
            return head
    speech = speech_head(config)
    if speech:
        return speech
    if config.get("is_encoder_decoder"):
        return "seq2seq"
    if any(a.endswith(("ForCausalLM", "LMHeadModel", "ForConditionalGeneration")) for a in archs):
        return "causal-lm"
    if any(a.endswith("Model") for a in archs):  # a bare encoder: sentence embeddings
        return "feature-extraction"
    return "unknown"


def _vision_head(config: dict, archs: list) -> str:
    """A vision head: image classifiers, detectors, captioners, and CLIP-style dual encoders
    (a bare model with a text and a vision tower)."""
    if any(a.endswith(("ForImageClassification", "ForImageClassificationWithTeacher")) for a in archs):
        return "image-classification"
    if any(a.endswith("ForObjectDetection") for a in archs):
        return "object-detection"
    if any(a in _CAPTIONERS for a in archs) or config.get("model_type") == "vision-encoder-decoder":
        return "image-to-text"
    if "text_config" in config and "vision_config" in config and any(a.endswith("Model") for a in archs):
        return "zero-shot-image-classification"
    return ""


def head_capabilities(head: str, config: dict) -> set[str]:
    """What a model with this head offers; a sequence classifier with an entailment label is
    an NLI model and does zero-shot classification too."""
    if head == "sequence-classification":
        labels = [str(v).lower() for v in (config.get("id2label") or {}).values()]
        return {CLASSIFY, ZERO_SHOT} if any(v.startswith("entail") for v in labels) else {CLASSIFY}
    return set(_CAPABILITIES.get(head, ()))
