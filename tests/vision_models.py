"""Tiny random vision models built from configs and saved as folders, as a Hub checkpoint is
laid out (config, weights, image processor, tokenizer): a ViT classifier, CLIP, a BLIP
captioner, a ViT-GPT2 ``VisionEncoderDecoder`` captioner and DETR (a ResNet backbone from its
config: timm is not needed). No real weights exist in a package for these."""

from __future__ import annotations

import json
from pathlib import Path

LABELS = ["cat", "dog", "car"]
WORDS = ["a", "photo", "of", "cat", "dog", "car", "on", "the", "grass", "red"]


def _layers(**extra):
    """A 2-layer, 32-wide transformer: small enough to run in milliseconds."""
    return dict(hidden_size=32, num_hidden_layers=2, num_attention_heads=2, intermediate_size=64, **extra)


def vit_classifier(out: Path) -> Path:
    import torch
    from transformers import ViTConfig, ViTForImageClassification, ViTImageProcessor

    torch.manual_seed(0)
    config = ViTConfig(
        image_size=32,
        patch_size=8,
        id2label=dict(enumerate(LABELS)),
        label2id={label: i for i, label in enumerate(LABELS)},
        **_layers(),
    )
    ViTForImageClassification(config).save_pretrained(out)
    ViTImageProcessor(size={"height": 32, "width": 32}).save_pretrained(out)
    return out


def _clip_tokenizer(folder: Path):
    """CLIP's BPE tokenizer over a handful of whole words (no merges needed)."""
    from transformers import CLIPTokenizer

    vocab = {"<|startoftext|>": 0, "<|endoftext|>": 1, "<unk>": 2, ".": 3, ".</w>": 4}
    for word in WORDS:
        vocab.setdefault(f"{word}</w>", len(vocab))
    for ch in sorted({c for w in WORDS for c in w} | set("thisphoto")):
        vocab.setdefault(ch, len(vocab))
        vocab.setdefault(f"{ch}</w>", len(vocab))
    merges = []
    for word in sorted(set(WORDS) | {"this", "is"}):  # each word merged letter by letter
        pieces = list(word[:-1]) + [word[-1] + "</w>"]
        while len(pieces) > 1:
            merges.append(f"{pieces[0]} {pieces[1]}")
            pieces = [pieces[0] + pieces[1], *pieces[2:]]
            vocab.setdefault(pieces[0], len(vocab))
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "vocab.json").write_text(json.dumps(vocab))
    (folder / "merges.txt").write_text("#version: 0.2\n" + "\n".join(merges) + "\n")
    return CLIPTokenizer(str(folder / "vocab.json"), str(folder / "merges.txt"), unk_token="<unk>"), len(vocab)


def clip(out: Path) -> Path:
    import torch
    from transformers import CLIPConfig, CLIPImageProcessor, CLIPModel, CLIPProcessor

    tokenizer, size = _clip_tokenizer(out / "tokenizer-source")
    torch.manual_seed(0)
    config = CLIPConfig(
        text_config=_layers(vocab_size=size, max_position_embeddings=32, projection_dim=16),
        vision_config=_layers(image_size=32, patch_size=8, projection_dim=16),
        projection_dim=16,
    )
    CLIPModel(config).save_pretrained(out)
    image_processor = CLIPImageProcessor(size={"shortest_edge": 32}, crop_size={"height": 32, "width": 32})
    CLIPProcessor(image_processor=image_processor, tokenizer=tokenizer).save_pretrained(out)
    return out


def _word_vocab(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "vocab.txt"
    path.write_text("\n".join(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *WORDS]) + "\n")
    return path


def blip(out: Path) -> Path:
    import torch
    from transformers import BertTokenizer, BlipConfig, BlipForConditionalGeneration, BlipImageProcessor, BlipProcessor

    tokenizer = BertTokenizer(str(_word_vocab(out / "tokenizer-source")))
    ids = tokenizer.convert_tokens_to_ids
    torch.manual_seed(0)
    text = _layers(
        vocab_size=len(tokenizer),
        max_position_embeddings=64,
        encoder_hidden_size=32,
        bos_token_id=ids("[CLS]"),
        sep_token_id=ids("[SEP]"),
        pad_token_id=ids("[PAD]"),
        eos_token_id=ids("[SEP]"),
    )
    config = BlipConfig(text_config=text, vision_config=_layers(image_size=32, patch_size=8))
    BlipForConditionalGeneration(config).save_pretrained(out)
    image_processor = BlipImageProcessor(size={"height": 32, "width": 32})
    BlipProcessor(image_processor=image_processor, tokenizer=tokenizer).save_pretrained(out)
    return out


def vit_gpt2(out: Path) -> Path:
    """A ViT encoder and a GPT-2 decoder, their tokenizer saved beside the image processor."""
    import torch
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import (
        GPT2Config,
        PreTrainedTokenizerFast,
        VisionEncoderDecoderConfig,
        VisionEncoderDecoderModel,
        ViTConfig,
        ViTImageProcessor,
    )

    vocab = {w: i for i, w in enumerate(["<pad>", "</s>", "<s>", "<unk>", *WORDS])}
    backend = Tokenizer(models.WordLevel(vocab, unk_token="<unk>"))
    backend.pre_tokenizer = pre_tokenizers.Whitespace()
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=backend, bos_token="<s>", eos_token="</s>", pad_token="<pad>", unk_token="<unk>"
    )
    torch.manual_seed(3)
    encoder = ViTConfig(image_size=32, patch_size=8, **_layers())
    # a wide initialisation: a random decoder then writes varied words rather than one repeated
    decoder = GPT2Config(
        vocab_size=len(vocab), n_embd=32, n_layer=2, n_head=2, n_positions=64, initializer_range=0.2,
        bos_token_id=2, eos_token_id=1, pad_token_id=0,
    )  # fmt: skip
    config = VisionEncoderDecoderConfig.from_encoder_decoder_configs(encoder, decoder)
    config.decoder_start_token_id, config.eos_token_id, config.pad_token_id = 2, 1, 0
    model = VisionEncoderDecoderModel(config=config)
    model.generation_config.decoder_start_token_id = 2
    model.generation_config.eos_token_id, model.generation_config.pad_token_id = 1, 0
    model.save_pretrained(out)
    ViTImageProcessor(size={"height": 32, "width": 32}).save_pretrained(out)
    tokenizer.save_pretrained(out)
    return out


def detr(out: Path) -> Path:
    import torch
    from transformers import DetrConfig, DetrForObjectDetection, DetrImageProcessor, ResNetConfig

    torch.manual_seed(0)
    backbone = ResNetConfig(
        embedding_size=8, hidden_sizes=[8, 16, 32, 64], depths=[1, 1, 1, 1], out_features=["stage4"]
    )
    config = DetrConfig(
        backbone_config=backbone.to_dict(),
        backbone=None,
        use_pretrained_backbone=False,
        num_queries=5,
        d_model=32,
        encoder_layers=1,
        decoder_layers=1,
        encoder_attention_heads=2,
        decoder_attention_heads=2,
        encoder_ffn_dim=32,
        decoder_ffn_dim=32,
        id2label=dict(enumerate(LABELS)),
        label2id={label: i for i, label in enumerate(LABELS)},
    )
    DetrForObjectDetection(config).save_pretrained(out)
    DetrImageProcessor(size={"shortest_edge": 64, "longest_edge": 64}).save_pretrained(out)
    return out
