"""Chat generation speed: taskdeck tokens/s vs raw ``model.generate`` on the same weights.

SmolLM2-135M (the embedded GGUF, dequantized once by taskdeck's transformers backend) with
greedy decoding of --tokens new tokens on the same prompt; taskdeck's figure comes from its
result.json (tokens_per_s). For contrast, the same model on taskdeck's llama.cpp backend.

Run from the repository root:  python benchmarks/chat_speed.py [--tokens 128] [--model smollm2-135m]
"""

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PROMPT = "Write a short story about a lighthouse keeper who finds a message in a bottle."


def taskdeck(model: str, backend: str, tokens: int, tmp: Path) -> float:
    run = tmp / backend
    cmd = [
        sys.executable,
        "run.py",
        "task=chat",
        f"prompt={PROMPT!r}",
        f"model={model}",
        f"backend={backend}",
        "temperature=0",
        f"max_new_tokens={tokens}",
        "backend.threads=2",
        "stream=false",
        "output=json",
        f"hydra.run.dir={run}",
    ]
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
    if proc.returncode:
        sys.exit(proc.stderr)
    return json.loads((run / "result.json").read_text())["metrics"]["tokens_per_s"]


def raw_generate(model: str, tokens: int) -> float:
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from taskdeck.engine.plugin_manager import get_session
    from taskdeck.models import resolve
    from taskdeck.plugins.backends.hf_transformers import TransformersBackend, TransformersParams

    # The folder taskdeck dequantized the GGUF into (made by the taskdeck run before this).
    folder = TransformersBackend(resolve(model, get_session().packs), TransformersParams())._converted_dir()
    torch.set_num_threads(2)
    tok = AutoTokenizer.from_pretrained(folder)
    lm = AutoModelForCausalLM.from_pretrained(folder, dtype=torch.float32).eval()
    inputs = tok.apply_chat_template(
        [{"role": "user", "content": PROMPT}], add_generation_prompt=True, return_tensors="pt", return_dict=True
    )
    start = time.perf_counter()
    with torch.inference_mode():
        out = lm.generate(**inputs, max_new_tokens=tokens, do_sample=False, pad_token_id=tok.eos_token_id)
    seconds = time.perf_counter() - start
    return (out.shape[1] - inputs["input_ids"].shape[1]) / seconds


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tokens", type=int, default=128)
    ap.add_argument("--model", default="smollm2-135m")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        ours = taskdeck(args.model, "transformers", args.tokens, Path(tmp))
        raw = raw_generate(args.model, args.tokens)
        fast = taskdeck(args.model, "llama_cpp", args.tokens, Path(tmp))
    print(f"{args.model}, greedy, {args.tokens} new tokens, 2 threads")
    print(f"  raw transformers generate   {raw:7.1f} tokens/s")
    print(f"  taskdeck backend=transformers {ours:5.1f} tokens/s   ratio {ours / raw:.2f}x (target >= 0.95x)")
    print(f"  taskdeck backend=llama_cpp  {fast:7.1f} tokens/s   ({fast / raw:.1f}x raw transformers)")


if __name__ == "__main__":
    main()
