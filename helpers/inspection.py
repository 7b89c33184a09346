"""What backends share to describe a model without its weights (``task=inspect``): the
architecture as a tree with repeated blocks folded, the KV-cache size, and the whole
:class:`taskdeck.Inspection` of a GGUF file (llama.cpp and transformers both read it from the
header, ``helpers/gguf.py``).

A backend makes the tree of :class:`TreeNode` s from its modules or tensors; :func:`fold`
turns runs of numbered siblings alike in kind, parameters and children (blocks 0, 1, 2, ...)
into one ``N × kind`` node, and a list whose blocks are all alike into one line
(``layers: 28 × Qwen2DecoderLayer``); :func:`render_tree` draws it, three characters per
level, with the parameter counts in a column.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from taskdeck import Inspection

from .gguf import GGUFHeader, read_header, shown_value, tensor_group, types_by_group
from .gguf import kv_cache_bytes as gguf_kv_cache_bytes

#: GGUF ``general.*`` keys worth showing; the others are provenance (license, tags, URLs, ...).
GGUF_GENERAL_KEYS = (
    "general.architecture", "general.name", "general.size_label", "general.file_type",
    "general.quantization_version", "general.alignment",
)  # fmt: skip
_TREE_DRAWING = "│├└─ "  # a line's depth is the length of its leading drawing, three characters a level
_LABEL_WIDTH = 72


@dataclass
class TreeNode:
    """A module (or tensor) of a model: its kind (class name, or a tensor's shape) and the
    parameters of one instance; ``count`` instances after folding."""

    name: str
    kind: str
    parameters: int = 0
    children: list[TreeNode] = field(default_factory=list)
    count: int = 1
    detail: str = ""  # shown after the kind, not compared when folding (a tensor's types, "tied to ...")
    container: bool = False  # a list of blocks: all alike, it shows as "name: N × kind"

    @cached_property
    def signature(self) -> tuple:
        return (self.kind, self.parameters, self.count, tuple((c.name, c.signature) for c in self.children))


def fold(node: TreeNode) -> TreeNode:
    """The tree with runs of alike numbered siblings (blocks 0, 1, 2, ... of a list) folded into
    one ``N ×`` node showing the first one's subtree."""
    children = [fold(c) for c in node.children]
    runs: list[list[TreeNode]] = []
    for child in children:
        if runs and _repeats(runs[-1][-1], child):
            runs[-1].append(child)
        else:
            runs.append([child])
    folded = [
        run[0]
        if len(run) == 1
        else TreeNode(
            name=f"{run[0].name}-{run[-1].name}",
            kind=run[0].kind,
            parameters=run[0].parameters,
            children=run[0].children,
            count=sum(c.count for c in run),
            detail=run[0].detail,
        )
        for run in runs
    ]
    if node.container and len(folded) == 1 and folded[0].count > 1:
        only = folded[0]
        return TreeNode(node.name, only.kind, only.parameters, only.children, only.count, only.detail)
    return TreeNode(node.name, node.kind, node.parameters, folded, node.count, node.detail, node.container)


def _repeats(before: TreeNode, node: TreeNode) -> bool:
    """``node`` is the next block of a list after ``before`` (numbered in a row) and alike."""
    numbered = before.name.isdigit() and node.name.isdigit() and int(node.name) == int(before.name) + 1
    return numbered and before.signature == node.signature


def render_tree(root: TreeNode) -> str:
    """The (folded) tree as text: one line per node, its parameters (with its children's) at
    the right; a folded node shows ``N × each``."""
    lines: list[tuple[str, str, str]] = []  # (drawing and label, parameters, "(N × each)")

    def walk(node: TreeNode, prefix: str, branch: str) -> None:
        label = node.kind if not branch else f"{node.name}: {node.kind}"
        if node.count > 1:
            label = f"{node.name}: {node.count} × {node.kind}"
        if node.detail:
            label += f"  {node.detail}"
        total = subtree_parameters(node)
        each = f"({node.count} × {total // node.count:,})" if total and node.count > 1 else ""
        lines.append((prefix + branch + label, f"{total:,}" if total else "", each))
        below = prefix + {"": "", "└─ ": "   "}.get(branch, "│  ")
        for i, child in enumerate(node.children):
            walk(child, below, "└─ " if i == len(node.children) - 1 else "├─ ")

    walk(root, "", "")
    width = min(_LABEL_WIDTH, max(len(text) for text, _, _ in lines))
    digits = max(len(total) for _, total, _ in lines)
    return "\n".join(f"{text:<{width}}  {total:>{digits}}  {each}".rstrip() for text, total, each in lines)


def subtree_parameters(node: TreeNode) -> int:
    """Parameters of ``node`` and everything under it, every folded instance counted."""
    return node.count * (node.parameters + sum(subtree_parameters(c) for c in node.children))


def trim_tree(tree: str, depth: int) -> str:
    """A rendered tree without the lines deeper than ``depth`` levels below the root."""
    lines = tree.splitlines()
    kept = [line for line in lines if (len(line) - len(line.lstrip(_TREE_DRAWING))) // 3 <= depth]
    hidden = len(lines) - len(kept)
    if hidden:
        kept.append(f"({hidden} deeper lines hidden: depth={depth + 1} or more shows them)")
    return "\n".join(kept)


def kv_cache_bytes(layers: int, kv_heads: int, head_dim: int, tokens: int = 1000, bytes_per_value: int = 2) -> int:
    """Bytes of a KV cache: a key and a value vector per KV head, per layer, per token."""
    return 2 * layers * kv_heads * head_dim * bytes_per_value * tokens


def gguf_inspection(path: str | Path, model: str) -> Inspection:
    """Everything a GGUF file's header tells: architecture, parameters, tensor types per group,
    memory, KV cache, context, vocabulary, chat template, the metadata worth showing."""
    header = read_header(path)
    meta = header.metadata
    tokens = meta.get("tokenizer.ggml.tokens")
    vocab = len(tokens) if isinstance(tokens, list) else header.arch_value("vocab_size")
    context = header.arch_value("context_length")
    kv = gguf_kv_cache_bytes(header)
    notes = [
        "Parameters: the sum of the element counts of the file's tensors.",
        f"Memory: the '{_gguf_row_name(header)}' row is the tensor data llama.cpp maps; fp32/bf16/fp16 are the same "
        "parameters dequantized, as transformers loads a GGUF file (taskdeck keeps it as fp32).",
    ]
    by_name = {t.name: t for t in header.tensors}
    output, embedding = by_name.get("output.weight"), by_name.get("token_embd.weight")
    if output is not None and embedding is not None and output.shape == embedding.shape:
        notes.append(
            f"output.weight has the shape of token_embd.weight: if the model ties them (Qwen2.5 up to 3B does), "
            f"the file stores the copy and the model has {header.parameters - output.n_elements:,} parameters."
        )
    if kv is not None:
        notes.append("KV cache: keys and values of every KV head in every block, f16 (llama.cpp's default cache type).")
    tensor_types = Counter(t.type for t in header.tensors)
    template = meta.get("tokenizer.chat_template")
    return Inspection(
        model=model,
        source="gguf",
        architecture=header.architecture,
        model_type=header.architecture,
        dtype=header.file_type,
        parameters=header.parameters,
        modules=_gguf_modules(header),
        tree=render_tree(fold(_gguf_tree(header))),
        memory=_gguf_memory(header),
        kv_cache_bytes_per_1000_tokens=kv,
        context_length=context if isinstance(context, int) else None,
        vocab_size=vocab if isinstance(vocab, int) else None,
        generation_config={},
        chat_template=template if isinstance(template, str) else None,
        gguf={
            "file": str(Path(path)),
            "file_size": header.file_size,
            "version": header.version,
            "file_type": header.file_type,
            "name": meta.get("general.name", ""),
            "tensor_count": len(header.tensors),
            "tensor_types": dict(tensor_types.most_common()),
            "tensor_groups": types_by_group(header.tensors),
            "tokenizer_model": meta.get("tokenizer.ggml.model", ""),
            "metadata": {k: _shown(header, k, v) for k, v in meta.items() if _worth_showing(k)},
        },
        notes=notes,
    )


def _shown(header: GGUFHeader, key: str, value: Any) -> Any:
    if key == "general.file_type" and isinstance(value, int):
        return f"{value} ({header.file_type})"
    return shown_value(value)


def _worth_showing(key: str) -> bool:
    if key == "tokenizer.chat_template":  # shown in full apart
        return False
    return not key.startswith("general.") or key in GGUF_GENERAL_KEYS


def _gguf_tree(header: GGUFHeader) -> TreeNode:
    """Tensors as a tree: top-level tensors, and the blocks (``blk.N``) as a list of blocks."""
    types = types_by_group(header.tensors)

    def leaf(name: str, tensor: Any) -> TreeNode:
        counts = types[tensor_group(tensor.name)]  # the types of this tensor in every block
        detail = ", ".join(kind if len(counts) == 1 else f"{kind} ×{n}" for kind, n in counts.items())
        return TreeNode(name, f"[{', '.join(map(str, tensor.shape))}]", tensor.n_elements, detail=detail)

    root = TreeNode("", f"{header.architecture or 'unknown'} (GGUF v{header.version}, {header.file_type})")
    containers: dict[str, TreeNode] = {}
    blocks: dict[tuple[str, str], TreeNode] = {}
    for tensor in header.tensors:
        match = re.match(r"^((?:.+\.)?blk)\.(\d+)\.(.+)$", tensor.name)
        if not match:
            root.children.append(leaf(tensor.name, tensor))
            continue
        prefix, number, rest = match.groups()
        if prefix not in containers:
            containers[prefix] = TreeNode(prefix, "blocks", container=True)
            root.children.append(containers[prefix])
        if (prefix, number) not in blocks:
            blocks[prefix, number] = TreeNode(number, "block")
            containers[prefix].children.append(blocks[prefix, number])
        blocks[prefix, number].children.append(leaf(rest, tensor))
    for container in containers.values():  # files may list blk.10 before blk.2
        container.children.sort(key=lambda block: int(block.name))
    return root


def _gguf_modules(header: GGUFHeader) -> list[dict[str, Any]]:
    """Parameters per top-level part, in file order: ``token_embd``, ``blk`` (all blocks), ``output``."""
    parameters: dict[str, int] = {}
    blocks: dict[str, set[str]] = {}
    for tensor in header.tensors:
        top = tensor.name.split(".")[0]
        parameters[top] = parameters.get(top, 0) + tensor.n_elements
        match = re.match(r"^(?:.+\.)?blk\.(\d+)\.", tensor.name)
        if match:
            blocks.setdefault(top, set()).add(match.group(1))
    return [
        {"module": top, "kind": f"{len(blocks[top])} blocks" if top in blocks else "tensor", "parameters": n}
        for top, n in parameters.items()
    ]


def _gguf_row_name(header: GGUFHeader) -> str:
    return f"gguf {header.file_type}"


def _gguf_memory(header: GGUFHeader) -> list[dict[str, Any]]:
    """Bytes per way of holding the weights, with the largest layer (a top-level tensor or one block)."""
    layers: dict[str, list[Any]] = {}
    for tensor in header.tensors:
        match = re.match(r"^((?:.+\.)?blk\.\d+)\.", tensor.name)
        layers.setdefault(match.group(1) if match else tensor.name.rsplit(".", 1)[0], []).append(tensor)
    rules: list[tuple[str, Any]] = [
        (_gguf_row_name(header), lambda t: t.n_bytes or 0),
        ("fp32", lambda t: 4 * t.n_elements),
        ("bf16", lambda t: 2 * t.n_elements),
        ("fp16", lambda t: 2 * t.n_elements),
    ]
    rows = []
    for dtype, size in rules:
        per_layer = {name: sum(size(t) for t in tensors) for name, tensors in layers.items()}
        largest = max(per_layer.values(), default=0)
        rows.append(
            {
                "dtype": dtype,
                "bytes": sum(per_layer.values()),
                "largest_layer": describe_largest([n for n, b in per_layer.items() if b == largest]),
                "largest_layer_bytes": largest,
            }
        )
    return rows


def describe_largest(names: list[str], limit: int = 3) -> str:
    """Layer names as one cell: the first few, and how many more."""
    shown = ", ".join(names[:limit])
    return shown + (f" (+{len(names) - limit} more)" if len(names) > limit else "")
