"""``task=image-classification``: the labels an image classifier gives an image.

The default is the embedded ``mobilenet-v2`` pack (torchvision's MobileNetV2 trained on
ImageNet-1k, converted once to a transformers checkpoint: 1,000 classes, 3.5 M parameters,
~0.05 s an image on a CPU); ``model=`` names any transformers image classifier (ViT, ConvNeXt,
ResNet, ...) by Hub id or folder. A batch (``input=`` a folder of images or a CSV with an
``image`` column) classifies ``backend.batch_size`` images per forward pass, and ``eval=`` a
CSV of images with their gold labels scores accuracy.
"""

from __future__ import annotations

from dataclasses import dataclass

from taskdeck import CLASSIFY_IMAGE, ImageLabels, LabelScore, Task, hookimpl, param, required, route
from taskdeck.evaluation import CLASSIFICATION
from taskdeck.helpers.images import IMAGE_HINT, load_image

DEFAULT_MODEL = "mobilenet-v2"


class ImageClassificationTask(Task):
    name = "image-classification"
    description = "label an image: an image classifier (embedded: MobileNetV2, ImageNet's 1,000 classes)"
    batch_fields = ("image",)
    file_fields = ("image",)
    form_hints = {"image": IMAGE_HINT}
    eval_metric = CLASSIFICATION
    chunk_size = 16  # images per forward call; a batch holds at most this many decoded images
    sort_window = 16

    @dataclass
    class Params:
        image: str = required("the image file: png, jpg, webp, gif (its first frame), bmp, tiff")
        model: str = param(DEFAULT_MODEL, "model pack alias, local folder or Hub id of an image classifier")
        top_k: int = param(5, "how many labels to keep, best first", ge=1)

    def prepare(self, params):
        return load_image(params.image)

    def input_size(self, item) -> int:
        return 0  # the image processor resizes every image alike: nothing to gain by sorting

    @route(CLASSIFY_IMAGE, batched=True)
    def forward(self, backend, items, params, ctx):
        outputs = backend.classify_image([p.image for p in items], top_k=params.top_k)
        return [
            ImageLabels(
                labels=[LabelScore(label, round(score, 6)) for label, score in scored],
                method="image-classifier",
                image=p.path,
                width=p.width,
                height=p.height,
                note=p.note,
            )
            for p, scored in zip(items, outputs)
        ]


@hookimpl
def register_tasks(register):
    register(ImageClassificationTask)
