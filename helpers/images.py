"""Images from files for the vision tasks: checked, decoded within a memory bound, turned
upright and made RGB, each failure one line that says what is wrong with the file.

A JPEG larger than the working size is decoded reduced (``Image.draft``: the decoder skips
the detail, so a 100-megapixel photo never exists in memory at full size); other formats are
decoded whole up to Pillow's decompression-bomb limit and refused beyond it. The working copy's
longest side is at most ``max_side`` pixels; boxes found on it are scaled back to the pixels of
the image as given (``Picture.scale``).
"""

from __future__ import annotations

import base64
import io
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from taskdeck import InputError, MissingDependencyError

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".webp", ".gif", ".bmp", ".tif", ".tiff")
#: The web form's hint for an image field (``Task.form_hints``).
IMAGE_HINT = "file:" + ",".join(IMAGE_SUFFIXES) + ";main"
#: The working copy's longest side in pixels (vision models read a few hundred).
MAX_SIDE = 2048
#: Pillow's decompression-bomb limit (2 × ``Image.MAX_IMAGE_PIXELS``): a larger image that is
#: not a JPEG would take gigabytes to decode, so it is refused.
MAX_PIXELS = 2 * 89_478_485
#: The longest side of an image sent to an API (OpenAI scales larger ones down itself).
API_SIDE = 2048


@dataclass
class Picture:
    """An image read from a file: ``image`` is the RGB working copy (a PIL image)."""

    image: Any
    path: str
    width: int  # the image as given, upright (EXIF orientation applied)
    height: int
    note: str = ""  # what was done to read it: "first of 12 frames", "downscaled from 6000x4000"

    @property
    def scale(self) -> float:
        """Working pixels per pixel of the image as given (1.0 unless downscaled)."""
        return self.image.width / self.width if self.width else 1.0


def pillow() -> Any:
    """The ``PIL.Image`` module, or a one-line error naming the package."""
    try:
        from PIL import Image
    except ImportError:
        raise MissingDependencyError("pillow", "reading images", extra="vision") from None
    return Image


def load_image(path: str | Path, *, max_side: int = MAX_SIDE) -> Picture:
    """The image in ``path`` as an RGB :class:`Picture` (the first frame of an animation,
    transparency on white, 16-bit and CMYK converted, at most ``max_side`` pixels a side)."""
    Image = pillow()
    from PIL import ImageOps, UnidentifiedImageError

    name = str(path)
    file = Path(path).expanduser()
    if not file.exists():
        raise InputError(f"image '{name}' does not exist")
    if file.is_dir():
        raise InputError(f"image '{name}' is a folder: give an image file, or input={name} to run over its images")
    if file.stat().st_size == 0:
        raise InputError(f"image '{name}' is empty (0 bytes)")
    notes: list[str] = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        limit, Image.MAX_IMAGE_PIXELS = Image.MAX_IMAGE_PIXELS, None  # the size is checked below
        try:
            img = Image.open(file)
        except UnidentifiedImageError:
            raise InputError(
                f"'{name}' is not an image Pillow can read: give a PNG, JPEG, WebP, GIF, BMP or TIFF file"
            ) from None
        except OSError as exc:
            raise InputError(f"image '{name}' cannot be read: {_first_line(exc)}") from None
        finally:
            Image.MAX_IMAGE_PIXELS = limit
        try:
            frames = int(getattr(img, "n_frames", 1) or 1)
            if frames > 1:
                img.seek(0)
                notes.append(f"first of {frames} frames")
            width, height = img.size
            if img.format == "JPEG" and max(width, height) > max_side:
                img.draft("RGB", (max_side, max_side))  # decoded at 1/2, 1/4 or 1/8 scale
            elif width * height > MAX_PIXELS:
                raise InputError(
                    f"image '{name}' is {width}x{height} ({width * height / 1e6:.0f} megapixels): too large to "
                    f"decode safely (at most {MAX_PIXELS / 1e6:.0f}, or a JPEG of any size); shrink it first"
                )
            img.load()
        except (OSError, SyntaxError, ValueError, EOFError) as exc:
            raise InputError(f"image '{name}' is truncated or damaged ({_first_line(exc)})") from None
    orientation = img.getexif().get(0x0112, 1)
    if orientation in (5, 6, 7, 8):  # rotated a quarter turn: the upright image's sides swap
        width, height = height, width
    img = ImageOps.exif_transpose(img) or img
    img = _rgb(img)
    if max(img.size) > max_side:
        img.thumbnail((max_side, max_side), Image.Resampling.LANCZOS)
    if img.size != (width, height):
        notes.append(f"read at {img.width}x{img.height} from {width}x{height}")
    return Picture(image=img, path=name, width=width, height=height, note="; ".join(notes))


def _rgb(img: Any) -> Any:
    """``img`` in RGB: transparency composited on white, 16-bit and float images scaled to 8 bits."""
    from PIL import Image

    if img.mode in ("I", "I;16", "I;16B", "I;16L", "F"):
        import numpy as np

        a = np.asarray(img, dtype=np.float64)
        lo, hi = float(a.min()), float(a.max())
        a = (a - lo) * (255.0 / (hi - lo)) if hi > lo else np.zeros_like(a)
        return Image.fromarray(a.astype(np.uint8), "L").convert("RGB")
    if img.mode in ("RGBA", "LA", "PA") or (img.mode == "P" and "transparency" in img.info):
        rgba = img.convert("RGBA")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(white, rgba).convert("RGB")
    return img if img.mode == "RGB" else img.convert("RGB")


def png_bytes(image: Any) -> bytes:
    buf = io.BytesIO()
    image.save(buf, format="PNG")
    return buf.getvalue()


def data_url(picture: Picture, side: int = API_SIDE) -> str:
    """The image as a ``data:image/jpeg;base64,...`` URL for a chat API (at most ``side`` pixels)."""
    img = picture.image
    if max(img.size) > side:
        img = img.copy()
        img.thumbnail((side, side))
    buf = io.BytesIO()
    img.save(buf, format="JPEG", quality=90)
    return "data:image/jpeg;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def image_message(picture: Picture, text: str) -> dict[str, Any]:
    """A user turn holding the image and a question, as OpenAI-compatible chat APIs take it."""
    return {
        "role": "user",
        "content": [
            {"type": "image_url", "image_url": {"url": data_url(picture)}},
            {"type": "text", "text": text},
        ],
    }


_PALETTE = ((230, 25, 75), (60, 180, 75), (0, 130, 200), (245, 130, 48), (145, 30, 180), (70, 240, 240))


def annotate(picture: Picture, objects: list[Any]) -> bytes:
    """The working copy with each object's box and ``label score`` drawn on it, as PNG.
    ``objects`` have ``label``, ``score`` and ``xmin``... in the pixels of the image as given."""
    from PIL import ImageDraw, ImageFont

    img = picture.image.copy()
    draw = ImageDraw.Draw(img)
    size = max(12, round(max(img.size) / 50))
    try:
        font = ImageFont.load_default(size=size)
    except (TypeError, OSError):  # Pillow without FreeType: the small bitmap font
        font = ImageFont.load_default()
    colours: dict[str, tuple[int, int, int]] = {}
    s = picture.scale
    width = max(2, round(max(img.size) / 300))
    for o in objects:
        colour = colours.setdefault(o.label, _PALETTE[len(colours) % len(_PALETTE)])
        box = (o.xmin * s, o.ymin * s, o.xmax * s, o.ymax * s)
        draw.rectangle(box, outline=colour, width=width)
        text = f"{o.label} {o.score:.2f}"
        left, top, right, bottom = draw.textbbox((box[0], box[1]), text, font=font)
        lift = bottom - top + 2 * width
        y = box[1] - lift if box[1] >= lift else box[1]
        draw.rectangle((box[0], y, box[0] + right - left + 2 * width, y + lift), fill=colour)
        draw.text((box[0] + width, y + width - (top - box[1])), text, fill=(255, 255, 255), font=font)
    return png_bytes(img)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
