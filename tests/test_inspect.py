"""task=inspect: tiny random transformers models against their own parameter counts and memory
footprint, the public Llama-3.1-8B config from the config alone, the embedded SmolLM2 GGUF
against the gguf package's reader, and one-line errors for files that are not models."""

import json
import re
from collections import Counter

import pytest
from conftest import REPO, cli

#: Llama-3.1-8B's public config.json (meta-llama/Llama-3.1-8B), as published; the README's example.
LLAMA_31_8B = json.loads((REPO / "examples" / "configs" / "llama-3.1-8b.json").read_text())
LLAMA_31_8B_PARAMETERS = 8_030_261_248


def _tiny(name):
    """(model class, config) of a tiny random model; three layers so that folding shows."""
    import transformers

    if name == "llama":
        config = transformers.LlamaConfig(
            vocab_size=1000, hidden_size=64, intermediate_size=96, num_hidden_layers=3, num_attention_heads=4,
            num_key_value_heads=2, max_position_embeddings=256, tie_word_embeddings=False,
        )  # fmt: skip
        return transformers.LlamaForCausalLM, config, "LlamaDecoderLayer"
    if name == "qwen2-tied":
        config = transformers.Qwen2Config(
            vocab_size=1000, hidden_size=64, intermediate_size=96, num_hidden_layers=3, num_attention_heads=4,
            num_key_value_heads=2, max_position_embeddings=256, tie_word_embeddings=True,
        )  # fmt: skip
        return transformers.Qwen2ForCausalLM, config, "Qwen2DecoderLayer"
    config = transformers.BertConfig(
        vocab_size=1000, hidden_size=32, num_hidden_layers=3, num_attention_heads=2, intermediate_size=37,
        max_position_embeddings=128, num_labels=3,
    )  # fmt: skip
    return transformers.BertForSequenceClassification, config, "BertLayer"


@pytest.fixture(scope="module", params=["llama", "qwen2-tied", "bert-classifier"])
def tiny_model(request, tmp_path_factory):
    """(name, model, saved folder, config-only folder, repeated block class) of a tiny random model."""
    import torch

    cls, config, block = _tiny(request.param)
    torch.manual_seed(0)
    model = cls(config).eval()
    folder = tmp_path_factory.mktemp(f"tiny-{request.param}")
    model.save_pretrained(folder)
    config_only = tmp_path_factory.mktemp(f"config-{request.param}")
    (config_only / "config.json").write_text((folder / "config.json").read_text())
    return request.param, model, folder, config_only, block


def test_tiny_model_counts_and_memory_match_the_loaded_model(run_in_process, tiny_model):
    name, model, folder, _, block = tiny_model
    record, result, _, _ = run_in_process("task=inspect", f"model={folder}")
    assert record["status"] == "ok"
    assert record["models"][0]["backend"] == "transformers"
    assert result.parameters == sum(p.numel() for p in model.parameters())
    assert sum(m["parameters"] for m in result.modules) == result.parameters
    for row in result.modules:
        if row["note"].startswith("tied to"):
            continue
        assert row["parameters"] == sum(p.numel() for p in model.get_submodule(row["module"]).parameters())
    if name == "qwen2-tied":  # the output head shares the embeddings: counted once, where first seen
        assert result.modules[-1] == {
            "module": "lm_head", "kind": "Linear", "parameters": 0, "note": "tied to model.embed_tokens.weight",
        }  # fmt: skip
        assert "lm_head: Linear(64, 1000)  tied to model.embed_tokens.weight" in result.tree
    assert re.search(rf"\b3 × {block}\b", result.tree)
    fp32 = next(m for m in result.memory if m["dtype"] == "fp32")
    assert fp32["bytes"] == model.get_memory_footprint()
    assert [m["dtype"] for m in result.memory] == ["fp32", "bf16", "fp16", "int8", "nf4", "nf4 double-quant"]


def test_a_config_folder_without_weights_inspects_the_same(run_in_process, tiny_model):
    _, _, folder, config_only, _ = tiny_model
    _, full, _, _ = run_in_process("task=inspect", f"model={folder}")
    _, bare, _, _ = run_in_process("task=inspect", f"model={config_only}")
    assert (bare.parameters, bare.modules, bare.tree, bare.memory) == (
        full.parameters,
        full.modules,
        full.tree,
        full.memory,
    )


def test_llama_31_8b_from_its_config_alone(run_in_process, tmp_path):
    path = tmp_path / "Meta-Llama-3.1-8B.json"  # any name: a .json holding a config
    path.write_text(json.dumps(LLAMA_31_8B))
    record, result, _, out = run_in_process("task=inspect", f"model={path}")
    assert record["status"] == "ok"
    assert result.parameters == LLAMA_31_8B_PARAMETERS
    assert (result.architecture, result.dtype, result.context_length, result.vocab_size) == (
        "LlamaForCausalLM", "bfloat16", 131072, 128256,
    )  # fmt: skip
    assert result.kv_cache_bytes_per_1000_tokens == 2 * 32 * 8 * 128 * 2 * 1000
    assert [m["module"] for m in result.modules] == ["model.embed_tokens", "model.layers", "model.norm", "lm_head"]
    assert "layers: 32 × LlamaDecoderLayer" in result.tree
    assert result.generation_config == {"bos_token_id": 128000, "eos_token_id": 128001}

    # Memory, rule by rule: P parameters, B float buffer elements (the rotary frequencies).
    memory = {m["dtype"]: m for m in result.memory}
    buffers, rest = divmod(memory["fp32"]["bytes"] - 4 * LLAMA_31_8B_PARAMETERS, 4)
    assert rest == 0 and 0 < buffers < 1000
    assert memory["bf16"]["bytes"] == memory["fp16"]["bytes"] == 2 * (LLAMA_31_8B_PARAMETERS + buffers)
    assert memory["fp32"]["largest_layer"] == "model.embed_tokens, lm_head"
    assert memory["fp32"]["largest_layer_bytes"] == 4 * 128256 * 4096
    # int8 and nf4 quantize the decoder's Linear weights only; lm_head and the rest stay 16-bit.
    linear = 32 * (2 * 4096 * 4096 + 2 * 1024 * 4096 + 3 * 4096 * 14336)
    rows = 32 * (4096 + 1024 + 1024 + 4096 + 14336 + 14336 + 4096)
    sixteen_bit = 2 * (LLAMA_31_8B_PARAMETERS - linear + buffers)
    assert memory["int8"]["bytes"] == linear + 4 * rows + sixteen_bit
    assert memory["nf4"]["bytes"] == linear // 2 + linear // 64 * 4 + sixteen_bit
    blocks = [n // 64 for n in [4096 * 4096, 1024 * 4096, 1024 * 4096, 4096 * 4096] + [4096 * 14336] * 3]
    double_quant = 32 * sum(b + -(-b // 256) * 4 for b in blocks)
    assert memory["nf4 double-quant"]["bytes"] == linear // 2 + double_quant + sixteen_bit
    assert "lm_head" in next(n for n in result.notes if n.startswith("Memory int8/nf4"))

    # The terminal view: the accelerate-style memory table and the folded tree.
    summary = result.summary()
    assert re.search(r"│ dtype +│ Largest Layer +│ Total Size │", summary)
    assert re.search(r"│ bf16 +│ 1002 MiB \(model.embed_tokens, lm_head\) │ 15.0 GiB +│", summary)
    assert "8,030,261,248" in summary


def test_generation_config_and_chat_template_come_from_the_files_beside_the_config(run_in_process, tmp_path):
    (tmp_path / "config.json").write_text(json.dumps(LLAMA_31_8B))
    generation = {"do_sample": True, "temperature": 0.6, "top_p": 0.9, "transformers_version": "4.43.0"}
    (tmp_path / "generation_config.json").write_text(json.dumps(generation))
    templates = [{"name": "default", "template": "{{ messages }}"}, {"name": "tool_use", "template": "tools"}]
    (tmp_path / "tokenizer_config.json").write_text(json.dumps({"chat_template": templates}))
    _, result, _, _ = run_in_process("task=inspect", f"model={tmp_path}")
    assert result.generation_config == {"do_sample": True, "temperature": 0.6, "top_p": 0.9}
    assert result.chat_template == "{{ messages }}"
    (tmp_path / "chat_template.jinja").write_text("{% for m in messages %}{{ m.content }}{% endfor %}")
    _, result, _, _ = run_in_process("task=inspect", f"model={tmp_path}")
    assert result.chat_template == "{% for m in messages %}{{ m.content }}{% endfor %}"


def test_depth_limits_the_tree(run_in_process, tmp_path):
    path = tmp_path / "config.json"
    path.write_text(json.dumps(LLAMA_31_8B))
    _, result, _, _ = run_in_process("task=inspect", f"model={path}", "depth=2")
    assert "layers: 32 × LlamaDecoderLayer" in result.tree
    assert "self_attn" not in result.tree
    assert "deeper lines hidden: depth=3" in result.tree


@pytest.fixture(scope="module")
def smollm2(session):
    """The embedded SmolLM2 GGUF and the gguf package's reading of it."""
    from gguf import GGUFReader

    path = session.packs.get("smollm2-135m").path()
    return path, GGUFReader(path)


def test_gguf_header_reader_matches_the_gguf_package(smollm2):
    from taskdeck.helpers.gguf import read_header

    path, reader = smollm2
    header = read_header(path)
    theirs = {k: f.contents() for k, f in reader.fields.items() if not k.startswith("GGUF.")}
    assert list(header.metadata) == list(theirs)
    for key, value in theirs.items():
        ours = header.metadata[key]
        assert ours == (pytest.approx(value) if isinstance(value, float) else value), key
    assert [(t.name, t.type, list(t.shape), t.n_elements) for t in header.tensors] == [
        (t.name, t.tensor_type.name, [int(d) for d in t.shape], int(t.n_elements)) for t in reader.tensors
    ]
    assert [t.n_bytes for t in header.tensors] == [int(t.n_bytes) for t in reader.tensors]
    assert header.data_offset == reader.data_offset
    assert header.version == reader.fields["GGUF.version"].contents()


def test_gguf_pack_inspects_from_its_header(run_in_process, smollm2):
    path, reader = smollm2
    record, result, _, _ = run_in_process("task=inspect", "model=smollm2-135m")
    assert record["models"][0]["backend"] == "llama_cpp"  # backend=auto: GGUF goes to llama.cpp
    assert (result.source, result.architecture) == ("gguf", "llama")
    assert result.context_length == reader.fields["llama.context_length"].contents() == 8192
    assert result.vocab_size == len(reader.fields["tokenizer.ggml.tokens"].contents())
    assert result.parameters == sum(int(t.n_elements) for t in reader.tensors)
    groups: dict[str, Counter] = {}
    for t in reader.tensors:
        groups.setdefault(re.sub(r"^blk\.\d+\.", "", t.name), Counter())[t.tensor_type.name] += 1
    assert result.gguf["tensor_groups"] == {g: dict(c) for g, c in groups.items()}
    assert result.gguf["tensor_groups"]["attn_q.weight"] == {"Q4_1": 30}
    assert result.gguf["file_size"] == path.stat().st_size
    assert result.gguf["tokenizer_model"] == "gpt2"
    assert result.gguf["metadata"]["tokenizer.ggml.tokens"] == "array of 49,152 strings"
    assert result.chat_template == reader.fields["tokenizer.chat_template"].contents()
    # 30 blocks × 3 KV heads × (64 + 64) dims × 2 bytes × 1,000 tokens
    assert result.kv_cache_bytes_per_1000_tokens == 30 * 3 * 128 * 2 * 1000
    assert "blk: 30 × block" in result.tree
    gguf_row = result.memory[0]
    assert gguf_row["dtype"] == "gguf Q4_1"
    assert gguf_row["bytes"] == sum(int(t.n_bytes) for t in reader.tensors)


def test_gguf_on_the_transformers_backend_reads_the_same_header(run_in_process):
    _, on_llama, _, _ = run_in_process("task=inspect", "model=smollm2-135m")
    _, on_transformers, _, _ = run_in_process("task=inspect", "model=smollm2-135m", "backend=transformers")
    assert on_transformers.to_dict() == on_llama.to_dict()


def test_truncated_or_foreign_files_are_one_clear_error(smollm2, tmp_path):
    from taskdeck.helpers.gguf import GGUFError, read_header

    path, _ = smollm2
    data = path.read_bytes()
    header_end = read_header(path).data_offset
    cases = {
        "header.gguf": (data[:1000], "is truncated: its GGUF header"),
        "data.gguf": (data[: header_end + 4096], "is truncated: its tensors end"),
        "text.gguf": (b"this is a text file, not a model\n", "is not a GGUF file"),
        "empty.gguf": (b"", "is not a GGUF file"),
    }
    for name, (content, message) in cases.items():
        (tmp_path / name).write_bytes(content)
        with pytest.raises(GGUFError, match=message) as caught:
            read_header(tmp_path / name)
        assert "\n" not in str(caught.value)


def test_cli_prints_the_summary(tmp_path):
    done = cli("task=inspect", "model=smollm2-135m", tmp_path=tmp_path)
    assert done.returncode == 0, done.stderr
    for shown in ("134,515,008", "blk: 30 × block", "Memory to load", "│ gguf Q4_1 │", "Chat template"):
        assert shown in done.stdout
    assert json.loads((tmp_path / "run" / "inspect.json").read_text())["parameters"] == 134_515_008
    assert (tmp_path / "run" / "inspect.md").read_text().startswith("# Inspection: smollm2-135m")


def test_cli_a_json_that_is_not_a_config_is_one_line(tmp_path):
    path = tmp_path / "data.json"
    path.write_text(json.dumps({"rows": [1, 2, 3]}))
    done = cli("task=inspect", f"model={path}", tmp_path=tmp_path)
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "is not a transformers config" in lines[0] and "model_type" in lines[0]
