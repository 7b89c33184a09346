"""The built-in capabilities, declared through the hook a third-party plugin uses for its own.

Their methods are declared, typed, on :class:`taskdeck.Backend` (``core/backends.py``), except
``voiceprint``'s, which its protocol declares (:mod:`taskdeck.helpers.voices`).
"""

from taskdeck import (
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
    Capability,
    hookimpl,
)
from taskdeck.helpers.voices import VOICEPRINT, Voiceprints

BUILTIN = (
    Capability(CHAT, "answer a conversation", ("chat", "chat_batch")),
    Capability(CHAT_JSON, "answer a conversation as JSON a schema constrains", ("chat", "chat_batch")),
    Capability(VISION_CHAT, "answer a conversation whose user turns hold images", ("chat",)),
    Capability(SCORE_LABELS, "the log-probability of each label as the answer", ("score_labels",)),
    Capability(CLASSIFY, "labels of a sequence classifier", ("classify",), batched=True),
    Capability(ZERO_SHOT, "labels named at run time, through an NLI model", ("zero_shot",), batched=True),
    Capability(TAG, "entity spans of a token classifier", ("tag",), batched=True),
    Capability(EXTRACT_ANSWER, "answer spans in a context", ("extract_answer",), batched=True),
    Capability(SEQ2SEQ, "text to text (summaries, translations)", ("seq2seq", "seq2seq_info"), batched=True),
    Capability(FILL_MASK, "candidates for a masked word", ("fill_mask",), batched=True),
    Capability(EMBED, "a vector per text", ("embed",), batched=True),
    Capability(TRANSCRIBE, "speech to text", ("transcribe",)),
    Capability(SPEAK, "text to speech", ("speak",)),
    Capability(DRAW, "text to image", ("draw",)),
    Capability(DIARIZE, "who spoke when", ("diarize",)),
    Capability(VOICEPRINT, "a voice embedding per speaker of a diarized recording", ("voiceprints",), Voiceprints),
    Capability(
        TOKENIZE,
        "the model's tokenizer alone",
        ("tokenize", "detokenize", "spell", "vocabulary", "render_chat"),
        light=True,
    ),
    Capability(INSPECT, "what the model is made of, from its config or file header", ("inspect",), light=True),
    Capability(CLASSIFY_IMAGE, "labels of an image classifier", ("classify_image",), batched=True),
    Capability(ZERO_SHOT_IMAGE, "labels named at run time, through CLIP", ("zero_shot_image",), batched=True),
    Capability(CAPTION, "a caption per image", ("caption",), batched=True),
    Capability(DETECT, "objects and their boxes per image", ("detect",), batched=True),
)


@hookimpl
def register_capabilities(register):
    for capability in BUILTIN:
        register(capability)
