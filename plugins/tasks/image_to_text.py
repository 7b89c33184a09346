"""``task=image-to-text``: a caption for an image.

On ``backend=transformers`` any captioner (BLIP, GIT, a ViT-GPT2 ``VisionEncoderDecoder``) by
Hub id or folder: its processor's pixels through ``generate``; ``prompt=`` starts the caption
for models that take text (BLIP: ``prompt='a photography of'``). On ``backend=openai`` a vision
chat model answers ``prompt=`` (default: a one-sentence description). No captioner ships in a
package: without ``model=`` the task says what to name.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

from taskdeck import CAPTION, VISION_CHAT, Caption, ConfigError, Task, hookimpl, param, required, route
from taskdeck.helpers.images import IMAGE_HINT, Picture, image_message, load_image

CHAT_PROMPT = "Describe this image in one sentence."


class ImageToTextTask(Task):
    name = "image-to-text"
    aliases = ("caption", "image-captioning")
    description = "a caption for an image: a captioner (BLIP, GIT, ViT-GPT2), or a vision chat model"
    batch_fields = ("image",)
    file_fields = ("image",)
    form_hints = {"image": IMAGE_HINT}
    chunk_size = 8
    sort_window = 8

    @dataclass
    class Params:
        image: str = required("the image file: png, jpg, webp, gif (its first frame), bmp, tiff")
        model: Optional[str] = param(
            None, "a captioner: Hub id or local folder (e.g. Salesforce/blip-image-captioning-base), or an API model"
        )
        prompt: Optional[str] = param(
            None, f"the caption's first words (BLIP, GIT); for a chat model the question (default: {CHAT_PROMPT!r})"
        )
        max_new_tokens: int = param(30, "longest caption in tokens", ge=1)
        num_beams: Optional[int] = param(
            None, "beam search width (transformers; the model's default when not given)", ge=1
        )

    def model(self, params, ctx):
        if not params.model:
            raise ConfigError(
                "image-to-text needs model=<captioner: Hub id or local folder> (none is embedded), e.g. "
                "model=Salesforce/blip-image-captioning-base with Hub access, or backend=openai model=gpt-4o-mini"
            )
        return super().model(params, ctx)

    def prepare(self, params) -> Picture:
        return load_image(params.image)

    def input_size(self, item) -> int:
        return 0

    @route(CAPTION, batched=True)
    def forward(self, backend, items, params, ctx):
        outputs = backend.caption(
            [p.image for p in items],
            prompt=params.prompt,
            max_new_tokens=params.max_new_tokens,
            num_beams=params.num_beams,
        )
        return [_caption(p, out, "captioner") for p, out in zip(items, outputs)]

    @route(VISION_CHAT)
    def ask(self, backend, picture, params, ctx):
        """A vision chat model asked for the caption."""
        with ctx.watch.time("caption"):
            answer = backend.chat(
                [image_message(picture, params.prompt or CHAT_PROMPT)], max_new_tokens=params.max_new_tokens
            )
        return _caption(picture, answer, f"vision chat {backend.model.ref}")


def _caption(picture: Picture, completion, method: str) -> Caption:
    return Caption(
        text=completion.text.strip(),
        image=picture.path,
        method=method,
        prompt_tokens=completion.prompt_tokens,
        completion_tokens=completion.completion_tokens,
        tokens_per_second=round(completion.tokens_per_second, 2),
        finish_reason=completion.finish_reason,
        note=picture.note,
    )


@hookimpl
def register_tasks(register):
    register(ImageToTextTask)
