"""How ``task=inspect`` shows an :class:`~taskdeck.Inspection`: the facts, the architecture
tree, parameters per module, memory per dtype (as ``accelerate estimate-memory`` prints it),
GGUF quantization and metadata, on the terminal and in Markdown."""

from __future__ import annotations

import dataclasses
import textwrap
from typing import Any, Optional

from taskdeck import Inspection
from taskdeck.helpers.markdown import markdown_table


class InspectionReport(Inspection):
    """An :class:`~taskdeck.Inspection` with its terminal summary, rows and Markdown."""

    @classmethod
    def of(cls, inspection: Inspection) -> InspectionReport:
        return cls(**{f.name: getattr(inspection, f.name) for f in dataclasses.fields(inspection)})

    def facts(self) -> list[tuple[str, str]]:
        """The one-line facts, label and value, in the order the summary shows them."""
        rows = [("model", self.model), ("architecture", self.architecture)]
        if self.model_type and self.model_type != self.architecture:
            rows.append(("model type", self.model_type))
        rows.append(("parameters", f"{self.parameters:,} ({_short_count(self.parameters)})"))
        if self.dtype:
            rows.append(("dtype", self.dtype))
        if self.context_length:
            rows.append(("context", f"{self.context_length:,} tokens"))
        if self.vocab_size:
            rows.append(("vocabulary", f"{self.vocab_size:,} tokens"))
        kv = self.kv_cache_bytes_per_1000_tokens
        if kv:
            full = f"; {_size(kv * self.context_length // 1000)} at the full context" if self.context_length else ""
            rows.append(("KV cache", f"{_size(kv)} per 1,000 tokens (16-bit){full}"))
        if self.gguf:
            g = self.gguf
            rows.append(
                ("file", f"{_size(g.get('file_size', 0))}, GGUF v{g.get('version')}, {g.get('tensor_count')} tensors")
            )
            if g.get("tokenizer_model"):
                rows.append(("tokenizer", str(g["tokenizer_model"])))
        return rows

    def summary(self) -> str:
        width = max(len(label) for label, _ in self.facts())
        out = [f"{label:<{width}}  {value}" for label, value in self.facts()]
        if self.tree:
            out += ["", "Architecture", self.tree]
        if self.modules:
            out += ["", "Parameters", _aligned(self._module_rows(), right={"parameters", "share"})]
        if self.memory:
            out += ["", "Memory to load", _box_table(self._memory_cells())]
        groups = self.gguf.get("tensor_groups") or {}
        if groups:
            rows = [{"tensor": g, "types": _type_counts(t)} for g, t in groups.items()]
            out += ["", "Quantization per tensor group", _aligned(rows)]
        if self.generation_config:
            out += ["", "Generation config", *(f"  {k}: {v}" for k, v in self.generation_config.items())]
        if self.chat_template:
            lines = self.chat_template.strip().splitlines()
            shown = lines[:_TEMPLATE_LINES]
            more = f" (first {len(shown)} of {len(lines)} lines)" if len(lines) > len(shown) else ""
            out += ["", f"Chat template{more}", *(f"  {line}" for line in shown)]
        metadata = self.gguf.get("metadata") or {}
        if metadata:
            out += ["", "Metadata", *(f"  {k}: {v}" for k, v in metadata.items())]
        if self.notes:
            wrapped = (textwrap.fill(n, 100, initial_indent="  - ", subsequent_indent="    ") for n in self.notes)
            out += ["", "Notes", *wrapped]
        return "\n".join(out)

    def rows(self) -> list[dict[str, Any]]:
        """One row per dtype of the memory table."""
        return [
            {
                "model": self.model,
                "parameters": self.parameters,
                "dtype": m["dtype"],
                "total_bytes": m["bytes"],
                "total_size": _size(m["bytes"]),
                "largest_layer": m["largest_layer"],
                "largest_layer_bytes": m["largest_layer_bytes"],
                "largest_layer_size": _size(m["largest_layer_bytes"]),
            }
            for m in self.memory
        ]

    def to_markdown(self) -> Optional[str]:
        out = [f"# Inspection: {self.model}", "", markdown_table([{"": k, " ": v} for k, v in self.facts()])]
        if self.tree:
            out += ["## Architecture", "", "```text", self.tree, "```", ""]
        if self.modules:
            out += ["## Parameters", "", markdown_table(self._module_rows())]
        if self.memory:
            out += ["## Memory to load", "", markdown_table(self._memory_cells())]
        groups = self.gguf.get("tensor_groups") or {}
        if groups:
            rows = [{"tensor": g, "types": _type_counts(t)} for g, t in groups.items()]
            out += ["## Quantization per tensor group", "", markdown_table(rows)]
        if self.generation_config:
            rows = [{"setting": k, "value": v} for k, v in self.generation_config.items()]
            out += ["## Generation config", "", markdown_table(rows)]
        if self.chat_template:
            out += ["## Chat template", "", "```jinja", self.chat_template.strip(), "```", ""]
        metadata = self.gguf.get("metadata") or {}
        if metadata:
            out += ["## Metadata", "", markdown_table([{"key": k, "value": v} for k, v in metadata.items()])]
        if self.notes:
            out += ["## Notes", "", *(f"- {n}" for n in self.notes), ""]
        return "\n".join(out)

    def _module_rows(self) -> list[dict[str, Any]]:
        total = self.parameters or 1
        rows = [
            {
                "module": m["module"],
                "kind": m.get("kind", ""),
                "parameters": f"{m['parameters']:,}",
                "share": f"{100 * m['parameters'] / total:.1f}%",
                "note": m.get("note", ""),
            }
            for m in self.modules
        ]
        rows.append({"module": "total", "kind": "", "parameters": f"{self.parameters:,}", "share": "", "note": ""})
        if not any(r["note"] for r in rows):
            for r in rows:
                del r["note"]
        return rows

    def _memory_cells(self) -> list[dict[str, Any]]:
        """accelerate estimate-memory's columns, the largest layer named."""
        return [
            {
                "dtype": m["dtype"],
                "Largest Layer": f"{_size(m['largest_layer_bytes'])} ({m['largest_layer']})",
                "Total Size": _size(m["bytes"]),
            }
            for m in self.memory
        ]


_TEMPLATE_LINES = 8  # chat template lines the terminal summary shows


def _size(n: int) -> str:
    """Bytes in binary units, three significant digits: ``1.84 GiB``, ``519 MiB``."""
    value, unit = float(n), "B"
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if value < 1024 or unit == "TiB":
            break
        value /= 1024
    if unit == "B":
        return f"{int(value)} B"
    return f"{value:.2f} {unit}" if value < 10 else f"{value:.1f} {unit}" if value < 100 else f"{value:.0f} {unit}"


def _short_count(n: int) -> str:
    for size, suffix in ((10**12, "T"), (10**9, "B"), (10**6, "M"), (10**3, "K")):
        if n >= size:
            return f"{n / size:.3g}{suffix}"
    return str(n)


def _type_counts(counts: dict[str, int]) -> str:
    """``{"Q4_K": 24, "Q6_K": 4}`` -> ``Q4_K ×24, Q6_K ×4``; one tensor: its type alone."""
    return ", ".join(kind if n == 1 and len(counts) == 1 else f"{kind} ×{n}" for kind, n in counts.items())


def _aligned(rows: list[dict[str, Any]], right: frozenset[str] | set[str] = frozenset()) -> str:
    """Rows as indented columns under a header; ``right`` columns aligned right."""
    cols = list(rows[0])
    widths = {c: max(len(c), *(len(str(r[c])) for r in rows)) for c in cols}

    def line(cells: dict[str, Any]) -> str:
        parts = [f"{str(cells[c]):>{widths[c]}}" if c in right else f"{str(cells[c]):<{widths[c]}}" for c in cols]
        return ("  " + "  ".join(parts)).rstrip()

    return "\n".join([line({c: c for c in cols}), *(line(r) for r in rows)])


def _box_table(rows: list[dict[str, Any]]) -> str:
    """Rows in a box-drawn table, as ``accelerate estimate-memory`` prints its estimate."""
    cols = list(rows[0])
    widths = [max(len(c), *(len(str(r[c])) for r in rows)) + 2 for c in cols]

    def rule(left: str, mid: str, right: str) -> str:
        return left + mid.join("─" * w for w in widths) + right

    def line(cells: list[str]) -> str:
        return "│" + "│".join(f" {c:<{w - 2}} " for c, w in zip(cells, widths)) + "│"

    body = [line([str(r[c]) for c in cols]) for r in rows]
    return "\n".join([rule("┌", "┬", "┐"), line(cols), rule("├", "┼", "┤"), *body, rule("└", "┴", "┘")])
