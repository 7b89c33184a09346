"""Image classification over a folder: taskdeck ``task=image-classification input=<folder>`` vs
the raw transformers pipeline, same model (the embedded ``mobilenet-v2`` pack by default), same
threads, in one process each, one after the other.

The raw side is what a transformers user writes: open each file with Pillow, convert to RGB,
``pipeline("image-classification", model=folder)(images, batch_size=8, top_k=5)``. taskdeck
reads and checks each image (``helpers.images``), batches 16 at a time, writes every row to
``results.jsonl`` as it finishes and the ordered CSV at the end. Prints images/s of each side
(model load excluded on both), their ratio, and whether the top labels agree.

Run from the repository root, nothing else running:
  python benchmarks/image_classification.py [--images 96] [--threads 2] [--model mobilenet-v2]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def photos(folder: Path, count: int) -> list[Path]:
    """``count`` photos: the two example images at several sizes and crops, as JPEG files."""
    from PIL import Image

    sources = [Image.open(p).convert("RGB") for p in sorted((ROOT / "examples" / "images").glob("*.jpg"))]
    paths = []
    for i in range(count):
        image = sources[i % len(sources)]
        scale = 0.6 + 0.1 * (i % 9)
        w, h = image.size
        crop = image.crop((i % 17, i % 13, w - i % 11, h - i % 7)).resize((int(w * scale), int(h * scale)))
        path = folder / f"{i:04d}.jpg"
        crop.save(path, quality=90)
        paths.append(path)
    return paths


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--images", type=int, default=96)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--model", default="mobilenet-v2")
    args = ap.parse_args()

    import torch
    from hydra import compose, initialize_config_module
    from PIL import Image
    from transformers import pipeline

    from taskdeck.engine.config import register_configs, with_search_path
    from taskdeck.engine.plugin_manager import get_session
    from taskdeck.engine.runner import Runner
    from taskdeck.models import resolve

    torch.set_num_threads(args.threads)
    session = get_session()
    folder = str(resolve(args.model, session.packs).path())
    with tempfile.TemporaryDirectory() as tmp:
        images = Path(tmp) / "images"
        images.mkdir()
        paths = photos(images, args.images)

        pipe = pipeline("image-classification", model=folder, device="cpu")
        start = time.perf_counter()
        loaded = []
        for p in paths:
            with Image.open(p) as img:
                loaded.append(img.convert("RGB"))
        raw = pipe(loaded, batch_size=8, top_k=5)
        raw_s = time.perf_counter() - start
        raw_top = [r[0]["label"] for r in raw]
        del loaded

        register_configs(session)
        overrides = [
            "task=image-classification",
            f"model={args.model}",
            f"input={images}",
            "backend=transformers",
            f"backend.threads={args.threads}",
            "quiet=true",
        ]
        with initialize_config_module("taskdeck.conf", version_base="1.3"):
            cfg = compose("config", overrides=with_search_path(session, overrides))
        run_dir = Path(tmp) / "run"
        record = Runner(session, cfg, run_dir).run()
        ours_s = record["metrics"]["run_s"]
        rows = [json.loads(line) for line in (run_dir / "results.jsonl").read_text().splitlines()]
        ours_top = [r["label"] for r in sorted(rows, key=lambda r: r["index"])]

    n = args.images
    print(f"{n} images, {args.threads} threads, model {args.model}")
    print(f"raw pipeline : {n / raw_s:7.1f} images/s  ({raw_s:.2f} s, load excluded)")
    print(f"taskdeck     : {n / ours_s:7.1f} images/s  ({ours_s:.2f} s run_s, load excluded)")
    agree = sum(a == b for a, b in zip(raw_top, ours_top))
    print(f"ratio taskdeck/raw: {raw_s / ours_s:.2f}x; top labels agree on {agree}/{n}")


if __name__ == "__main__":
    main()
