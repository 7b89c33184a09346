"""Quantization: the same weights at fp32, bf16, int8 and nf4 on transformers, and as GGUF on llama.cpp.

For each model pack (default: Qwen2.5-Coder 0.5B, Q4_K_M, and SmolLM2 135M, Q4_1), the GGUF
dequantized once by taskdeck's transformers backend (fp32 safetensors in taskdeck's cache) is
loaded by taskdeck's transformers backend as

  fp32   backend.dtype=float32              bf16   backend.dtype=bfloat16
  int8   backend.quantization=int8          nf4    backend.quantization=nf4 (double quant, bf16 compute)

and the GGUF itself runs on backend=llama_cpp. Each configuration is two whole-process CLI runs,
so every peak RSS is the process's own:

  chat       greedy decoding of --tokens new tokens: load_s, tokens/s, peak RSS, the weights'
             memory (result.json's memory_footprint_mb; for llama.cpp the GGUF's size)
  sentiment  eval= over examples/data/sentiment_eval.csv (its first --rows rows): accuracy,
             macro-F1, texts/s (label scoring: one forward pass per text)

and, for the transformers rows, raw transformers (``from_pretrained`` with the same
BitsAndBytesConfig, then ``generate``) in a process of its own: tokens/s and footprint, and
taskdeck's tokens/s over raw's. Prints one Markdown table.

Run from the repository root, on a quiet machine:
  python benchmarks/quantization.py                                    # the full table
  python benchmarks/quantization.py --models smollm2-135m --rows 4 --tokens 16   # a smoke check
"""

import argparse
import csv
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EVAL = ROOT / "examples" / "data" / "sentiment_eval.csv"
PROMPT = "Explain in a few sentences why the sky is blue."
#: name -> the transformers backend's options (the GGUF row is added per model)
CONFIGS = {
    "fp32": ["backend.dtype=float32"],
    "bf16": ["backend.dtype=bfloat16"],
    "int8": ["backend.quantization=int8"],
    "nf4": ["backend.quantization=nf4", "backend.double_quant=true", "backend.compute_dtype=bf16"],
}


def converted_folder(model: str, tmp: Path) -> Path:
    """The model's GGUF dequantized to fp32 safetensors by taskdeck (made by one short run if absent)."""
    from taskdeck.engine.plugin_manager import get_session
    from taskdeck.models import resolve
    from taskdeck.plugins.backends.hf_transformers import TransformersBackend, TransformersParams

    folder = TransformersBackend(resolve(model, get_session().packs), TransformersParams())._converted_dir()
    if not (folder / ".complete").is_file():
        cli(["task=chat", "prompt=hi", f"model={model}", "backend=transformers", "max_new_tokens=1"], tmp / "convert")
    return folder


def cli(args: list[str], run_dir: Path) -> dict:
    """``run.py ARGS`` as a whole process; its result.json."""
    cmd = [sys.executable, "run.py", *args, "quiet=true", f"hydra.run.dir={run_dir}"]
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
    if proc.returncode:
        return {"status": "error", "error": (proc.stderr.strip().splitlines() or ["?"])[-1]}
    return json.loads((run_dir / "result.json").read_text())


def measure(name: str, model_args: list[str], args, eval_file: Path, tmp: Path) -> dict:
    """One configuration: a chat run and a sentiment eval run, each its own process."""
    common = [*model_args, f"backend.threads={args.threads}"]
    chat = cli(
        ["task=chat", f"prompt={PROMPT!r}", "temperature=0", f"max_new_tokens={args.tokens}", "stream=false", *common],
        tmp / f"{name}-chat",
    )
    if chat.get("status") != "ok":
        return {"error": chat.get("error")}
    scored = cli(["task=sentiment", f"eval={eval_file}", *common], tmp / f"{name}-eval")
    m, e = chat["metrics"], scored.get("metrics", {})
    used = chat["models"][0]
    return {
        "load_s": m.get("load_s"),
        "tokens_per_s": m.get("tokens_per_s"),
        "peak_rss_mb": m.get("peak_rss_mb"),
        "model_mb": used.get("memory_footprint_mb"),
        "accuracy": e.get("accuracy"),
        "macro_f1": e.get("macro_f1"),
        "texts_per_s": e.get("items_per_s"),
        "error": scored.get("error") or "",
    }


def raw(folder: Path, config: str, args) -> dict:
    """Raw transformers in a process of its own (``--raw-child``): tokens/s, footprint, peak RSS."""
    cmd = [sys.executable, __file__, "--raw-child", str(folder), config, str(args.tokens), str(args.threads)]
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
    if proc.returncode:
        return {"error": (proc.stderr.strip().splitlines() or ["?"])[-1]}
    return json.loads(proc.stdout.strip().splitlines()[-1])


def raw_child(folder: str, config: str, tokens: int, threads: int) -> None:
    """What a user writes with transformers and bitsandbytes alone; prints one JSON line."""
    import logging

    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer, BitsAndBytesConfig

    logging.disable(logging.WARNING)  # bitsandbytes' per-call int8 cast notice would flood stderr
    torch.set_num_threads(threads)
    options: dict = {"dtype": {"fp32": torch.float32, "bf16": torch.bfloat16}.get(config)}
    if config == "int8":
        options = {"dtype": torch.float16, "quantization_config": BitsAndBytesConfig(load_in_8bit=True)}
    if config == "nf4":
        options = {
            "dtype": torch.bfloat16,
            "quantization_config": BitsAndBytesConfig(
                load_in_4bit=True,
                bnb_4bit_quant_type="nf4",
                bnb_4bit_use_double_quant=True,
                bnb_4bit_compute_dtype=torch.bfloat16,
            ),
        }
    start = time.perf_counter()
    tok = AutoTokenizer.from_pretrained(folder)
    lm = AutoModelForCausalLM.from_pretrained(folder, device_map="cpu", **options).eval()
    load_s = time.perf_counter() - start
    inputs = tok.apply_chat_template(
        [{"role": "user", "content": PROMPT}], add_generation_prompt=True, return_tensors="pt", return_dict=True
    )
    start = time.perf_counter()
    with torch.inference_mode():
        out = lm.generate(**inputs, max_new_tokens=tokens, do_sample=False, pad_token_id=tok.eos_token_id)
    seconds = time.perf_counter() - start
    with open("/proc/self/status") as f:
        hwm = next((int(ln.split()[1]) / 1024 for ln in f if ln.startswith("VmHWM:")), None)
    result = {
        "load_s": round(load_s, 3),
        "tokens_per_s": round((out.shape[1] - inputs["input_ids"].shape[1]) / seconds, 2),
        "model_mb": round(lm.get_memory_footprint() / 2**20, 1),
        "peak_rss_mb": round(hwm, 1) if hwm else None,
    }
    print(json.dumps(result))


def first_rows(n: int, tmp: Path) -> Path:
    """The eval file's first n rows (all when n is 0)."""
    with open(EVAL, newline="") as f:
        rows = list(csv.reader(f))
    if not n:
        return EVAL
    path = tmp / f"sentiment_eval_{n}.csv"
    with open(path, "w", newline="") as f:
        csv.writer(f).writerows(rows[: n + 1])
    return path


def gguf_row(model: str) -> tuple[str, float]:
    """The GGUF's quantization (from its name) and its size in MiB."""
    from taskdeck.engine.plugin_manager import get_session
    from taskdeck.models import resolve
    from taskdeck.plugins.backends.hf_transformers.quantization import gguf_quantization

    ref = resolve(model, get_session().packs)
    return gguf_quantization(ref) or "GGUF", round(ref.path().stat().st_size / 2**20, 1)


def fmt(value, digits=2) -> str:
    if value is None or value == "":
        return "–"
    return f"{value:.{digits}f}" if isinstance(value, float) else str(value)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--models", nargs="+", default=["qwen2.5-coder-0.5b", "smollm2-135m"], help="GGUF pack aliases")
    ap.add_argument("--configs", nargs="+", default=[*CONFIGS, "gguf"], choices=[*CONFIGS, "gguf"])
    ap.add_argument("--tokens", type=int, default=64, help="greedy new tokens per chat run (default 64)")
    ap.add_argument("--rows", type=int, default=0, help="first rows of the eval file (default 0: all 30)")
    ap.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--no-raw", action="store_true", help="skip raw transformers")
    ap.add_argument("--raw-child", nargs=4, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.raw_child:
        folder, config, tokens, threads = args.raw_child
        raw_child(folder, config, int(tokens), int(threads))
        return

    rows = []
    with tempfile.TemporaryDirectory(prefix="taskdeck-quantization-") as name:
        tmp = Path(name)
        eval_file = first_rows(args.rows, tmp)
        for model in args.models:
            folder = converted_folder(model, tmp)
            for config in args.configs:
                start = time.perf_counter()
                if config == "gguf":
                    quant, size = gguf_row(model)
                    row = measure(f"{model}-gguf", [f"model={model}", "backend=llama_cpp"], args, eval_file, tmp)
                    row |= {"runtime": "llama.cpp", "weights": f"GGUF {quant}", "model_mb": size}
                else:
                    model_args = [f"model={folder}", "backend=transformers", *CONFIGS[config]]
                    row = measure(f"{model}-{config}", model_args, args, eval_file, tmp)
                    row |= {"runtime": "transformers", "weights": config}
                    if not args.no_raw:
                        row["raw"] = raw(folder, config, args)
                row["model"] = model
                rows.append(row)
                print(f"  {model} {row['weights']}: {time.perf_counter() - start:.0f} s", file=sys.stderr, flush=True)

    n_rows = args.rows or sum(1 for _ in open(EVAL)) - 1
    print(f"\n{os.cpu_count()} CPUs, {args.threads} threads; chat: greedy, {args.tokens} new tokens;")
    print(f"sentiment: {n_rows} rows of {EVAL.relative_to(ROOT)} (label scoring)\n")
    print(
        "| model | runtime | weights | load s | tokens/s | raw tokens/s | ratio | peak RSS MiB | raw peak RSS MiB "
        "| weights MiB | accuracy | macro-F1 | texts/s |"
    )
    print("|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        raw_run = r.get("raw") or {}
        raw_tps = raw_run.get("tokens_per_s")
        ratio = r["tokens_per_s"] / raw_tps if raw_tps and r.get("tokens_per_s") else None
        cells = [
            r["model"],
            r["runtime"],
            r["weights"],
            fmt(r.get("load_s"), 1),
            fmt(r.get("tokens_per_s"), 1),
            fmt(raw_tps, 1),
            f"{ratio:.2f}x" if ratio else "–",
            fmt(r.get("peak_rss_mb"), 0),
            fmt(raw_run.get("peak_rss_mb"), 0),
            fmt(r.get("model_mb"), 1),
            fmt(r.get("accuracy"), 3),
            fmt(r.get("macro_f1"), 3),
            fmt(r.get("texts_per_s"), 2),
        ]
        print("| " + " | ".join(cells) + " |")
    for r in rows:
        for what, err in (("taskdeck", r.get("error")), ("raw", (r.get("raw") or {}).get("error"))):
            if err:
                print(f"\n{r['model']} {r['weights']} ({what}): {err}")


if __name__ == "__main__":
    main()
