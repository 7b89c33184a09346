"""transformers backend: Hub ids, local folders, and GGUF packs (dequantized).

Offers, depending on the model's architecture (read from its config, no weights loaded):
``classify`` (and ``zero_shot`` for NLI models) for sequence classifiers, ``tag`` for token
classifiers, ``extract_answer`` for extractive QA, ``fill_mask`` for masked LMs, ``seq2seq``
for encoder-decoders, ``chat`` and ``score_labels`` for causal LMs, ``embed`` for bare
encoders, ``transcribe`` for speech recognisers (Whisper, wav2vec2) and ``speak`` for
text-to-speech models (VITS/MMS-TTS, Bark, SpeechT5). The code of each
capability lives in ``taskdeck.plugins.backends.hf``. ``HF_HUB_OFFLINE`` makes every load
local-files-only; ``trust_remote_code`` stays off unless asked for.
"""
from __future__ import annotations

import importlib.util
import json
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional

from taskdeck import (CHAT, CLASSIFY, EMBED, EXTRACT_ANSWER, FILL_MASK, SCORE_LABELS, SEQ2SEQ, SPEAK, TAG,
                      TRANSCRIBE, ZERO_SHOT, Backend, BackendParams, Generation, ModelNotFoundError, hookimpl)
from taskdeck.label_scoring import label_variants, score_token_sequences
from taskdeck.models import hub_offline
from taskdeck.packs import cache_dir

from .hf.speech import speech_kind

_EMBEDDED_HINT = "or use an embedded model, e.g. model=qwen2.5-coder-1.5b (task=plugins lists them)"


@dataclass
class TransformersParams(BackendParams):
    name: str = "transformers"
    dtype: str = "auto"                 # auto (float32 on CPU, the checkpoint's on GPU) | float32 | bfloat16 | float16
    batch_size: int = 8                 # inputs per forward pass for batched tasks
    trust_remote_code: bool = False     # run code shipped with a Hub model: only when you trust it
    revision: Optional[str] = None      # Hub branch, tag or commit


class TransformersBackend(Backend):
    name = "transformers"
    description = "transformers: any Hub id or local folder, and GGUF packs dequantized"
    Params = TransformersParams
    formats = ("hf", "gguf")
    all_capabilities = (CLASSIFY, ZERO_SHOT, TAG, EXTRACT_ANSWER, FILL_MASK, SEQ2SEQ, CHAT, SCORE_LABELS, EMBED,
                        TRANSCRIBE, SPEAK)
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
        if self.model.source == "hub":
            path = self._hub_file("config.json")
        else:
            path = Path(self.model.path()) / "config.json"
        try:
            return json.loads(Path(path).read_text())
        except (OSError, ValueError) as exc:
            raise ModelNotFoundError(f"model '{self.model.ref}' has no readable config.json ({exc})") from None

    def _hub_file(self, filename: str) -> str:
        from huggingface_hub import hf_hub_download

        try:
            return hf_hub_download(self.model.ref, filename, revision=self.params.revision,
                                   local_files_only=hub_offline())
        except Exception as exc:  # offline, not cached, no network, no such repo
            why = ("HF_HUB_OFFLINE is set and it is not in the local Hugging Face cache"
                   if hub_offline() else f"it could not be fetched from the Hub ({type(exc).__name__})")
            raise ModelNotFoundError(f"model '{self.model.ref}': {why}; download it where the Hub is "
                                     f"reachable, pass a local folder, {_EMBEDDED_HINT}") from None

    def kind(self) -> str:
        """What the model is, from its config: one of the keys of ``_AUTO_CLASSES``."""
        if not hasattr(self, "_kind"):
            self._kind = model_kind(self._config())
        return self._kind

    def capabilities(self) -> set[str]:
        kind = self.kind()
        if kind == "sequence-classification":
            labels = [str(v).lower() for v in (self._config().get("id2label") or {}).values()]
            return {CLASSIFY, ZERO_SHOT} if any(v.startswith("entail") for v in labels) else {CLASSIFY}
        return set(_KIND_CAPABILITIES.get(kind, ()))

    # ---- loading ----
    def _device_and_dtype(self):
        import torch

        device = self.params.device
        if device == "auto":
            device = "cuda" if torch.cuda.is_available() else "cpu"
        dtype = self.params.dtype
        if dtype == "auto":
            dtype = torch.float32 if device == "cpu" else "auto"
        else:
            dtype = getattr(torch, dtype)
        return device, dtype

    def _source(self) -> tuple[str, dict]:
        common = {"trust_remote_code": self.params.trust_remote_code, "revision": self.params.revision,
                  "local_files_only": hub_offline() or self.model.source != "hub"}
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
        quantizer = getattr(self.lm, "hf_quantizer", None)
        qconfig = getattr(self.lm.config, "quantization_config", None)
        try:
            # The weights are already dequantized: save them as a plain checkpoint.
            self.lm.hf_quantizer = None
            if qconfig is not None:
                del self.lm.config.quantization_config
            self.lm.save_pretrained(tmp)
            self.tokenizer.save_pretrained(tmp)
            (tmp / ".complete").write_text(str(self.model.path()))
            shutil.rmtree(target, ignore_errors=True)
            os.replace(tmp, target)
        except OSError:  # a full disk only costs the next load its speed
            shutil.rmtree(tmp, ignore_errors=True)
        finally:
            self.lm.hf_quantizer = quantizer
            if qconfig is not None:
                self.lm.config.quantization_config = qconfig

    def load(self) -> None:
        import torch
        import transformers

        if self.params.threads:
            torch.set_num_threads(self.params.threads)
        if not sys.stderr.isatty():  # progress bars only for a person watching
            transformers.utils.logging.disable_progress_bar()
        self.device, self.dtype = self._device_and_dtype()
        kind = self.kind()
        if kind not in _AUTO_CLASSES and kind not in _SPEECH_KINDS:
            raise ModelNotFoundError(f"model '{self.model.ref}' has an architecture taskdeck does not "
                                     f"run yet ({', '.join(self._config().get('architectures') or ['none'])})")
        source, kwargs = self._source()
        if kind in _SPEECH_KINDS:  # a pipeline loads the model with its processor
            from .hf import speech
            speech.load(self, kind, source, kwargs)
            self._pipelines = {}
            self.loaded = True
            return
        try:
            self.tokenizer = transformers.AutoTokenizer.from_pretrained(source, **kwargs)
            auto = getattr(transformers, _AUTO_CLASSES[kind])
            self.hf_model = auto.from_pretrained(source, dtype=self.dtype, **kwargs)
            self.hf_model.to(self.device).eval()
        except OSError as exc:
            raise ModelNotFoundError(f"model '{self.model.ref}' could not be loaded: "
                                     f"{str(exc).splitlines()[0]}; {_EMBEDDED_HINT}") from None
        except ImportError as exc:
            raise ModelNotFoundError(f"model '{self.model.ref}': {str(exc).splitlines()[0]}") from None
        if "gguf_file" in kwargs:
            self._save_converted()
        self._pipelines: dict[str, Any] = {}
        self.loaded = True

    @property
    def lm(self):  # the causal LM (chat, label scoring)
        return self.hf_model

    def pipeline(self, task: str, **kwargs: Any):
        """A transformers pipeline around the loaded model and tokenizer, built once per task."""
        if task not in self._pipelines:
            from transformers import pipeline

            self._pipelines[task] = pipeline(task, model=self.hf_model, tokenizer=self.tokenizer,
                                             device=self.hf_model.device, **kwargs)
        return self._pipelines[task]

    def unload(self) -> None:
        for attr in ("_pipelines", "hf_model", "tokenizer", "speech_pipeline"):
            if hasattr(self, attr):
                delattr(self, attr)
        self.loaded = False

    # ---- classify ----
    def classify(self, texts, top_k=1, batch_size=None, multi_label=False):
        pipe = self.pipeline("text-classification")
        extra = {"function_to_apply": "sigmoid"} if multi_label else {}
        outputs = pipe(list(texts), top_k=top_k, batch_size=batch_size or self.params.batch_size, **extra)
        result = []
        for out in outputs:
            out = out if isinstance(out, list) else [out]
            result.append([(d["label"], float(d["score"])) for d in out])
        return result

    # ---- chat and label scoring ----
    def _encode(self, messages):
        return self.tokenizer.apply_chat_template(list(messages), add_generation_prompt=True,
                                                  return_tensors="pt", return_dict=True)

    def chat(self, messages, *, max_new_tokens=256, temperature=0.0, stream=None,
             json_schema=None, **options: Any) -> Generation:
        import torch
        from transformers import TextStreamer

        inputs = self._encode(messages).to(self.device)
        gen: dict[str, Any] = dict(max_new_tokens=max_new_tokens, do_sample=temperature > 0)
        if temperature > 0:
            gen["temperature"] = temperature
        for key in ("top_p", "top_k", "repetition_penalty", "num_beams"):
            if options.get(key) is not None:
                gen[key] = options[key]
        if options.get("stop"):
            gen["stop_strings"], gen["tokenizer"] = options["stop"], self.tokenizer
        if options.get("seed") is not None:
            torch.manual_seed(int(options["seed"]))
        streamer = None
        beams = (options.get("num_beams") or 1) > 1  # beam search cannot stream: emit at the end
        if stream is not None and not beams:
            class _Callback(TextStreamer):
                def on_finalized_text(self, text: str, stream_end: bool = False) -> None:
                    if text:
                        stream(text)
            streamer = _Callback(self.tokenizer, skip_prompt=True, skip_special_tokens=True)
        start = time.perf_counter()
        with torch.inference_mode():
            out = self.lm.generate(**inputs, streamer=streamer, pad_token_id=self.tokenizer.eos_token_id, **gen)
        seconds = time.perf_counter() - start
        n_prompt = inputs["input_ids"].shape[1]
        new = out[0, n_prompt:]
        text = self.tokenizer.decode(new, skip_special_tokens=True)
        if stream is not None and beams and text:
            stream(text)
        return Generation(text=text, prompt_tokens=n_prompt, completion_tokens=int(new.shape[0]),
                          seconds=seconds, finish_reason="length" if new.shape[0] >= max_new_tokens else "stop")

    def score_labels(self, messages, labels) -> dict[str, float]:
        import torch

        prompt = self._encode(messages)["input_ids"][0].tolist()

        def next_logprobs(prefix):
            ids = torch.tensor([prompt + list(prefix)], device=self.device)
            with torch.inference_mode():
                logits = self.lm(input_ids=ids).logits[0, -1].float()
            return torch.log_softmax(logits, dim=-1).cpu()

        seqs = {label: [self.tokenizer.encode(v, add_special_tokens=False) for v in label_variants(label)]
                for label in labels}
        return score_token_sequences(seqs, next_logprobs)


    # ---- capabilities implemented in taskdeck.plugins.backends.hf ----
    def zero_shot(self, *args: Any, **kwargs: Any):
        from .hf import zero_shot
        return zero_shot.zero_shot(self, *args, **kwargs)

    def tag(self, *args: Any, **kwargs: Any):
        from .hf import tagging
        return tagging.tag(self, *args, **kwargs)

    def extract_answer(self, *args: Any, **kwargs: Any):
        from .hf import qa
        return qa.extract_answer(self, *args, **kwargs)

    def fill_mask(self, *args: Any, **kwargs: Any):
        from .hf import fill_mask
        return fill_mask.fill_mask(self, *args, **kwargs)

    def seq2seq(self, *args: Any, **kwargs: Any):
        from .hf import seq2seq
        return seq2seq.generate(self, *args, **kwargs)

    def transcribe(self, audio, **options: Any):
        from .hf import speech
        return speech.transcribe(self, audio, **options)

    def speak(self, text, **options: Any):
        from .hf import speech
        return speech.speak(self, text, **options)

    def embed(self, *args: Any, **kwargs: Any):
        from .hf import embed
        return embed.embed(self, *args, **kwargs)


# Model kinds: the Auto class that loads each, and the capabilities it offers.
_AUTO_CLASSES = {
    "sequence-classification": "AutoModelForSequenceClassification",
    "token-classification": "AutoModelForTokenClassification",
    "question-answering": "AutoModelForQuestionAnswering",
    "masked-lm": "AutoModelForMaskedLM",
    "seq2seq": "AutoModelForSeq2SeqLM",
    "causal-lm": "AutoModelForCausalLM",
    "feature-extraction": "AutoModel",
}
_KIND_CAPABILITIES = {
    "token-classification": (TAG,),
    "question-answering": (EXTRACT_ANSWER,),
    "masked-lm": (FILL_MASK,),
    "seq2seq": (SEQ2SEQ,),
    "causal-lm": (CHAT, SCORE_LABELS),
    "feature-extraction": (EMBED,),
    "speech-recognition": (TRANSCRIBE,),
    "text-to-speech": (SPEAK,),
}
_SPEECH_KINDS = ("speech-recognition", "text-to-speech")


def model_kind(config: dict) -> str:
    """The kind of model a config describes (``unknown`` when taskdeck has no use for it)."""
    archs = config.get("architectures") or []
    suffixes = [("ForSequenceClassification", "sequence-classification"),
                ("ForTokenClassification", "token-classification"),
                ("ForQuestionAnswering", "question-answering"),
                ("ForMaskedLM", "masked-lm")]
    for suffix, kind in suffixes:
        if any(a.endswith(suffix) for a in archs):
            return kind
    speech = speech_kind(config)
    if speech:
        return speech
    if config.get("is_encoder_decoder"):
        return "seq2seq"
    if any(a.endswith(("ForCausalLM", "LMHeadModel", "ForConditionalGeneration")) for a in archs):
        return "causal-lm"
    if any(a.endswith("Model") for a in archs):  # a bare encoder: sentence embeddings
        return "feature-extraction"
    return "unknown"


@hookimpl
def register_backends(register):
    register(TransformersBackend)
