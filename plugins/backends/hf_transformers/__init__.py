"""transformers backend: Hub ids, local folders, and GGUF packs (dequantized).

Offers, depending on the model's architecture (read from its config, no weights loaded):
``classify`` (and ``zero_shot`` for NLI models) for sequence classifiers, ``tag`` for token
classifiers, ``extract_answer`` for extractive QA, ``fill_mask`` for masked LMs, ``seq2seq``
for encoder-decoders, ``chat`` and ``score_labels`` for causal LMs, ``embed`` for bare
encoders, ``transcribe`` for speech recognisers (Whisper, wav2vec2) and ``speak`` for
text-to-speech models (VITS/MMS-TTS, Bark, SpeechT5); for images ``classify_image``
(ViT, MobileNet, ...), ``zero_shot_image`` (CLIP, SigLIP), ``caption`` (BLIP, GIT, ViT-GPT2)
and ``detect`` (DETR, YOLOS). This package is the whole backend:
the class here, what a model is in ``heads``, and one module per capability. ``HF_HUB_OFFLINE``
makes every load local-files-only; ``trust_remote_code`` stays off unless asked for.
"""

from __future__ import annotations

import importlib.util
import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional

from taskdeck import (
    CAPTION,
    CHAT,
    CLASSIFY,
    CLASSIFY_IMAGE,
    DETECT,
    EMBED,
    EXTRACT_ANSWER,
    FILL_MASK,
    INSPECT,
    SCORE_LABELS,
    SEQ2SEQ,
    SPEAK,
    TAG,
    TOKENIZE,
    TRANSCRIBE,
    ZERO_SHOT,
    ZERO_SHOT_IMAGE,
    Backend,
    BackendParams,
    CapabilityError,
    ModelNotFoundError,
    hookimpl,
    param,
)
from taskdeck.backends import DEFAULT_CONTEXT_WINDOW
from taskdeck.models import hub_offline
from taskdeck.packs import cache_dir

from . import quantization
from .heads import AUTO_CLASSES, SPEECH_HEADS, VISION_HEADS, head_capabilities, model_head
from .quantization import COMPUTE_DTYPES, QUANTIZATIONS

_UNBOUNDED = 1_000_000  # tokenizers without a recorded limit say 1e30

_EMBEDDED_HINT = "or use an embedded model, e.g. model=qwen2.5-coder-1.5b (task=plugins lists them)"


@dataclass
class TransformersParams(BackendParams):
    name: str = "transformers"
    dtype: str = param(
        "auto",
        "auto (float32 on CPU, the checkpoint's on GPU; quantized: compute_dtype, int8 float16) | float32 | "
        "bfloat16 | float16",
        choices=("auto", "float32", "bfloat16", "float16"),
    )
    batch_size: int = param(8, "inputs per forward pass for batched tasks", ge=1)
    trust_remote_code: bool = param(False, "run code shipped with a Hub model: only when you trust it")
    revision: Optional[str] = param(None, "Hub branch, tag or commit")
    quantization: str = param(
        "none", "none | int8 | nf4 | fp4: bitsandbytes weight quantization (text models)", choices=QUANTIZATIONS
    )
    double_quant: bool = param(True, "4-bit: quantize the quantization constants too (about 0.4 bits/weight less)")
    compute_dtype: str = param("bf16", "4-bit: the dtype matmuls run in", choices=COMPUTE_DTYPES)
    device_map: Optional[str] = param(
        None, "accelerate's placement: auto | balanced | balanced_low_0 | sequential | cpu | cuda | cuda:N | mps"
    )
    # Any, not Optional[dict]: OmegaConf cannot merge a command line's {...} into a None dict node
    max_memory: Any = param(
        None, "with device_map: memory per device, e.g. 'backend.max_memory={0:10GiB,cpu:30GiB}' (the rest to disk)"
    )
    offload_folder: Optional[str] = param(
        None, "with device_map: where weights that fit in no memory go (default: a folder in taskdeck's cache)"
    )


class TransformersBackend(Backend):
    name = "transformers"
    description = "transformers: any Hub id or local folder, and GGUF packs dequantized"
    Params = TransformersParams
    formats = ("hf", "gguf", "hf-config")  # hf-config: a config .json alone, for inspect
    all_capabilities = (
        CLASSIFY,
        ZERO_SHOT,
        TAG,
        EXTRACT_ANSWER,
        FILL_MASK,
        SEQ2SEQ,
        CHAT,
        SCORE_LABELS,
        EMBED,
        TRANSCRIBE,
        SPEAK,
        CLASSIFY_IMAGE,
        ZERO_SHOT_IMAGE,
        CAPTION,
        DETECT,
        TOKENIZE,
        INSPECT,
    )
    extra = "transformers"
    priority = 50

    @classmethod
    def missing_package(cls) -> Optional[str]:
        for module, package in (("torch", "torch"), ("transformers", "transformers")):
            if importlib.util.find_spec(module) is None:
                return package
        return None

    # ---- what the model is, without loading it ----
    def _config(self) -> dict:
        if self.model.format == "gguf":
            return {"architectures": ["GGUFForCausalLM"]}
        if self.model.format == "hf-config":  # the config file itself
            path = self.model.path()
        elif self.model.source == "hub":
            path = Path(self._hub_file("config.json"))
        else:
            path = self.model.path() / "config.json"
        try:
            return json.loads(Path(path).read_text())
        except (OSError, ValueError) as exc:
            raise ModelNotFoundError(f"model '{self.model.ref}' has no readable config.json ({exc})") from None

    def _hub_file(self, filename: str) -> str:
        from huggingface_hub import hf_hub_download

        try:
            return hf_hub_download(
                self.model.ref, filename, revision=self.params.revision, local_files_only=hub_offline()
            )
        except Exception as exc:  # offline, not cached, no network, no such repo
            why = (
                "HF_HUB_OFFLINE is set and it is not in the local Hugging Face cache"
                if hub_offline()
                else f"it could not be fetched from the Hub ({type(exc).__name__})"
            )
            raise ModelNotFoundError(
                f"model '{self.model.ref}': {why}; download it where the Hub is "
                f"reachable, pass a local folder, {_EMBEDDED_HINT}"
            ) from None

    def head(self) -> str:
        """What the model is, from its config: a key of ``heads.AUTO_CLASSES`` or a speech head."""
        if not hasattr(self, "_head"):
            self._head = model_head(self._config())
        return self._head

    def capabilities(self) -> set[str]:
        if self.model.format == "hf-config":  # a config alone: no tokenizer, no weights
            return {INSPECT}
        return head_capabilities(self.head(), self._config()) | {TOKENIZE, INSPECT}

    # ---- loading ----
    def _device_and_dtype(self):
        import torch

        device = self.params.device
        if device == "auto":
            device = "cuda" if torch.cuda.is_available() else "cpu"
        dtype = self.params.dtype
        if dtype == "auto":
            dtype = quantization.default_dtype(self.params) or (torch.float32 if device == "cpu" else "auto")
        else:
            dtype = getattr(torch, dtype)
        return device, dtype

    def _source(self) -> tuple[str, dict]:
        common = {
            "trust_remote_code": self.params.trust_remote_code,
            "revision": self.params.revision,
            "local_files_only": hub_offline() or self.model.source != "hub",
        }
        if self.model.format == "gguf":
            converted = self._converted_dir()
            if (converted / ".complete").is_file():
                return str(converted), {**common, "revision": None}
            path = Path(self.model.path())
            return str(path.parent), {**common, "gguf_file": path.name}
        return self.model.id, common

    def _converted_dir(self) -> Path:
        """Where a GGUF model dequantized for transformers is kept (converted once)."""
        path = Path(self.model.path())
        stat = path.stat()
        return cache_dir() / "converted" / f"{path.stem}-{stat.st_size}-{int(stat.st_mtime)}"

    def _save_converted(self) -> None:
        """Save the dequantized model as safetensors so later loads skip the conversion."""
        import os
        import shutil
        import tempfile

        target = self._converted_dir()
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=".converting-", dir=target.parent))
        quantizer = getattr(self.hf_model, "hf_quantizer", None)
        qconfig = getattr(self.hf_model.config, "quantization_config", None)
        try:
            # The weights are already dequantized: save them as a plain checkpoint.
            self.hf_model.hf_quantizer = None
            if qconfig is not None:
                del self.hf_model.config.quantization_config
            self.hf_model.save_pretrained(tmp)
            self.tokenizer.save_pretrained(tmp)
            (tmp / ".complete").write_text(str(self.model.path()))
            shutil.rmtree(target, ignore_errors=True)
            os.replace(tmp, target)
        except OSError:  # a full disk only costs the next load its speed
            shutil.rmtree(tmp, ignore_errors=True)
        finally:
            self.hf_model.hf_quantizer = quantizer
            if qconfig is not None:
                self.hf_model.config.quantization_config = qconfig

    def load(self) -> None:
        import torch
        import transformers

        if self.params.threads:
            torch.set_num_threads(self.params.threads)
        if not sys.stderr.isatty():  # progress bars only for a person watching
            transformers.utils.logging.disable_progress_bar()
        self.device, self.dtype = self._device_and_dtype()
        if self.capability == TOKENIZE:  # the tokenizer alone: no weights
            from . import tokens

            tokens.load_tokenizer(self)
            self.loaded = True
            return
        if self.capability == INSPECT:  # the config on the meta device, in inspect()
            self.loaded = True
            return
        head = self.head()
        if head not in AUTO_CLASSES and head not in SPEECH_HEADS and head not in VISION_HEADS:
            raise ModelNotFoundError(
                f"model '{self.model.ref}' has an architecture taskdeck does not "
                f"run yet ({', '.join(self._config().get('architectures') or ['none'])})"
            )
        source, kwargs = self._source()
        if head in SPEECH_HEADS or head in VISION_HEADS:  # loaded with their processors
            from . import speech, vision

            if quantization.requested(self.params):
                kind = "speech" if head in SPEECH_HEADS else "vision"
                raise CapabilityError(
                    f"backend.quantization, device_map and max_memory are for text models; '{self.model.ref}' is "
                    f"a {kind} model: drop them"
                )
            (speech if head in SPEECH_HEADS else vision).load(self, head, source, kwargs)
            self._pipelines: dict[str, Any] = {}
            self.loaded = True
            return
        placing = quantization.load_options(self)  # quantization, device map: checked before any weight loads
        with quantization.offload_removed_on_failure(self):
            try:
                self.tokenizer = transformers.AutoTokenizer.from_pretrained(source, **kwargs)
                auto = getattr(transformers, AUTO_CLASSES[head])
                self.hf_model = auto.from_pretrained(source, dtype=self.dtype, **kwargs, **placing)
                if quantization.placed_while_loading(placing):
                    quantization.check_placement(self.hf_model, self.params)
                    quantization.check_4bit_layers(self.hf_model, self.params)
                    self.device = quantization.input_device(self.hf_model)
                else:
                    self.hf_model.to(self.device)
                self.hf_model.eval()
            except (ValueError, RuntimeError, AssertionError) as exc:
                known = quantization.failure(exc, self.params) if placing else None
                if known is None:
                    raise
                raise known from None
            except OSError as exc:
                raise ModelNotFoundError(
                    f"model '{self.model.ref}' could not be loaded: {str(exc).splitlines()[0]}; {_EMBEDDED_HINT}"
                ) from None
            except ImportError as exc:
                raise ModelNotFoundError(f"model '{self.model.ref}': {str(exc).splitlines()[0]}") from None
        if "gguf_file" in kwargs:
            self._save_converted()
        self._pipelines = {}
        self.loaded = True

    def pipeline(self, task: str, **kwargs: Any):
        """A transformers pipeline around the loaded model and tokenizer, built once per task."""
        if task not in self._pipelines:
            from transformers import pipeline

            # a model placed by a device map or quantized while loading stays where it is
            placed = getattr(self.hf_model, "hf_device_map", None) or getattr(self.hf_model, "hf_quantizer", None)
            device = None if placed else self.hf_model.device
            self._pipelines[task] = pipeline(
                task, model=self.hf_model, tokenizer=self.tokenizer, device=device, **kwargs
            )
        return self._pipelines[task]

    def unload(self) -> None:
        for attr in (
            "_pipelines",
            "hf_model",
            "tokenizer",
            "speech_pipeline",
            "vision_pipeline",
            "processor",
            "image_processor",
        ):
            if hasattr(self, attr):
                delattr(self, attr)
        quantization.remove_offload_folder(self)
        self.loaded = False

    def usage(self) -> dict[str, Any]:
        """The loaded model's weights in memory (``memory_footprint_mb``), its quantization and
        dtype, and where a device map put its modules."""
        return quantization.usage(self)

    # ---- helpers every text backend answers ----
    def context_window(self) -> int:
        """A causal LM's position limit, a seq2seq model's encoder limit (the smaller of the
        tokenizer's ``model_max_length`` and the config's positions); 4096 when none is recorded."""
        config = self.hf_model.config
        limits = [getattr(self.tokenizer, "model_max_length", None)]
        limits += [getattr(config, a, None) for a in ("max_position_embeddings", "n_positions", "max_source_positions")]
        found = [int(v) for v in limits if isinstance(v, int) and 0 < v < _UNBOUNDED]
        if found:
            return min(found)
        return 1024 if self.head() == "seq2seq" else DEFAULT_CONTEXT_WINDOW

    def count_tokens(self, text: str) -> int:
        """A seq2seq model's input tokens as ``generate`` feeds it (special tokens included); a
        chat model's tokens of the text alone."""
        special = self.head() != "causal-lm"
        return len(self.tokenizer(text, add_special_tokens=special, truncation=False)["input_ids"])

    def check_language(self, language: Optional[str], translate: bool) -> None:
        if self.head() == "speech-recognition" and self.hf_model.config.model_type == "whisper":
            from . import speech

            speech.check_whisper_language(self, language, translate)

    # ---- capabilities: one module each ----
    def classify(self, texts, *, top_k=1, multi_label=False):
        pipe = self.pipeline("text-classification")
        extra = {"function_to_apply": "sigmoid"} if multi_label else {}
        outputs = pipe(list(texts), top_k=top_k, batch_size=self.params.batch_size, **extra)
        result = []
        for out in outputs:
            out = out if isinstance(out, list) else [out]
            result.append([(d["label"], float(d["score"])) for d in out])
        return result

    def chat(self, messages, *, max_new_tokens=256, temperature=0.0, stream=None, json_schema=None, **options):
        from . import causal_lm

        return causal_lm.chat(
            self, messages, max_new_tokens=max_new_tokens, temperature=temperature, stream=stream, **options
        )

    def score_labels(self, messages, labels):
        from . import causal_lm

        return causal_lm.score_labels(self, messages, labels)

    def zero_shot(self, texts, labels, *, hypothesis_template="This example is {}.", multi_label=False):
        from . import zero_shot

        return zero_shot.zero_shot(
            self, texts, labels, hypothesis_template=hypothesis_template, multi_label=multi_label
        )

    def tag(self, texts, *, aggregation_strategy="simple"):
        from . import tagging

        return tagging.tag(self, texts, aggregation_strategy=aggregation_strategy)

    def extract_answer(self, questions, contexts, **options):
        from . import qa

        return qa.extract_answer(self, questions, contexts, **options)

    def fill_mask(self, texts, *, top_k=5, targets=None):
        from . import fill_mask

        return fill_mask.fill_mask(self, texts, top_k=top_k, targets=targets)

    def seq2seq(self, texts, **options):
        from . import seq2seq

        return seq2seq.generate(self, texts, **options)

    def seq2seq_info(self):
        from . import seq2seq

        return seq2seq.info(self)

    def transcribe(self, audio, **options):
        from . import speech

        return speech.transcribe(self, audio, **options)

    def speak(self, text, **options):
        from . import speech

        return speech.speak(self, text, **options)

    def classify_image(self, images, *, top_k=5):
        from . import vision

        return vision.classify_image(self, images, top_k)

    def zero_shot_image(self, images, labels, *, hypothesis_template="This is a photo of {}."):
        from . import vision

        return vision.zero_shot_image(self, images, labels, hypothesis_template)

    def caption(self, images, *, prompt=None, max_new_tokens=30, **options):
        from . import vision

        return vision.caption(self, images, prompt, max_new_tokens, **options)

    def detect(self, images, *, threshold=0.5):
        from . import vision

        return vision.detect(self, images, threshold)

    def embed(self, texts):
        from . import embed

        return embed.embed(self, texts)

    def tokenize(self, text, *, add_special_tokens=True):
        from . import tokens

        return tokens.tokenize(self, text, add_special_tokens=add_special_tokens)

    def detokenize(self, ids, *, skip_special_tokens=False):
        from . import tokens

        return tokens.detokenize(self, ids, skip_special_tokens=skip_special_tokens)

    def spell(self, ids):
        from . import tokens

        return tokens.spell(self, ids)

    def vocabulary(self):
        from . import tokens

        return tokens.vocabulary(self)

    def render_chat(self, messages, *, add_generation_prompt=True):
        from . import tokens

        return tokens.render_chat(self, messages, add_generation_prompt=add_generation_prompt)

    def inspect(self):
        from . import inspect

        return inspect.inspect(self)


@hookimpl
def register_backends(register):
    register(TransformersBackend)
