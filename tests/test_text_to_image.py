"""``task=text-to-image`` on ``backend=diffusers``, for real, on a tiny random Stable Diffusion
pipeline built here (a 2-block UNet, a 2-block VAE, a 2-layer CLIP text encoder with a
byte-level tokenizer written here): a 64x64 image in 2 steps takes well under a second."""

from __future__ import annotations

import io
import json

import pytest
from conftest import cli

pytest.importorskip("diffusers")


def _bytes_to_unicode() -> dict[int, str]:
    """GPT-2/CLIP's byte → printable character table."""
    bs = [*range(ord("!"), ord("~") + 1), *range(ord("¡"), ord("¬") + 1), *range(ord("®"), ord("ÿ") + 1)]
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return dict(zip(bs, map(chr, cs)))


@pytest.fixture(scope="module")
def tiny_sd(tmp_path_factory):
    """A tiny random StableDiffusionPipeline saved as a folder (model_index.json and parts)."""
    import torch
    from diffusers import AutoencoderKL, DDIMScheduler, StableDiffusionPipeline, UNet2DConditionModel
    from transformers import CLIPTextConfig, CLIPTextModel, CLIPTokenizer

    root = tmp_path_factory.mktemp("tiny-sd")
    chars = list(_bytes_to_unicode().values())
    vocab: dict[str, int] = {}
    for token in chars + [c + "</w>" for c in chars] + ["<|startoftext|>", "<|endoftext|>"]:
        vocab.setdefault(token, len(vocab))
    (root / "vocab.json").write_text(json.dumps(vocab))
    (root / "merges.txt").write_text("#version: 0.2\n")  # no merges: one token per character
    tokenizer = CLIPTokenizer(str(root / "vocab.json"), str(root / "merges.txt"), model_max_length=77)
    torch.manual_seed(0)
    unet = UNet2DConditionModel(
        block_out_channels=(32, 64),
        layers_per_block=1,
        sample_size=32,
        in_channels=4,
        out_channels=4,
        down_block_types=("DownBlock2D", "CrossAttnDownBlock2D"),
        up_block_types=("CrossAttnUpBlock2D", "UpBlock2D"),
        cross_attention_dim=32,
        norm_num_groups=32,
    )
    vae = AutoencoderKL(
        block_out_channels=[32, 64],
        in_channels=3,
        out_channels=3,
        latent_channels=4,
        down_block_types=["DownEncoderBlock2D"] * 2,
        up_block_types=["UpDecoderBlock2D"] * 2,
        norm_num_groups=32,
        sample_size=64,
    )
    text_encoder = CLIPTextModel(
        CLIPTextConfig(
            vocab_size=len(vocab),
            hidden_size=32,
            intermediate_size=37,
            num_attention_heads=4,
            num_hidden_layers=2,
            max_position_embeddings=77,
            projection_dim=32,
            bos_token_id=vocab["<|startoftext|>"],
            eos_token_id=vocab["<|endoftext|>"],
            pad_token_id=vocab["<|endoftext|>"],
        )
    )
    scheduler = DDIMScheduler(
        beta_start=0.00085,
        beta_end=0.012,
        beta_schedule="scaled_linear",
        clip_sample=False,
        set_alpha_to_one=False,
        steps_offset=1,
    )
    pipe = StableDiffusionPipeline(
        unet=unet,
        vae=vae,
        text_encoder=text_encoder,
        tokenizer=tokenizer,
        scheduler=scheduler,
        safety_checker=None,
        feature_extractor=None,
        requires_safety_checker=False,
    )
    out = root / "pipeline"
    pipe.save_pretrained(out)
    return out


def png_size(data: bytes) -> tuple[int, int]:
    from PIL import Image

    with Image.open(io.BytesIO(data)) as image:
        image.load()  # a truncated or corrupt file fails here
        assert image.format == "PNG"
        return image.size


def draw(run_in_process, model, *extra):
    return run_in_process(
        "task=text-to-image", f"model={model}", "prompt='a red cube on a table'", "steps=2", "backend.threads=1", *extra
    )


def test_draws_a_png_of_the_size_asked(run_in_process, tiny_sd, one_torch_thread):
    record, result, run_dir, _ = draw(run_in_process, tiny_sd, "width=64", "height=64")
    assert record["status"] == "ok", record
    assert record["models"] == [{"model": str(tiny_sd), "backend": "diffusers", "capability": "draw"}]
    assert png_size((run_dir / "text-to-image.png").read_bytes()) == (64, 64)
    saved = json.loads((run_dir / "result.json").read_text())
    assert saved["result"] | {"method": ""} == {
        "kind": "images",
        "prompt": "a red cube on a table",
        "count": 1,
        "width": 64,
        "height": 64,
        "seed": 0,
        "method": "",
    }
    assert "StableDiffusionPipeline" in saved["result"]["method"] and "2 steps" in saved["result"]["method"]


def test_width_and_height_are_kept_apart(run_in_process, tiny_sd, one_torch_thread):
    record, result, run_dir, _ = draw(run_in_process, tiny_sd, "width=96", "height=64")
    assert record["status"] == "ok", record
    assert png_size((run_dir / "text-to-image.png").read_bytes()) == (96, 64)
    assert (result.width, result.height) == (96, 64)


def test_the_seed_decides_the_image(run_in_process, tiny_sd, one_torch_thread):
    def image(*extra):
        record, _, run_dir, _ = draw(run_in_process, tiny_sd, "width=64", "height=64", *extra)
        assert record["status"] == "ok", record
        return (run_dir / "text-to-image.png").read_bytes()

    first, again, other = image("seed=7"), image("seed=7"), image("seed=8")
    assert first == again
    assert first != other


def test_negative_prompt_and_guidance_change_the_image(run_in_process, tiny_sd, one_torch_thread):
    def image(*extra):
        record, _, run_dir, _ = draw(run_in_process, tiny_sd, "width=64", "height=64", *extra)
        assert record["status"] == "ok", record
        return (run_dir / "text-to-image.png").read_bytes()

    plain = image("guidance=5")
    assert image("guidance=5", "negative_prompt=blurry") != plain
    assert image("guidance=1") != plain  # no classifier-free guidance


def test_several_images(run_in_process, tiny_sd, one_torch_thread):
    record, result, run_dir, _ = draw(run_in_process, tiny_sd, "width=64", "height=64", "num_images=2")
    assert record["status"] == "ok", record
    files = sorted(p.name for p in run_dir.glob("*.png"))
    assert files == ["text-to-image-1.png", "text-to-image-2.png"]
    datas = [(run_dir / name).read_bytes() for name in files]
    assert all(png_size(d) == (64, 64) for d in datas) and datas[0] != datas[1]
    assert record["result"]["count"] == 2 and record["metrics"]["items"] == 2


def test_default_size_is_the_models(run_in_process, tiny_sd, one_torch_thread):
    record, result, run_dir, _ = draw(run_in_process, tiny_sd)
    assert record["status"] == "ok", record
    # the UNet's sample_size (32 latents) times the VAE's scale factor (2)
    assert png_size((run_dir / "text-to-image.png").read_bytes()) == (64, 64)


def one_line_error(proc, *needles):
    assert proc.returncode == 2, (proc.returncode, proc.stderr)
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), proc.stderr
    for needle in needles:
        assert needle in lines[0], lines[0]
    return lines[0]


def test_through_the_cli(tiny_sd, tmp_path):
    proc = cli(
        "task=text-to-image",
        f"model={tiny_sd}",
        "prompt='a red cube'",
        "steps=2",
        "width=64",
        "height=64",
        tmp_path=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    assert "1 image(s), 64x64" in proc.stdout
    assert png_size((tmp_path / "run" / "text-to-image.png").read_bytes()) == (64, 64)
    assert proc.stderr.strip() == ""  # no notices, warnings or progress bars from diffusers/transformers


def test_without_a_model_one_line_naming_model(tmp_path):
    line = one_line_error(cli("task=text-to-image", "prompt='a red cube'", tmp_path=tmp_path), "model=")
    assert "diffusers" in line
    assert not list((tmp_path / "run").glob("*.png"))


def test_a_size_not_a_multiple_of_8_is_one_line(tiny_sd, tmp_path):
    one_line_error(
        cli("task=text-to-image", f"model={tiny_sd}", "prompt='a red cube'", "width=30", tmp_path=tmp_path),
        "width=30",
        "multiple of 8",
    )


def test_a_folder_that_is_not_a_pipeline_is_one_line(run_in_process, tmp_path):
    """A model_index.json naming no parts: one line saying which parts are missing."""
    from taskdeck import ModelNotFoundError

    folder = tmp_path / "not-a-pipeline"
    folder.mkdir()
    (folder / "model_index.json").write_text(json.dumps({"_class_name": "StableDiffusionPipeline"}))
    with pytest.raises(ModelNotFoundError) as caught:
        run_in_process("task=text-to-image", f"model={folder}", "prompt='a red cube'", "steps=1")
    message = str(caught.value)
    assert "\n" not in message and str(folder) in message, message
    assert "missing" in message and "unet" in message and "safety_checker" not in message, message
