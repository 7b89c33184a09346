"""``task=object-detection``: the objects in an image, with their boxes, labels and scores.

Any transformers detector (DETR, YOLOS, Conditional/Deformable DETR, RT-DETR, ...) by Hub id
or folder, through the v5 ``object-detection`` pipeline. Boxes are in the pixels of the image
as given (an image read downscaled has its boxes scaled back); ``output=png`` (a default)
writes the image with the boxes drawn. No detector ships in a package: without ``model=`` the
task says what to name.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

from taskdeck import DETECT, ConfigError, DetectedObject, Detections, Task, hookimpl, param, required
from taskdeck.helpers.images import IMAGE_HINT, Picture, annotate, load_image


class ObjectDetectionTask(Task):
    name = "object-detection"
    description = "find objects in an image: boxes, labels, scores and an annotated PNG (DETR, YOLOS, ...)"
    batch_fields = ("image",)
    file_fields = ("image",)
    form_hints = {"image": IMAGE_HINT}
    outputs = ("text", "json", "png")
    needs = (DETECT,)
    batched = (DETECT,)
    chunk_size = 8
    sort_window = 8

    @dataclass
    class Params:
        image: str = required("the image file: png, jpg, webp, gif (its first frame), bmp, tiff")
        model: Optional[str] = param(
            None, "a detector: Hub id or local folder (e.g. hustvl/yolos-tiny, facebook/detr-resnet-50)"
        )
        threshold: float = param(0.5, "keep objects scoring at least this", ge=0, le=1)

    def model(self, params, ctx):
        if not params.model:
            raise ConfigError(
                "object-detection needs model=<detector: Hub id or local folder> (none is embedded), e.g. "
                "model=hustvl/yolos-tiny with Hub access"
            )
        return super().model(params, ctx)

    def run(self, params, ctx):
        picture = self.prepare(params)
        backend, _ = self.model(params, ctx)
        ctx.metrics["items"] = 1
        found = self.forward(backend, [picture], params, ctx)[0]
        found.annotated = annotate(picture, found.objects)
        return found

    def prepare(self, params) -> Picture:
        return load_image(params.image)

    def input_size(self, item) -> int:
        return 0

    def forward(self, backend, items, params, ctx):
        outputs = backend.detect([p.image for p in items], threshold=params.threshold)
        return [_detections(p, found, params.threshold) for p, found in zip(items, outputs)]


def _detections(picture: Picture, found, threshold: float) -> Detections:
    """Boxes on the working copy, scaled back to the image as given and kept inside it."""
    s = picture.scale

    def at(value: float, side: int) -> int:
        return min(max(round(value / s), 0), side)

    objects = [
        DetectedObject(
            label=d["label"],
            score=round(float(d["score"]), 6),
            xmin=at(d["box"]["xmin"], picture.width),
            ymin=at(d["box"]["ymin"], picture.height),
            xmax=at(d["box"]["xmax"], picture.width),
            ymax=at(d["box"]["ymax"], picture.height),
        )
        for d in found
    ]
    return Detections(
        image=picture.path,
        objects=objects,
        width=picture.width,
        height=picture.height,
        threshold=threshold,
        method="object-detector",
        note=picture.note,
    )


@hookimpl
def register_tasks(register):
    register(ObjectDetectionTask)
