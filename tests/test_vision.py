"""The vision tasks on tiny random models built from configs (ViT, CLIP, BLIP, ViT-GPT2, DETR),
each compared with the raw transformers pipeline or ``generate`` on the same image; batches
over a folder and a CSV of paths; bad images, each one line."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys

import pytest
import vision_models
from conftest import cli

pytest.importorskip("transformers")
Image = pytest.importorskip("PIL.Image")


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    """The five tiny models, saved as folders."""
    root = tmp_path_factory.mktemp("tiny-vision")
    return {
        name: str(getattr(vision_models, name)(root / name))
        for name in ("vit_classifier", "clip", "blip", "vit_gpt2", "detr")
    }


@pytest.fixture(scope="module")
def photos(tmp_path_factory):
    """Real photos from scikit-image's data, as a user has them: PNG, JPEG and WebP files."""
    from skimage import data

    root = tmp_path_factory.mktemp("photos")
    Image.fromarray(data.chelsea()).save(root / "chelsea.png")
    Image.fromarray(data.coffee()).save(root / "coffee.jpg", quality=92)
    Image.fromarray(data.astronaut()).save(root / "astronaut.webp")
    return root


def rgb(path):
    with Image.open(path) as image:
        return image.convert("RGB")


def test_image_classification_matches_the_raw_pipeline(run_in_process, tiny, photos, one_torch_thread):
    from transformers import pipeline

    record, result, run_dir, _ = run_in_process(
        "task=image-classification", f"model={tiny['vit_classifier']}", f"image={photos / 'chelsea.png'}", "top_k=2"
    )
    assert record["status"] == "ok", record
    assert record["models"][0]["capability"] == "classify_image"
    raw = pipeline("image-classification", model=tiny["vit_classifier"])(rgb(photos / "chelsea.png"), top_k=2)
    assert [(s.label, s.score) for s in result.labels] == [
        (d["label"], pytest.approx(d["score"], abs=1e-6)) for d in raw
    ]
    saved = json.loads((run_dir / "image-classification.json").read_text())
    assert saved["kind"] == "labels" and saved["image"].endswith("chelsea.png") and "text" not in saved
    assert (saved["width"], saved["height"]) == (451, 300)
    assert "| label | score |" in (run_dir / "image-classification.md").read_text()


def test_zero_shot_matches_the_raw_pipeline(run_in_process, tiny, photos, one_torch_thread):
    from transformers import pipeline

    record, result, _, _ = run_in_process(
        "task=zero-shot-image-classification",
        f"model={tiny['clip']}",
        f"image={photos / 'coffee.jpg'}",
        "labels=[cat,dog,car]",
        "hypothesis_template='a photo of the {}'",
    )
    assert record["status"] == "ok", record
    raw = pipeline("zero-shot-image-classification", model=tiny["clip"])(
        rgb(photos / "coffee.jpg"), candidate_labels=["cat", "dog", "car"], hypothesis_template="a photo of the {}"
    )
    assert result.method == "image-text-similarity"
    assert {s.label: s.score for s in result.labels} == pytest.approx({d["label"]: d["score"] for d in raw}, abs=1e-5)
    assert sum(s.score for s in result.labels) == pytest.approx(1.0, abs=1e-4)


def raw_caption(folder, image, prompt=None, max_new_tokens=6):
    from transformers import AutoImageProcessor, AutoModelForImageTextToText, AutoProcessor, AutoTokenizer

    model = AutoModelForImageTextToText.from_pretrained(folder).eval()
    if prompt:
        processor = AutoProcessor.from_pretrained(folder)
        inputs = processor(images=image, text=prompt, return_tensors="pt")
        tokenizer = processor.tokenizer
    else:
        inputs = AutoImageProcessor.from_pretrained(folder)(images=image, return_tensors="pt")
        tokenizer = AutoTokenizer.from_pretrained(folder)
    ids = model.generate(**inputs, max_new_tokens=max_new_tokens)
    return tokenizer.batch_decode(ids, skip_special_tokens=True)[0].strip()


@pytest.mark.parametrize("name,prompt", [("blip", None), ("blip", "a photo of"), ("vit_gpt2", None)])
def test_captions_match_raw_generate(run_in_process, tiny, photos, one_torch_thread, name, prompt):
    extra = [f"prompt='{prompt}'"] if prompt else []
    record, result, run_dir, _ = run_in_process(
        "task=image-to-text", f"model={tiny[name]}", f"image={photos / 'chelsea.png'}", "max_new_tokens=6", *extra
    )
    assert record["status"] == "ok", record
    expected = raw_caption(tiny[name], rgb(photos / "chelsea.png"), prompt)
    assert result.text == expected and expected
    if prompt:
        assert result.text.startswith(prompt)
    assert 0 < result.completion_tokens <= 6 and result.method == "captioner"
    assert json.loads((run_dir / "image-to-text.json").read_text())["text"] == expected


def test_detection_boxes_are_in_the_pixels_of_the_image_as_given(run_in_process, tiny, tmp_path, one_torch_thread):
    """A 3000x2000 photo is read at 2048x1365; the boxes come back in 3000x2000 pixels, as
    the raw pipeline gives them on the full image, and the annotated PNG is written."""
    from transformers import pipeline

    big = tmp_path / "big.jpg"
    Image.open(io.BytesIO(_photo_png())).resize((3000, 2000)).save(big, quality=90)
    record, result, run_dir, _ = run_in_process(
        "task=object-detection", f"model={tiny['detr']}", f"image={big}", "threshold=0.0"
    )
    assert record["status"] == "ok", record
    assert "read at 2048x1365 from 3000x2000" in result.note
    raw = pipeline("object-detection", model=tiny["detr"])(rgb(big), threshold=0.0)
    assert len(result.objects) == len(raw) == 5
    mine = sorted((o.label, o.xmin, o.ymin, o.xmax, o.ymax) for o in result.objects)
    theirs = sorted((d["label"], d["box"]["xmin"], d["box"]["ymin"], d["box"]["xmax"], d["box"]["ymax"]) for d in raw)
    for a, b in zip(mine, theirs):
        assert a[0] == b[0] and all(abs(x - y) <= 30 for x, y in zip(a[1:], b[1:])), (a, b)  # 1% of a side
    assert all(0 <= o.xmin <= o.xmax <= 3000 and 0 <= o.ymin <= o.ymax <= 2000 for o in result.objects)
    with Image.open(run_dir / "object-detection.png") as drawn:
        assert drawn.size == (2048, 1365)
    saved = json.loads((run_dir / "object-detection.json").read_text())
    assert len(saved["objects"]) == 5 and "annotated" not in saved


def _photo_png() -> bytes:
    from skimage import data

    buf = io.BytesIO()
    Image.fromarray(data.coffee()).save(buf, format="PNG")
    return buf.getvalue()


def test_a_folder_of_labelled_images_is_a_batch_scored_by_eval(run_in_process, tiny, photos, tmp_path):
    """A folder with a sub-folder per class (the ``imagefolder`` layout) is both the batch
    and the gold labels; each row is the raw pipeline's top label."""
    from transformers import pipeline

    root = tmp_path / "labelled"
    for label, name in (("cat", "chelsea.png"), ("cat", "astronaut.webp"), ("car", "coffee.jpg")):
        (root / label).mkdir(parents=True, exist_ok=True)
        (root / label / name).write_bytes((photos / name).read_bytes())
    record, result, run_dir, _ = run_in_process(
        "task=image-classification", f"model={tiny['vit_classifier']}", f"eval={root}", "top_k=1"
    )
    assert record["status"] == "ok", record
    rows = [json.loads(line) for line in (run_dir / "results.jsonl").read_text().splitlines()]
    classify = pipeline("image-classification", model=tiny["vit_classifier"])
    expected = [classify(rgb(r["image"]), top_k=1)[0]["label"] for r in rows]
    assert [r["label"] for r in rows] == expected and all(r["error"] == "" for r in rows)
    assert [r["image"].split("/")[-2:] for r in rows] == [
        ["car", "coffee.jpg"],
        ["cat", "astronaut.webp"],
        ["cat", "chelsea.png"],
    ]
    gold = ["car", "cat", "cat"]
    accuracy = sum(p == g for p, g in zip(expected, gold)) / 3
    assert record["metrics"]["accuracy"] == pytest.approx(accuracy, abs=1e-4)


def test_a_csv_of_paths_relative_to_it_and_a_bad_row(run_in_process, tiny, photos, tmp_path):
    (tmp_path / "list").mkdir()
    listing = tmp_path / "list" / "images.csv"
    with open(listing, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["image"])
        w.writerow([str(photos / "chelsea.png")])
        w.writerow(["missing.png"])
        (tmp_path / "list" / "beside.jpg").write_bytes((photos / "coffee.jpg").read_bytes())
        w.writerow(["beside.jpg"])
    record, result, run_dir, _ = run_in_process(
        "task=zero-shot-image-classification", f"model={tiny['clip']}", f"input={listing}", "labels=[cat,dog]"
    )
    assert record["status"] == "ok", record
    assert (result.ok, result.failed) == (2, 1)
    rows = [json.loads(line) for line in (run_dir / "results.jsonl").read_text().splitlines()]
    assert rows[1]["error"] == "image 'missing.png' does not exist"
    assert rows[2]["image"] == str((tmp_path / "list" / "beside.jpg").resolve()) and rows[2]["label"] in ("cat", "dog")
    again, _, _, _ = run_in_process(
        "task=zero-shot-image-classification",
        f"model={tiny['clip']}",
        f"input={listing}",
        "labels=[cat,dog]",
        f"results={run_dir / 'results.jsonl'}",
    )
    assert (again["metrics"]["skipped"], again["metrics"]["failed"]) == (2, 1)  # resumed: the found rows kept


def test_a_folder_without_images_is_one_line(run_in_process, tmp_path):
    from taskdeck import InputError

    (tmp_path / "notes").mkdir()
    (tmp_path / "notes" / "readme.txt").write_text("hello")
    with pytest.raises(InputError, match=r"holds no images or recordings \(\.png, .*and is not a datasets folder"):
        run_in_process("task=image-classification", f"input={tmp_path / 'notes'}")


# ---- bad input: one line each, before a model loads ----
def _bad_images(root):
    root.mkdir()
    (root / "empty.png").write_bytes(b"")
    (root / "notes.png").write_text("not an image")
    data = _photo_png()
    (root / "cut.png").write_bytes(data[: len(data) // 2])
    return root


@pytest.mark.parametrize(
    "name,message",
    [
        ("nowhere.png", "image '{}' does not exist"),
        ("empty.png", "image '{}' is empty (0 bytes)"),
        ("notes.png", "'{}' is not an image Pillow can read: give a PNG, JPEG, WebP, GIF, BMP or TIFF file"),
        ("cut.png", "image '{}' is truncated or damaged (image file is truncated)"),
    ],
)
def test_a_bad_image_is_one_line(run_in_process, tmp_path, name, message):
    from taskdeck import InputError

    root = _bad_images(tmp_path / "bad")
    with pytest.raises(InputError) as failed:
        run_in_process("task=image-classification", f"image={root / name}")
    assert str(failed.value) == message.format(root / name)


def test_a_bad_image_on_the_command_line(tmp_path):
    root = _bad_images(tmp_path / "bad")
    proc = cli("task=image-classification", f"image={root / 'cut.png'}", tmp_path=tmp_path)
    assert proc.returncode != 0 and "Traceback" not in proc.stderr
    assert proc.stderr.strip().splitlines() == [
        f"error: image '{root / 'cut.png'}' is truncated or damaged (image file is truncated)"
    ]


def test_an_animated_gif_a_cmyk_jpeg_and_transparency_are_read(run_in_process, tiny, photos, tmp_path):
    from taskdeck.helpers.images import load_image

    cat = rgb(photos / "chelsea.png")
    frames = [cat, cat.rotate(90), cat.rotate(180)]
    frames[0].save(tmp_path / "anim.gif", save_all=True, append_images=frames[1:], duration=100)
    cat.convert("CMYK").save(tmp_path / "cmyk.jpg")
    Image.new("RGBA", (40, 30), (0, 0, 0, 0)).save(tmp_path / "clear.png")
    gif = load_image(tmp_path / "anim.gif")
    assert gif.note == "first of 3 frames" and gif.image.size == (451, 300)
    cmyk = load_image(tmp_path / "cmyk.jpg")
    assert (
        cmyk.image.mode == "RGB"
        and max(abs(a - b) for a, b in zip(cmyk.image.getpixel((200, 150)), cat.getpixel((200, 150)))) < 12
    )
    assert load_image(tmp_path / "clear.png").image.getpixel((0, 0)) == (255, 255, 255)  # on white, not black
    record, result, _, _ = run_in_process(
        "task=image-classification", f"model={tiny['vit_classifier']}", f"image={tmp_path / 'anim.gif'}"
    )
    assert record["status"] == "ok" and result.note == "first of 3 frames"
    assert "(first of 3 frames)" in result.summary()


def test_a_huge_png_is_refused_and_a_huge_jpeg_decoded_small(tmp_path):
    """Past Pillow's decompression-bomb limit a PNG would take gigabytes: refused in one line.
    A JPEG of any size is decoded reduced (the decoder skips the detail)."""
    from taskdeck import InputError
    from taskdeck.helpers.images import load_image

    png = tmp_path / "huge.png"
    Image.new("1", (14000, 13000)).save(png)  # 182 megapixels, a few hundred kB on disk
    with pytest.raises(InputError, match=r"is 14000x13000 \(182 megapixels\): too large to decode safely"):
        load_image(png)
    jpeg = tmp_path / "huge.jpg"
    Image.new("L", (16000, 12000), 128).save(jpeg, quality=50)
    del png
    code = (  # VmHWM: this process's peak memory (ru_maxrss would count the parent's before exec)
        "import re, sys; from taskdeck.helpers.images import load_image; p = load_image(sys.argv[1]); "
        "hwm = re.search(r'VmHWM:\\s+(\\d+) kB', open('/proc/self/status').read()).group(1); "
        "print(p.width, p.height, *p.image.size, int(hwm) // 1024)"
    )
    out = subprocess.run([sys.executable, "-c", code, str(jpeg)], capture_output=True, text=True, check=True).stdout
    width, height, w, h, peak_mb = map(int, out.split())
    assert (width, height, w, h) == (16000, 12000, 2048, 1536)
    assert peak_mb < 300  # decoded at 1/4 scale: the full RGB image alone would be 576 MB


@pytest.mark.parametrize(
    "task,hint",
    [
        ("zero-shot-image-classification", "model=openai/clip-vit-base-patch32"),
        ("image-to-text", "model=Salesforce/blip-image-captioning-base"),
        ("object-detection", "model=hustvl/yolos-tiny"),
    ],
)
def test_tasks_without_an_embedded_model_say_what_to_name(tmp_path, photos, task, hint):
    extra = ["labels=[a,b]"] if task.startswith("zero") else []
    proc = cli(f"task={task}", f"image={photos / 'chelsea.png'}", *extra, tmp_path=tmp_path)
    assert proc.returncode != 0
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "none is embedded" in lines[0] and hint in lines[0], proc.stderr
    assert "Traceback" not in proc.stderr
