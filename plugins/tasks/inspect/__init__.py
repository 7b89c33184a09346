"""``task=inspect``: what a model is made of, offline, without loading its weights.

``model=`` names a pack alias, a local folder (a ``config.json`` alone is enough), a config
``.json`` file, a ``.gguf`` file or a Hub id in the local cache. The backend answers the
``inspect`` capability from metadata only:

- transformers configs: the model is built on the meta device (``accelerate``'s empty
  weights), so a 70B config inspects in seconds. It gives the architecture as a tree with
  repeated blocks folded (``28 × Qwen2DecoderLayer``), the parameters in total and per
  top-level module (tied weights counted once), the memory to load it at fp32, bf16, fp16,
  int8 and nf4 with its largest layer (``accelerate estimate-memory``'s numbers, with int8
  and nf4 counted as bitsandbytes quantizes through transformers), the KV cache per 1,000
  tokens, the context length, the vocabulary, the generation config and the chat template.
- GGUF files (the packs, any ``.gguf``): the header alone, read by ``taskdeck.helpers.gguf``
  without llama.cpp: the same facts, plus the quantization type per tensor group, the file
  size, the tokenizer model and the metadata keys (long arrays summarised).

``depth=`` limits how deep the tree goes; folding keeps a whole model short either way.
"""

from __future__ import annotations

from dataclasses import dataclass

from taskdeck import INSPECT, Inspection, Task, hookimpl, param
from taskdeck.helpers.inspection import trim_tree

from .report import InspectionReport

DEFAULT_MODEL = "qwen2.5-coder-1.5b"


class InspectTask(Task):
    name = "inspect"
    description = (
        "what a model is made of, without its weights: layers, parameters, memory per dtype, KV cache, metadata"
    )
    outputs = ("text", "json", "markdown")
    needs = (INSPECT,)

    @dataclass
    class Params:
        model: str = param(DEFAULT_MODEL, "pack alias, local folder, config .json, .gguf file or Hub id (cached)")
        depth: int = param(4, "levels of the architecture tree shown below the model (repeated blocks fold)", ge=1)

    def run(self, params, ctx) -> Inspection:
        inspection = InspectionReport.of(ctx.model(params.model, needs=self.needs).backend.inspect())
        inspection.tree = trim_tree(inspection.tree, params.depth)
        ctx.metrics["items"] = 1
        return inspection


@hookimpl
def register_tasks(register):
    register(InspectTask)
