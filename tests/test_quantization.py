"""backend.quantization (bitsandbytes) and backend.device_map (accelerate) on the transformers
backend, on CPU: real bitsandbytes layers, the footprint in result.json, disk offload, and the
one-line errors."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from conftest import REPO, cli
from conftest import tiny_llama as build_tiny_llama

pytest.importorskip("bitsandbytes", reason="backend.quantization needs bitsandbytes (taskdeck[quantization])")

PROMPT = "prompt='Say something.'"
GREEDY = ("temperature=0", "max_new_tokens=8")


@pytest.fixture(scope="module")
def tiny_llama(tmp_path_factory, smollm2_tokenizer):
    """A random 2-layer Llama with SmolLM2's tokenizer: hidden size 64 (bitsandbytes' 4-bit CPU
    kernel takes rows in blocks of 64), tied embeddings and wide MLPs so that a device map can
    put the embeddings and a layer on the CPU and the rest on disk; a larger init than usual
    so greedy decoding writes varied tokens, not one token repeated."""
    return build_tiny_llama(
        smollm2_tokenizer,
        tmp_path_factory.mktemp("tiny-llama-wide"),
        hidden_size=64,
        intermediate_size=8192,
        tie_word_embeddings=True,
        initializer_range=0.2,
    )


@pytest.fixture(scope="module")
def plain_run(tiny_llama, session, compose, tmp_path_factory):
    """The unquantized, undispatched run: its result.json record."""
    from taskdeck.engine.runner import Runner

    cfg = compose(["quiet=true", "task=chat", f"model={tiny_llama}", "backend=transformers", PROMPT, *GREEDY])
    return Runner(session, cfg, tmp_path_factory.mktemp("plain")).run()


@pytest.mark.parametrize("quantization", ["int8", "nf4", "fp4"])
def test_quantized_model_generates_on_bitsandbytes_layers(quantization, tiny_llama, plain_run, run_in_process, session):
    import bitsandbytes as bnb

    from taskdeck import CHAT
    from taskdeck.engine.session_context import SessionContext
    from taskdeck.plugins.backends.hf_transformers import TransformersParams

    overrides = ("task=chat", f"model={tiny_llama}", "backend=transformers", f"backend.quantization={quantization}")
    record, result, _, _ = run_in_process(*overrides, PROMPT, *GREEDY)
    assert record["status"] == "ok" and result.completion_tokens == 8
    used, plain = record["models"][0], plain_run["models"][0]
    assert used["quantization"] == quantization and plain["quantization"] == "none"
    assert used["memory_footprint_mb"] < plain["memory_footprint_mb"] / 2  # 24.1 MiB fp32 → 9.0 int8, 7.5 4-bit
    assert record["metrics"]["peak_rss_mb"] > 0

    ctx = SessionContext(session, TransformersParams(quantization=quantization, threads=1), quiet=True)
    try:
        backend = ctx.model(str(tiny_llama), needs=[CHAT]).backend
        layer = backend.hf_model.model.layers[0].mlp.down_proj
        if quantization == "int8":
            assert isinstance(layer, bnb.nn.Linear8bitLt)
        else:
            assert isinstance(layer, bnb.nn.Linear4bit)
            state = layer.weight.quant_state
            assert state.quant_type == quantization and state.nested  # nested: double quantization
    finally:
        ctx.close()


def test_device_map_offloads_to_disk_and_decodes_the_same(tiny_llama, plain_run, run_in_process):
    record, result, _, _ = run_in_process(
        "task=chat",
        f"model={tiny_llama}",
        "backend=transformers",
        "backend.device_map=auto",
        "backend.max_memory={cpu:22MiB}",  # the embeddings (12 MiB) and a layer; the rest to disk
        PROMPT,
        *GREEDY,
    )
    used = record["models"][0]
    assert used["device_map"].keys() == {"cpu", "disk"}
    assert used["weights_mb_by_device"]["disk"] > 0
    assert len(set(result.text.split())) > 2  # varied tokens, not one repeated
    assert result.text == plain_run["result"]["text"]
    assert not _offload_folders(tiny_llama)  # the default folder goes with the model


def _offload_folders(model_dir) -> list:
    """Default offload folders (taskdeck's cache) left for the model in ``model_dir``."""
    from taskdeck.packs import cache_dir

    return list((cache_dir() / "offload").glob(f"*{model_dir.parent.name}-{model_dir.name}-*"))


GGUF_Q = "already quantized (Q4_1): drop backend.quantization, or give a transformers checkpoint"
ON_LLAMA_CPP = "backend.quantization is an option of backend=transformers, not of the backend chosen"
ERRORS = {
    "gguf-on-transformers": (["model=smollm2-135m", "backend=transformers", "backend.quantization=nf4"], GGUF_Q),
    "llama-cpp": (["model=smollm2-135m", "backend=llama_cpp", "backend.quantization=nf4"], "llama_cpp a GGUF file"),
    "auto": (["model=smollm2-135m", "backend.quantization=int8"], ON_LLAMA_CPP),
    "bad-choice": (["backend=transformers", "backend.quantization=int4"], "use one of none, int8, nf4, fp4"),
    "no-cuda": (["backend=transformers", "backend.device_map=cuda"], "device_map=cuda: this machine has no CUDA"),
    "no-gpu-0": (["backend=transformers", "backend.device_map=auto", "backend.max_memory={0:1GiB}"], "names GPU 0"),
    "memory-alone": (["backend=transformers", "backend.max_memory={cpu:1GiB}"], "needs backend.device_map="),
    "all-on-disk": (
        ["backend=transformers", "backend.device_map=auto", "backend.max_memory={cpu:1MiB}"],
        "puts the whole model on disk",
    ),
    "quantized-offload": (
        ["backend=transformers", "backend.quantization=nf4", "backend.device_map=auto", "backend.max_memory={cpu:1MB}"],
        "quantized weights must all fit on the device",
    ),
}


@pytest.mark.parametrize("case", list(ERRORS))
def test_one_line_errors(case, tiny_llama, tmp_path):
    args, expected = ERRORS[case]
    model = [] if any(a.startswith("model=") for a in args) else [f"model={tiny_llama}"]
    proc = cli("task=chat", "prompt=hi", *model, *args, tmp_path=tmp_path)
    _assert_one_line(proc, expected)
    assert not _offload_folders(tiny_llama)  # a failed load leaves none either


def test_cpu_without_avx2_is_one_line(tiny_llama, tmp_path):
    # ATEN_CPU_CAPABILITY=default makes torch (and bitsandbytes, which asks torch) see no AVX2
    args = ("task=chat", "prompt=hi", f"model={tiny_llama}", "backend=transformers", "backend.quantization=nf4")
    proc = cli(*args, tmp_path=tmp_path, env={"ATEN_CPU_CAPABILITY": "default"})
    _assert_one_line(proc, "bitsandbytes needs a CPU with AVX2")


def test_4bit_layers_the_cpu_kernel_cannot_tile_are_refused_at_load(tiny_llama, session, tmp_path):
    import torch
    from bitsandbytes.functional import has_avx512bf16
    from transformers import LlamaConfig, LlamaForCausalLM

    from taskdeck import CHAT, CapabilityError
    from taskdeck.engine.session_context import SessionContext
    from taskdeck.plugins.backends.hf_transformers import TransformersParams

    if not has_avx512bf16():
        pytest.skip("only bitsandbytes' AVX512-BF16 CPU kernel repacks 4-bit weights in 64-wide blocks")
    narrow = LlamaConfig.from_pretrained(tiny_llama)
    narrow.hidden_size, narrow.intermediate_size = 32, 64  # a real model's widths are multiples of 64
    torch.manual_seed(0)
    LlamaForCausalLM(narrow).save_pretrained(tmp_path)
    for name in ("tokenizer.json", "tokenizer_config.json"):
        (tmp_path / name).write_bytes((tiny_llama / name).read_bytes())
    ctx = SessionContext(session, TransformersParams(quantization="fp4"), quiet=True)
    with pytest.raises(CapabilityError, match="has 32 inputs and 64 outputs: use backend.quantization=int8"):
        ctx.model(str(tmp_path), needs=[CHAT])
    ctx.close()


def test_missing_bitsandbytes_names_the_extra(tiny_llama, tmp_path):
    # a None entry in sys.modules is how Python marks a module as not importable
    code = "import sys; sys.modules['bitsandbytes'] = None; from taskdeck.app import main; main()"
    args = ["task=chat", "prompt=hi", f"model={tiny_llama}", "backend=transformers", "backend.quantization=int8"]
    proc = subprocess.run(
        [sys.executable, "-c", code, *args, f"hydra.run.dir={tmp_path / 'run'}"],
        cwd=REPO,
        env={**_env(), "HF_HUB_OFFLINE": "1"},
        capture_output=True,
        text=True,
        timeout=300,
    )
    _assert_one_line(proc, "needs the package 'bitsandbytes': pip install 'taskdeck[quantization]'")


def _env() -> dict:
    import os

    return {k: v for k, v in os.environ.items() if k not in ("HYDRA_FULL_ERROR", "TASKDECK_TRACEBACK")}


def _assert_one_line(proc: subprocess.CompletedProcess, expected: str) -> None:
    lines = proc.stderr.strip().splitlines()
    assert proc.returncode == 2, proc.stderr[-2000:]
    assert len(lines) == 1 and lines[0].startswith("error: ") and expected in lines[0], proc.stderr[-2000:]
    assert "Traceback" not in proc.stdout + proc.stderr


def test_usage_is_recorded_for_a_plain_load(plain_run):
    used = plain_run["models"][0]
    assert used["quantization"] == "none" and used["dtype"] == "float32"
    assert 20 < used["memory_footprint_mb"] < 30 and "device_map" not in used
    assert json.dumps(plain_run)  # what result.json holds


def test_inspect_predicts_the_quantized_footprint(tiny_llama, run_in_process):
    """task=inspect's int8 and nf4 rows (from the config alone) against what bitsandbytes
    really holds once loaded (get_memory_footprint, recorded in result.json)."""
    _, inspection, _, _ = run_in_process("task=inspect", f"model={tiny_llama}")
    predicted = {m["dtype"]: m["bytes"] / 2**20 for m in inspection.memory}
    for quantization, row in (("int8", "int8"), ("nf4", "nf4 double-quant")):
        record, _, _, _ = run_in_process(
            "task=chat", f"model={tiny_llama}", "backend=transformers", f"backend.quantization={quantization}",
            PROMPT, "max_new_tokens=1",
        )  # fmt: skip
        measured = record["models"][0]["memory_footprint_mb"]
        # bitsandbytes' footprint leaves out the 4-bit absmax constants inspect counts: within 3 %
        assert abs(measured - predicted[row]) <= 0.03 * predicted[row], (quantization, measured, predicted[row])


def test_a_sweep_over_quantizations_tabulates_the_footprint(tiny_llama, tmp_path):
    import csv

    proc = subprocess.run(
        [sys.executable, str(REPO / "run.py"), "-m", "task=chat", f"model={tiny_llama}", "backend=transformers",
         "backend.quantization=none,int8,nf4", PROMPT, "max_new_tokens=2", "quiet=true",
         f"hydra.sweep.dir={tmp_path / 'sweep'}"],
        cwd=REPO, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-2000:]
    with (tmp_path / "sweep" / "comparison.csv").open() as f:
        rows = {r["backend.quantization"]: r for r in csv.DictReader(f)}
    assert set(rows) == {"none", "int8", "nf4"} and all(r["status"] == "ok" for r in rows.values())
    sizes = [float(rows[q]["model_mb"]) for q in ("none", "int8", "nf4")]
    assert sizes == sorted(sizes, reverse=True) and sizes[2] < sizes[0] / 2
