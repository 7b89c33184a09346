"""``inspect`` on the transformers backend: what a model is made of, from its config alone.

The model is built from ``config.json`` under ``accelerate.init_empty_weights()`` (every
parameter on the meta device: a 70B config builds in a second, nothing is allocated or read),
as the class the config names (else the Auto class for its head, else ``AutoModel``). From
that empty model come the parameters (tied weights counted once, where first seen), the tree
with repeated blocks folded, and the memory to load it, per dtype, with accelerate's largest
layer (a block in ``_no_split_modules``, else a module without children). int8 and nf4 follow
what bitsandbytes does through transformers: the ``nn.Linear`` weights it converts (not the
output head or the modules transformers skips) take 1 byte per parameter plus a float32 scale
per output row (int8), or half a byte plus a float32 absmax per 64-weight block (nf4); all
else stays 16-bit. The KV cache, the context, the vocabulary, the generation config and the
chat template come from the files beside ``config.json``. A GGUF model is read from its header.
"""

from __future__ import annotations

import json
import math
import re
from collections import defaultdict
from pathlib import Path
from typing import Any, Optional

from taskdeck import Inspection, ModelNotFoundError
from taskdeck.helpers.inspection import (
    TreeNode,
    describe_largest,
    fold,
    gguf_inspection,
    kv_cache_bytes,
    render_tree,
    subtree_parameters,
)

from .heads import AUTO_CLASSES, model_head

#: Rows of the memory table; "nf4 double-quant" is nf4 with bnb_4bit_use_double_quant (taskdeck's default).
MEMORY_DTYPES = ("fp32", "bf16", "fp16", "int8", "nf4", "nf4 double-quant")
NF4_BLOCK = 64  # weights per absmax in bitsandbytes' 4-bit quantization
DOUBLE_QUANT_BLOCKS = 256  # absmax values per float32 scale with bnb_4bit_use_double_quant
#: Generation settings every config has and no reader needs.
_GENERATION_NOISE = {"transformers_version", "use_cache", "output_attentions", "output_hidden_states"}
_LEAF_DETAIL = 60  # characters of a leaf module's extra_repr shown in the tree


def inspect(backend: Any) -> Inspection:
    """The :class:`taskdeck.Inspection` of the backend's model, without loading weights."""
    ref = backend.model
    if ref.format == "gguf":
        return gguf_inspection(ref.path(), model=ref.ref)
    raw = backend._config()
    config = _transformers_config(backend, raw)
    model, notes = _empty_model(backend, config, raw)
    tree = fold(_module_tree(model))
    text = config.get_text_config(decoder=True)
    generation, generation_note = _generation_config(backend, config)
    memory, memory_notes = _memory(model)
    kv, kv_note = _kv_cache(raw, text)
    return Inspection(
        model=ref.ref,
        source="config",
        architecture=type(model).__name__,
        model_type=str(raw.get("model_type", "")),
        dtype=_checkpoint_dtype(raw, text),
        parameters=sum(p.numel() for p in model.parameters()),
        modules=_top_modules(model, tree),
        tree=render_tree(tree),
        memory=memory,
        kv_cache_bytes_per_1000_tokens=kv,
        context_length=_first_int(
            text, ("max_position_embeddings", "n_positions", "max_target_positions", "seq_length")
        ),
        vocab_size=_first_int(text, ("vocab_size",)),
        generation_config=generation,
        chat_template=_chat_template(backend),
        notes=[*notes, *memory_notes, *([kv_note] if kv_note else []), generation_note],
    )


# ---- the config and the empty model ----
def _transformers_config(backend: Any, raw: dict) -> Any:
    """The config as transformers' own class for its ``model_type`` (remote code only when allowed)."""
    import transformers
    from transformers.models.auto.configuration_auto import CONFIG_MAPPING

    ref, model_type = backend.model.ref, raw.get("model_type")
    remote_code = bool(raw.get("auto_map")) and backend.params.trust_remote_code
    if not model_type:
        raise ModelNotFoundError(
            f"model '{ref}': its config has no \"model_type\", so transformers cannot tell what model it is; "
            "give the model's own config.json"
        )
    if remote_code and backend.model.format != "hf-config":
        return transformers.AutoConfig.from_pretrained(
            backend.model.id, trust_remote_code=True, revision=backend.params.revision
        )
    if model_type not in CONFIG_MAPPING:
        if not raw.get("auto_map"):
            fix = "a newer transformers may know it: pip install -U transformers"
        elif backend.model.format == "hf-config":
            fix = "its model ships its own code (auto_map): inspect its folder or Hub id with trust_remote_code"
            fix += " (backend.trust_remote_code=true)"
        else:
            fix = "it ships its own code (auto_map): add backend.trust_remote_code=true if you trust it"
        raise ModelNotFoundError(
            f"model '{ref}': transformers {transformers.__version__} does not know model_type '{model_type}'; {fix}"
        )
    try:
        return CONFIG_MAPPING[model_type].from_dict(raw)
    except (TypeError, ValueError) as exc:
        raise ModelNotFoundError(
            f"model '{ref}': its config is not valid for '{model_type}' ({_first_line(exc)})"
        ) from None


def _empty_model(backend: Any, config: Any, raw: dict) -> tuple[Any, list[str]]:
    """The model on the meta device: the class the config names, else the Auto class for its
    head, else AutoModel; with notes saying which when it is not the named one."""
    import accelerate
    import transformers

    archs = raw.get("architectures") or []
    remote_code = backend.params.trust_remote_code
    builders: list[tuple[str, Any]] = []
    named = getattr(transformers, archs[0], None) if archs else None
    if named is not None and hasattr(named, "_from_config"):
        builders.append((archs[0], lambda: named._from_config(config)))
    auto = AUTO_CLASSES.get(model_head(raw))
    if auto and archs:
        builders.append((auto, lambda: getattr(transformers, auto).from_config(config, trust_remote_code=remote_code)))
    builders.append(("AutoModel", lambda: transformers.AutoModel.from_config(config, trust_remote_code=remote_code)))
    failures = []
    for name, build in builders:
        try:
            with accelerate.init_empty_weights():
                model = build()
        except Exception as exc:  # a config a class cannot be built from fails in any way: one line
            failures.append(f"{name}: {_first_line(exc)}")
            continue
        model.tie_weights()  # init_empty_weights leaves tied weights as two parameters
        notes = []
        if not archs:
            notes.append(f"The config names no architecture: inspected as {type(model).__name__}, without a task head.")
        elif type(model).__name__ != archs[0]:
            notes.append(
                f"The config names {archs[0]}, which transformers does not have: inspected as {type(model).__name__}."
            )
        return model, notes
    raise ModelNotFoundError(
        f"model '{backend.model.ref}': transformers {transformers.__version__} could not build it from its config "
        f"({'; '.join(failures)}); try a newer transformers (pip install -U transformers), or "
        "backend.trust_remote_code=true for a model that ships its own code"
    )


# ---- the tree and the parameters per module ----
def _module_tree(model: Any) -> TreeNode:
    """Every module as a node: its class, its own parameters (a tied one only where first seen)."""
    import torch

    owner: dict[int, str] = {}
    for name, param in model.named_parameters():
        owner.setdefault(id(param), name)

    def node(name: str, qualified: str, module: Any) -> TreeNode:
        own, tied = 0, []
        for pname, param in module.named_parameters(recurse=False):
            full = f"{qualified}.{pname}" if qualified else pname
            if owner.get(id(param)) == full:
                own += param.numel()
            else:
                tied.append(owner.get(id(param), "?"))
        children = [node(n, f"{qualified}.{n}" if qualified else n, m) for n, m in module.named_children()]
        kind = type(module).__name__
        extra = _compact(module.extra_repr()) if not children else ""
        weight = getattr(module, "weight", None)
        if not children and not extra and isinstance(weight, torch.nn.Parameter):  # GPT-2's Conv1D
            extra = "×".join(map(str, weight.shape))
        if extra:
            kind += f"({extra if len(extra) <= _LEAF_DETAIL else extra[: _LEAF_DETAIL - 1] + '…'})"
        detail = f"tied to {', '.join(tied)}" if tied else ""
        container = isinstance(module, (torch.nn.ModuleList, torch.nn.Sequential))
        return TreeNode(name, kind, own, children, detail=detail, container=container)

    return node("", "", model)


def _compact(extra: str) -> str:
    """A leaf's ``extra_repr`` made short: ``in_features=896, out_features=896, bias=True`` -> ``896, 896, bias``."""
    extra = re.sub(r"\b(in_features|out_features|in_channels|out_channels)=", "", extra)
    extra = extra.replace(", elementwise_affine=True", "").replace(", bias=False", "")
    return extra.replace("bias=True", "bias")


def _top_modules(model: Any, tree: TreeNode) -> list[dict[str, Any]]:
    """Parameters per top-level module, the base model's children spelled out (``model.layers``)."""
    prefix = getattr(model, "base_model_prefix", "")
    rows = []
    for child in tree.children:
        expand = prefix and child.name == prefix and getattr(model, prefix, None) is getattr(model, "base_model", None)
        for part, name in [(c, f"{child.name}.{c.name}") for c in child.children] if expand else [(child, child.name)]:
            parameters = subtree_parameters(part)
            if parameters or part.detail:
                kind = f"{part.count} × {part.kind}" if part.count > 1 else part.kind.split("(")[0]
                rows.append({"module": name, "kind": kind, "parameters": parameters, "note": part.detail})
    return rows


# ---- memory per dtype ----
def _memory(model: Any) -> tuple[list[dict[str, Any]], list[str]]:
    """Total and largest-layer bytes per dtype, and the notes that say how they were counted."""
    from accelerate.utils import get_max_layer_size, named_module_tensors

    quantized, skipped = _bitsandbytes_linears(model)
    keep_fp16 = list(getattr(model, "_keep_in_fp32_modules", None) or [])
    keep_strict = list(getattr(model, "_keep_in_fp32_modules_strict", None) or [])
    tensors = [
        (name, t.numel(), t.is_floating_point(), t.element_size(), quantized.get(id(t)))
        for name, t in named_module_tensors(model, include_buffers=True, recurse=True)
    ]

    def size(dtype: str, name: str, numel: int, floating: bool, element: int, rows: Optional[int]) -> int:
        if not floating:
            return numel * element  # integer buffers keep their type
        if rows is not None and dtype == "int8":
            return numel + rows * 4  # int8 weights and a float32 scale per output row (SCB)
        if rows is not None and dtype.startswith("nf4"):
            blocks = math.ceil(numel / NF4_BLOCK)
            if dtype == "nf4":  # packed 4-bit weights and a float32 absmax per block
                return math.ceil(numel / 2) + blocks * 4
            # double quant: each absmax as 8 bits, and a float32 scale per 256 of them
            return math.ceil(numel / 2) + blocks + math.ceil(blocks / DOUBLE_QUANT_BLOCKS) * 4
        if dtype == "fp32":
            return numel * 4
        keep = keep_strict + (keep_fp16 if dtype != "bf16" else [])
        return numel * (4 if any(_in_module(name, k) for k in keep) else 2)

    treat = [
        *model.named_parameters(recurse=False),
        *model.named_children(),
        *model.named_buffers(recurse=False),
    ]
    no_split = list(getattr(model, "_no_split_modules", None) or [])
    rows = []
    for dtype in MEMORY_DTYPES:
        sizes: dict[str, int] = defaultdict(int)
        for name, *facts in tensors:
            nbytes = size(dtype, name, *facts)
            parts = name.split(".")
            for i in range(len(parts) + 1):
                sizes[".".join(parts[:i])] += nbytes
        largest, names = get_max_layer_size(treat, sizes, no_split)
        rows.append(
            {
                "dtype": dtype,
                "bytes": sizes[""],
                "largest_layer": describe_largest(names),
                "largest_layer_bytes": largest,
            }
        )
    not_converted = ", ".join(sorted(skipped)) or "none"
    notes = [
        "Memory: fp32/bf16/fp16 hold every floating tensor at 4/2/2 bytes; the largest layer is counted as "
        "accelerate does (a block transformers never splits, else a module without children).",
        f"Memory int8/nf4: bitsandbytes through transformers quantizes the {len(quantized)} nn.Linear weights it "
        f"converts (not: {not_converted}): int8 at 1 byte per parameter plus a float32 scale per output row, nf4 at "
        f"half a byte plus a float32 absmax per {NF4_BLOCK} weights (double-quant: an 8-bit absmax and a float32 "
        f"scale per {DOUBLE_QUANT_BLOCKS} blocks); embeddings, norms, biases and the skipped modules stay 16-bit.",
    ]
    return rows, notes


def _bitsandbytes_linears(model: Any) -> tuple[dict[int, int], list[str]]:
    """The weights bitsandbytes would quantize (id -> output rows) and the modules transformers
    leaves out, as its bnb quantizers decide (``get_modules_to_not_convert``, ``nn.Linear`` and
    ``Conv1D`` only)."""
    import torch
    from transformers.pytorch_utils import Conv1D
    from transformers.quantizers.base import HfQuantizer
    from transformers.quantizers.quantizers_utils import should_convert_module

    skipped = HfQuantizer.get_modules_to_not_convert(model, None, getattr(model, "_keep_in_fp32_modules", None))
    weights: dict[int, int] = {}
    for name, module in model.named_modules():
        if not should_convert_module(name, skipped):
            continue
        if isinstance(module, Conv1D):
            weights[id(module.weight)] = module.weight.shape[1]
        elif type(module) is torch.nn.Linear:
            weights[id(module.weight)] = module.out_features
    return weights, skipped


def _in_module(tensor_name: str, module: str) -> bool:
    return re.search(rf"(^|\.){re.escape(module)}(\.|$)", tensor_name) is not None


# ---- KV cache, dtype, context ----
def _kv_cache(raw: dict, text: Any) -> tuple[Optional[int], str]:
    """Bytes of a 16-bit KV cache per 1,000 tokens, for a decoder; with the formula as a note."""
    if model_head(raw) != "causal-lm":
        return None, ""
    layers, heads = (
        _first_int(text, ("num_hidden_layers", "n_layer")),
        _first_int(text, ("num_attention_heads", "n_head")),
    )
    hidden = _first_int(text, ("hidden_size", "n_embd"))
    if not layers or not heads:
        return None, ""
    kv_heads = _first_int(text, ("num_key_value_heads",)) or heads
    head_dim = _first_int(text, ("head_dim",)) or (hidden // heads if hidden else None)
    if not head_dim:
        return None, ""
    note = (
        f"KV cache: 2 (keys, values) × {layers} layers × {kv_heads} KV heads × {head_dim} head dims × 2 bytes "
        "(bf16/fp16) × 1,000 tokens."
    )
    return kv_cache_bytes(layers, kv_heads, head_dim), note


def _first_int(config: Any, names: tuple[str, ...]) -> Optional[int]:
    for name in names:
        value = getattr(config, name, None)
        if isinstance(value, int) and not isinstance(value, bool):
            return value
    return None


def _checkpoint_dtype(raw: dict, text: Any) -> str:
    for source in (raw, raw.get("text_config") or {}):
        value = source.get("dtype") or source.get("torch_dtype")
        if value:
            return str(value).removeprefix("torch.")
    value = getattr(text, "dtype", None)
    return str(value).removeprefix("torch.") if value else ""


# ---- files beside config.json ----
def _beside(backend: Any, filename: str) -> Optional[Path]:
    """A file next to the model's config (the Hub cache for a Hub id); None when there is none."""
    ref = backend.model
    if ref.source == "hub":
        try:
            return Path(backend._hub_file(filename))
        except ModelNotFoundError:
            return None
    folder = ref.path().parent if ref.format == "hf-config" else ref.path()
    path = Path(folder) / filename
    return path if path.is_file() else None


def _generation_config(backend: Any, config: Any) -> tuple[dict[str, Any], str]:
    path = _beside(backend, "generation_config.json")
    if path is not None:
        try:
            found = json.loads(path.read_text())
            return _shown_generation(found), "Generation config: generation_config.json."
        except (OSError, ValueError):
            pass
    from transformers import GenerationConfig

    derived = GenerationConfig.from_model_config(config).to_diff_dict()
    return _shown_generation(derived), "Generation config: no generation_config.json; derived from config.json."


def _shown_generation(values: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in values.items() if not k.startswith("_") and k not in _GENERATION_NOISE}


def _chat_template(backend: Any) -> Optional[str]:
    """``chat_template.jinja``, else ``tokenizer_config.json``'s ``chat_template`` (the default
    one when it lists several)."""
    jinja = _beside(backend, "chat_template.jinja")
    if jinja is not None:
        return jinja.read_text()
    path = _beside(backend, "tokenizer_config.json")
    if path is None:
        return None
    try:
        template = json.loads(path.read_text()).get("chat_template")
    except (OSError, ValueError, AttributeError):
        return None
    if isinstance(template, list):  # [{"name": "default", "template": ...}, {"name": "tool_use", ...}]
        named = {t.get("name"): t.get("template") for t in template if isinstance(t, dict)}
        template = named.get("default") or next(iter(named.values()), None)
    return template if isinstance(template, str) else None


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]
