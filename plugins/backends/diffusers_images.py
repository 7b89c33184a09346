"""diffusers backend: text-to-image pipelines by Hub id or local folder (``taskdeck[image]``).

``AutoPipelineForText2Image`` picks the pipeline class from the folder's
``model_index.json`` (Stable Diffusion 1.x/2.x, SDXL, SD-Turbo, PixArt, Flux, ...). ``draw``
maps steps, guidance, size, negative prompt, number of images and a seeded generator, and
returns PNG bytes. On CPU the weights load in float32; on a GPU in float16 where the
checkpoint allows.
"""

from __future__ import annotations

import importlib.util
import io
import sys
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Optional

from taskdeck import DRAW, Backend, BackendParams, Images, ModelNotFoundError, hookimpl, param
from taskdeck.models import hub_offline


@dataclass
class DiffusersParams(BackendParams):
    name: str = "diffusers"
    dtype: str = param(
        "auto",
        "auto (float32 on CPU, float16 on GPU) | float32 | float16 | bfloat16",
        choices=("auto", "float32", "float16", "bfloat16"),
    )
    variant: Optional[str] = param(None, "weight variant to load, e.g. fp16")
    revision: Optional[str] = param(None, "Hub branch, tag or commit")
    attention_slicing: bool = param(False, "less memory, a little slower")
    safety_checker: bool = param(True, "keep the pipeline's safety checker where it has one")


class DiffusersBackend(Backend):
    name = "diffusers"
    description = "diffusers: text-to-image pipelines (Stable Diffusion, SDXL, Turbo, ...) by Hub id or folder"
    Params = DiffusersParams
    formats = ("diffusers", "hf")
    all_capabilities = (DRAW,)
    extra = "image"
    priority = 40

    @classmethod
    def missing_package(cls) -> Optional[str]:
        for module, package in (("torch", "torch"), ("diffusers", "diffusers")):
            if importlib.util.find_spec(module) is None:
                return package
        return None

    def capabilities(self) -> set[str]:
        if self.model.format == "diffusers":
            return {DRAW}
        if self.model.source == "hub":  # a Hub id: a pipeline has model_index.json
            from huggingface_hub import hf_hub_download

            try:
                hf_hub_download(
                    self.model.ref, "model_index.json", revision=self.params.revision, local_files_only=hub_offline()
                )
                return {DRAW}
            except Exception:  # noqa: BLE001 - not a pipeline, or not reachable: say how to fix
                where = "the local Hugging Face cache (HF_HUB_OFFLINE is set)" if hub_offline() else "the Hub"
                raise ModelNotFoundError(
                    f"model '{self.model.ref}' is not a diffusers pipeline found in {where}: "
                    f"download it where the Hub is reachable or pass a local folder "
                    f"holding model_index.json"
                ) from None
        return set()

    def load(self) -> None:
        import torch

        p = self.params
        if p.threads:
            torch.set_num_threads(p.threads)
        device = p.device if p.device != "auto" else ("cuda" if torch.cuda.is_available() else "cpu")
        dtype = {"float32": torch.float32, "float16": torch.float16, "bfloat16": torch.bfloat16}.get(
            p.dtype, torch.float16 if str(device).startswith("cuda") else torch.float32
        )
        source = str(self.model.path()) if self.model.source != "hub" else self.model.ref
        kwargs: dict[str, Any] = {
            _dtype_keyword(): dtype,
            "local_files_only": hub_offline() or self.model.source != "hub",
        }
        if p.variant:
            kwargs["variant"] = p.variant
        if p.revision:
            kwargs["revision"] = p.revision
        if not p.safety_checker:
            kwargs.update(safety_checker=None, requires_safety_checker=False)
        try:
            with _quiet_transformers():
                from diffusers import AutoPipelineForText2Image
                from diffusers.utils import logging as dlogging

                dlogging.disable_progress_bar()
                self.pipe = AutoPipelineForText2Image.from_pretrained(source, **kwargs).to(device)
        except (OSError, ValueError, KeyError, TypeError, AttributeError, ImportError) as exc:
            raise ModelNotFoundError(
                f"model '{self.model.ref}' could not be loaded as a text-to-image pipeline: {_why(exc)}"
            ) from None
        self.pipe.set_progress_bar_config(disable=True)
        if p.attention_slicing:
            self.pipe.enable_attention_slicing()
        self.device = device
        self.loaded = True

    def unload(self) -> None:
        self.__dict__.pop("pipe", None)
        self.loaded = False

    def draw(
        self,
        prompt: str,
        *,
        negative_prompt: Optional[str] = None,
        steps: int = 25,
        guidance: Optional[float] = None,
        width: Optional[int] = None,
        height: Optional[int] = None,
        num_images: int = 1,
        seed: Optional[int] = 0,
        **_options: Any,
    ) -> Images:
        import torch

        kwargs: dict[str, Any] = dict(
            prompt=prompt, num_inference_steps=int(steps), num_images_per_prompt=int(num_images), output_type="pil"
        )
        for key, value in (
            ("negative_prompt", negative_prompt),
            ("guidance_scale", guidance),
            ("width", width),
            ("height", height),
        ):
            if value is not None:
                kwargs[key] = value
        if seed is not None:
            kwargs["generator"] = torch.Generator(device="cpu").manual_seed(int(seed))
        with torch.inference_mode():
            out = self.pipe(**kwargs)
        images = [_png(img) for img in out.images]
        w, h = out.images[0].size if out.images else (0, 0)
        return Images(
            prompt=prompt,
            images=images,
            width=w,
            height=h,
            seed=seed,
            method=f"{type(self.pipe).__name__} {self.model.ref}, {steps} steps",
        )


@contextmanager
def _quiet_transformers():
    """diffusers' imports and loads talk through transformers' logger (torchvision notices,
    per-part progress bars): errors only while they run, and bars only for a person watching."""
    try:
        from transformers.utils import logging as tlogging
    except ImportError:  # a pipeline without transformers parts
        yield
        return
    verbosity = tlogging.get_verbosity()
    tlogging.set_verbosity_error()
    if not sys.stderr.isatty():
        tlogging.disable_progress_bar()
    try:
        yield
    finally:
        tlogging.set_verbosity(verbosity)


def _dtype_keyword() -> str:
    """``dtype`` where diffusers deprecates ``torch_dtype`` (recent releases), else ``torch_dtype``."""
    from diffusers.utils import deprecation_utils

    return "dtype" if hasattr(deprecation_utils, "_TORCH_DTYPE_DEPRECATION_MESSAGE") else "torch_dtype"


def _why(exc: BaseException) -> str:
    """diffusers' load error in one readable line: the parts a folder lacks, by name."""
    import ast
    import re

    text = str(exc)
    m = re.search(
        r"Pipeline <class '([\w.]+)'> expected (\[.*?\]|\{.*?\}), but only (\{.*?\}|set\(\)) were passed", text, re.S
    )
    if m:
        try:
            expected = set(ast.literal_eval(m.group(2)))
            passed = set() if m.group(3) == "set()" else set(ast.literal_eval(m.group(3)))
        except (ValueError, SyntaxError):
            expected = passed = set()
        import diffusers

        optional = set(getattr(getattr(diffusers, m.group(1).rsplit(".", 1)[-1], None), "_optional_components", ()))
        missing = sorted(expected - passed - optional) or sorted(expected - passed)
        if missing:
            return f"{m.group(1).rsplit('.', 1)[-1]} parts missing from model_index.json: {', '.join(missing)}"
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    first = lines[0] if lines else type(exc).__name__
    return first if len(first) <= 240 else first[:237] + "..."


def _png(image: Any) -> bytes:
    buf = io.BytesIO()
    image.save(buf, format="PNG")
    return buf.getvalue()


@hookimpl
def register_backends(register):
    register(DiffusersBackend)
