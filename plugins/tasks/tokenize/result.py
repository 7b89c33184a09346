"""The results of ``task=tokenize``: one tokenizer's view of a text, and several side by side.

Each shows token boundaries the way tokenizer playgrounds do: a colour per token with
whitespace made visible (``·`` a space, ``→`` a tab, ``↵`` a newline) on a terminal that
wants colour, ``|`` between tokens on one that does not, coloured spans in HTML.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from typing import Any, ClassVar, Optional

from taskdeck import Result
from taskdeck.helpers.markdown import markdown_table

#: Pale backgrounds (ANSI 256-colour numbers and their HTML twins), cycled token by token.
_ANSI_BACKGROUNDS = (153, 223, 194, 218, 189, 230)
_HTML_BACKGROUNDS = ("#bfdbfe", "#fed7aa", "#bbf7d0", "#fbcfe8", "#ddd6fe", "#fef08a")
_SPECIAL_ANSI = "\x1b[1;97;45m"  # special tokens stand out: bold white on magenta
_SPECIAL_HTML = "background:#a21caf;color:#fff;font-weight:600"
_RESET = "\x1b[0m"
_VISIBLE = {" ": "·", "\t": "→", "\n": "↵\n", "\r": "␍"}
TERMINAL_ROWS = 200  # token rows the terminal shows; the files hold them all
TERMINAL_SPANS = 15  # differing spans the terminal shows


def visible(text: str) -> str:
    """Whitespace drawn as visible marks (a newline keeps its line break)."""
    return "".join(_VISIBLE.get(c, c) for c in text)


def escaped(piece: str) -> str:
    """A piece on one table line: quotes, and whitespace written as escapes."""
    return "'" + piece.replace("\\", "\\\\").replace("\n", "\\n").replace("\t", "\\t").replace("\r", "\\r") + "'"


def _shown(token: dict[str, Any], text: str) -> str:
    """What a token that covers no text shows: its spelling (an added special token such as
    a BOS), else its decoded piece."""
    return token["token"] if token["special"] else token["piece"]


def _gaps(tokens: list[dict[str, Any]], text: str) -> list[tuple[str, Optional[dict[str, Any]]]]:
    """The text cut into (part, token) in order: each token's part, and the text no token
    covers (spaces WordPiece drops) as parts without a token. A character split over several
    byte tokens is shown once, with the first of them."""
    parts: list[tuple[str, Optional[dict[str, Any]]]] = []
    at = 0
    for t in tokens:
        if t["end"] > t["start"]:
            if t["start"] > at:
                parts.append((text[at : t["start"]], None))
            if t["end"] <= at:  # more bytes of a character an earlier token shows
                continue
            parts.append((text[max(at, t["start"]) : t["end"]], t))
        else:
            parts.append((_shown(t, text), t))
        at = max(at, t["end"])
    if at < len(text):
        parts.append((text[at:], None))
    return parts


def coloured(tokens: list[dict[str, Any]], text: str, colour: bool) -> str:
    out, n = [], 0
    for part, token in _gaps(tokens, text):
        shown = visible(part)
        if token is None:
            out.append(shown)
        elif not colour:
            out.append(shown + "|")
        elif token["special"]:
            out.append(f"{_SPECIAL_ANSI}{shown}{_RESET}")
        else:
            out.append(f"\x1b[30;48;5;{_ANSI_BACKGROUNDS[n % len(_ANSI_BACKGROUNDS)]}m{shown}{_RESET}")
            n += 1
    line = "".join(out)
    return line[:-1] if not colour and line.endswith("|") else line


def coloured_html(tokens: list[dict[str, Any]], text: str) -> str:
    out, n = [], 0
    for part, token in _gaps(tokens, text):
        shown = html.escape(visible(part))
        if token is None:
            out.append(shown)
            continue
        tip = html.escape(f"{token['id']} {token['token']}", quote=True)
        if token["special"]:
            style = _SPECIAL_HTML
        else:
            style = f"background:{_HTML_BACKGROUNDS[n % len(_HTML_BACKGROUNDS)]}"
            n += 1
        out.append(f'<span class="tok" style="{style}" title="{tip}">{shown}</span>')
    return '<pre class="tokens">' + "".join(out) + "</pre>"


_PAGE_STYLE = (
    "<style>pre.tokens{white-space:pre-wrap;font:15px/1.9 ui-monospace,monospace}"
    "span.tok{border-radius:3px;padding:1px 0;margin-right:1px}"
    "table{border-collapse:collapse;font:13px ui-monospace,monospace}"
    "td,th{border:1px solid #ccc;padding:2px 6px;text-align:left}</style>"
)


def _html_table(rows: list[dict[str, Any]]) -> str:
    if not rows:
        return ""
    head = "".join(f"<th>{html.escape(str(k))}</th>" for k in rows[0])
    body = "".join("<tr>" + "".join(f"<td>{html.escape(str(v))}</td>" for v in r.values()) + "</tr>" for r in rows)
    return f"<table><tr>{head}</tr>{body}</table>"


def _md_table(rows: list[dict[str, Any]]) -> str:
    """A Markdown table in which a newline piece reads ``\\n`` rather than a blank."""
    if not rows:
        return ""
    return markdown_table(
        [{k: v.replace("\n", "\\n") if isinstance(v, str) else v for k, v in r.items()} for r in rows]
    )


def _count_line(c: dict[str, Any]) -> str:
    if not c:
        return ""
    return (
        f"{c['tokens']:,} tokens · {c['characters']:,} characters · {c['words']:,} words · "
        f"{c['chars_per_token']} characters/token · {c['tokens_per_word']} tokens/word"
    )


def _round_trip_line(rt: dict[str, Any], mode: str) -> str:
    if not rt:
        return ""
    if rt.get("ok"):
        if mode == "ids":
            return "round trip: encoding the decoded text gives the same ids"
        return "round trip: decode(encode(text)) gives the text back"
    return (
        f"round trip: differs at character {rt['at']}: {rt['expected']!r} → {rt['got']!r} ({rt['why']})"
        if "expected" in rt
        else f"round trip: {rt.get('why', 'differs')}"
    )


@dataclass
class Tokenization(Result):
    """One tokenizer's tokens for a text (``mode=text``), for ids (``ids``) or for a
    conversation rendered with the chat template (``chat``)."""

    kind: ClassVar[str] = "tokens"
    model: str
    mode: str  # "text" | "ids" | "chat"
    text: str  # the text tokenized, the ids decoded, or the rendered conversation
    tokens: list[dict[str, Any]] = field(default_factory=list)  # Token fields plus "position"
    counts: dict[str, Any] = field(default_factory=dict)
    vocabulary: dict[str, Any] = field(default_factory=dict)
    round_trip: dict[str, Any] = field(default_factory=dict)
    #: Chat mode: the messages' count, add_generation_prompt, and each special token's count.
    template: dict[str, Any] = field(default_factory=dict)
    library: str = ""
    table: bool = True  # False: counts only (a batch row), written flat

    def to_dict(self) -> dict[str, Any]:
        if self.table:
            return super().to_dict()
        check = self.round_trip
        return {
            "kind": self.kind,
            "model": self.model,
            "text": self.text,
            **{k: v for k, v in self.counts.items()},
            "round_trip": "ok" if check.get("ok") else check.get("why", ""),
        }

    def rows(self) -> list[dict[str, Any]]:
        if not self.table:
            return [{k: v for k, v in self.to_dict().items() if k not in ("kind", "text")}]
        return [{k: t[k] for k in ("position", "id", "token", "piece", "start", "end", "special")} for t in self.tokens]

    def summary(self) -> str:
        return self.to_terminal(colour=False)

    def _header(self) -> str:
        v = self.vocabulary
        bits = [self.model, self.library, v.get("kind", ""), f"vocabulary {v.get('size', 0):,}"]
        adds = v.get("adds")
        if self.mode == "text":
            bits.append(f"adds {', '.join(adds)}" if adds else "adds no special tokens")
        return " · ".join(b for b in bits if b)

    def _special_line(self) -> str:
        v = self.vocabulary
        named = " · ".join(f"{s['role']} {s['token']} ({s['id']})" for s in v.get("special", []))
        added = v.get("added", [])
        more = f"; {len(added):,} control/added tokens" if added else ""
        if added:
            more += " (" + ", ".join(s["token"] for s in added[:6]) + (", …)" if len(added) > 6 else ")")
        return f"special tokens: {named or 'none'}{more}"

    def to_terminal(self, colour: bool) -> str:
        if not self.table:
            return f"{self.model}: {_count_line(self.counts)}"
        out = [self._header()]
        if self.mode == "chat":
            t = self.template
            marks = ", ".join(f"{k} ×{n}" for k, n in t.get("special", {}).items())
            out.append(
                f"chat template: {t.get('messages', 0)} messages, generation prompt "
                f"{'added' if t.get('add_generation_prompt') else 'not added'}; template tokens: {marks or 'none'}"
            )
        out += ["", coloured(self.tokens, self.text, colour), ""]
        out += [line for line in (_count_line(self.counts), _round_trip_line(self.round_trip, self.mode)) if line]
        out.append(self._special_line())
        if self.tokens:
            out += ["", f"{'pos':>5} {'id':>8}  {'token':<20} {'piece':<20} span"]
            for t in self.tokens[:TERMINAL_ROWS]:
                mark = " *" if t["special"] else ""
                out.append(
                    f"{t['position']:>5} {t['id']:>8}  {t['token']:<20} {escaped(t['piece']):<20} "
                    f"{t['start']}-{t['end']}{mark}"
                )
            if len(self.tokens) > TERMINAL_ROWS:
                out.append(f"  … {len(self.tokens) - TERMINAL_ROWS:,} more tokens (output=json or csv holds them all)")
        return "\n".join(out)

    def to_markdown(self) -> Optional[str]:
        out = [f"# Tokens: {self.model}", "", self._header(), ""]
        lines = (_count_line(self.counts), _round_trip_line(self.round_trip, self.mode), self._special_line())
        out += [f"- {line}" for line in lines if line]
        out += ["", "```text", coloured(self.tokens, self.text, False), "```", ""]
        out.append(_md_table(self.rows()))
        return "\n".join(out)

    def to_html(self) -> Optional[str]:
        lines = [_count_line(self.counts), _round_trip_line(self.round_trip, self.mode), self._special_line()]
        return (
            f"{_PAGE_STYLE}<h1>Tokens: {html.escape(self.model)}</h1><p>{html.escape(self._header())}</p>"
            + coloured_html(self.tokens, self.text)
            + "<ul>"
            + "".join(f"<li>{html.escape(line)}</li>" for line in lines if line)
            + "</ul>"
            + _html_table(self.rows())
        )


@dataclass
class TokenizerComparison(Result):
    """Several tokenizers on one text: counts side by side and the stretches they split differently."""

    kind: ClassVar[str] = "token_comparison"
    text: str
    tokenizers: list[dict[str, Any]] = field(default_factory=list)  # one row per tokenizer
    differing: list[dict[str, Any]] = field(default_factory=list)  # {start, end, text, splits: {model: [..]}}
    #: Each tokenizer's tokens (Token fields), for the coloured views.
    tokens: dict[str, list[dict[str, Any]]] = field(default_factory=dict)

    def rows(self) -> list[dict[str, Any]]:
        return list(self.tokenizers)

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "text": self.text,
            "tokenizers": self.tokenizers,
            "differing": self.differing,
            "tokens": self.tokens,
        }

    def summary(self) -> str:
        return self.to_terminal(colour=False)

    def _table(self) -> list[str]:
        cols = ("model", "library", "kind", "vocabulary", "tokens", "chars_per_token", "tokens_per_word", "round_trip")
        widths = {c: max(len(c), *(len(str(r.get(c, ""))) for r in self.tokenizers)) for c in cols}
        lines = ["  ".join(f"{c:<{widths[c]}}" for c in cols).rstrip()]
        lines += ["  ".join(f"{str(r.get(c, '')):<{widths[c]}}" for c in cols).rstrip() for r in self.tokenizers]
        return lines

    def _span_lines(self, limit: Optional[int]) -> list[str]:
        shown = self.differing if limit is None else self.differing[:limit]
        lines = [
            f"{span['text']!r}: " + "   ".join(f"{name}: {'|'.join(parts)}" for name, parts in span["splits"].items())
            for span in shown
        ]
        if limit is not None and len(self.differing) > limit:
            lines.append(f"… {len(self.differing) - limit:,} more (output=json holds them all)")
        return lines

    def to_terminal(self, colour: bool) -> str:
        out = self._table()
        for name, toks in self.tokens.items():
            out += ["", f"{name}:", coloured(toks, self.text, colour)]
        out += ["", f"{len(self.differing):,} stretches split differently"]
        out += self._span_lines(TERMINAL_SPANS)
        return "\n".join(out)

    def to_markdown(self) -> Optional[str]:
        out = ["# Tokenizers compared", "", _md_table(self.tokenizers)]
        for name, toks in self.tokens.items():
            out += [f"## {name}", "", "```text", coloured(toks, self.text, False), "```", ""]
        out += [f"## {len(self.differing):,} stretches split differently", ""]
        out += [f"- {line}" for line in self._span_lines(None)]
        return "\n".join(out)

    def to_html(self) -> Optional[str]:
        views = "".join(
            f"<h2>{html.escape(name)}</h2>{coloured_html(toks, self.text)}" for name, toks in self.tokens.items()
        )
        spans = "".join(f"<li>{html.escape(line)}</li>" for line in self._span_lines(None))
        return (
            f"{_PAGE_STYLE}<h1>Tokenizers compared</h1>{_html_table(self.tokenizers)}{views}"
            f"<h2>{len(self.differing):,} stretches split differently</h2><ul>{spans}</ul>"
        )
