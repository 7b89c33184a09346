"""``task=text-to-image``: images from a prompt, written as PNG.

Runs any diffusers text-to-image pipeline (``pip install taskdeck[image]``) named by Hub id
or local folder, or an API's ``/v1/images/generations`` with ``backend=openai``. No image
model ships in a package, so ``model=`` must name one: offline without it, the task says
what to pass in one line.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

from taskdeck import DRAW, ConfigError, Task, hookimpl, param, required


class TextToImageTask(Task):
    name = "text-to-image"
    description = "images from a prompt: PNG files (diffusers pipelines, OpenAI API)"
    outputs = ("text", "json", "png")

    @dataclass
    class Params:
        prompt: str = required("what to draw")
        model: Optional[str] = param(
            None, "a diffusers pipeline: Hub id or local folder (e.g. stabilityai/sd-turbo), or the API's model name"
        )
        negative_prompt: Optional[str] = param(None, "what to keep out of the image")
        steps: int = param(25, "denoising steps", ge=1)
        guidance: Optional[float] = param(
            None, "classifier-free guidance scale (the pipeline's default when not given; 0 for turbo models)"
        )
        width: Optional[int] = param(None, "width in pixels (multiple of 8; the model's default)")
        height: Optional[int] = param(None, "height in pixels (multiple of 8; the model's default)")
        num_images: int = param(1, "images per prompt", ge=1)
        seed: Optional[int] = param(0, "random seed (the same seed and settings draw the same image)")

    needs = (DRAW,)

    def model(self, params, ctx):
        if not params.model:
            raise ConfigError(
                "text-to-image needs model=<diffusers pipeline: Hub id or local folder> (none "
                "is embedded), e.g. model=stabilityai/sd-turbo steps=1 guidance=0 with "
                "Hub access, or backend=openai model=dall-e-3"
            )
        return super().model(params, ctx)

    def run(self, params, ctx):
        for side in ("width", "height"):
            value = getattr(params, side)
            if value is not None and (value < 8 or value % 8):
                raise ConfigError(f"{side}={value}: give a positive multiple of 8, e.g. {side}=512")
        backend, _ = self.model(params, ctx)
        with ctx.watch.time("draw"):
            images = backend.draw(
                params.prompt,
                negative_prompt=params.negative_prompt,
                steps=params.steps,
                guidance=params.guidance,
                width=params.width,
                height=params.height,
                num_images=params.num_images,
                seed=params.seed,
            )
        ctx.metrics.update(items=len(images.images))
        return images


@hookimpl
def register_tasks(register):
    register(TextToImageTask)
