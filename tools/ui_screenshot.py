"""Make the README's screenshot of ``task=ui``: the app on loopback, one task run from its
form in headless Chromium (Debian's, driven by Playwright), the page saved as a small PNG.

    python tools/ui_screenshot.py --task ner --text "..." --out docs/ui.png
"""

from __future__ import annotations

import argparse
import io
import os
import shutil
import sys
import tempfile
from pathlib import Path

ARGS = ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking", "--disable-sync"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--task", default="ner")
    parser.add_argument("--text", default="Maria Lopez from Lisbon asked Tom Baker to test the E-Bike firmware.")
    parser.add_argument("--model", default="")
    parser.add_argument("--out", default="docs/ui.png")
    parser.add_argument("--width", type=int, default=1200)
    args = parser.parse_args()
    out = Path(args.out).resolve()

    from playwright.sync_api import sync_playwright

    from taskdeck.app.ui import UiTask, serve

    os.chdir(tempfile.mkdtemp(prefix="taskdeck-shot-"))
    server = serve(UiTask.Params(port=0), stream=sys.stderr)
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=shutil.which("chromium"), headless=True, args=ARGS)
            page = browser.new_page(viewport={"width": args.width, "height": 900})
            page.goto(server.url)
            page.get_by_role("tab", name=args.task, exact=True).click()
            page.locator(f"#{args.task}--text textarea").fill(args.text)
            if args.model:
                page.locator(f"#{args.task}--model input").fill(args.model)
                page.locator(f"#{args.task}--model input").press("Enter")
            page.locator(f"#{args.task}--run").click()
            page.locator(f"#{args.task}--status").get_by_text("ok").first.wait_for(timeout=600_000)
            page.wait_for_timeout(1500)
            png = page.screenshot(full_page=True)
            browser.close()
    finally:
        server.close()
    from PIL import Image

    image = Image.open(io.BytesIO(png)).convert("RGB")
    image = image.resize((image.width * 3 // 4, image.height * 3 // 4), Image.LANCZOS)
    image.quantize(colors=128, method=Image.Quantize.MEDIANCUT).save(out, optimize=True)
    print(f"{out} ({out.stat().st_size / 1024:.0f} KiB, {image.width}x{image.height})")


if __name__ == "__main__":
    main()
