"""Signatures as docs/plugins.md writes them, rendered from the code itself (the meta-tests
compare the two, so the docs cannot drift from the contract)."""

import inspect


def rendered(fn, returns: bool = True) -> str:
    """``name(a, b=1, *, c=None, **options) -> Return`` for a function or method (no ``self``)."""
    sig = inspect.signature(fn)
    parts, star = [], False
    for p in sig.parameters.values():
        if p.name == "self":
            continue
        if p.kind == p.VAR_POSITIONAL:
            parts.append(f"*{p.name}")
            star = True
        elif p.kind == p.VAR_KEYWORD:
            parts.append(f"**{p.name}")
        else:
            if p.kind == p.KEYWORD_ONLY and not star:
                parts.append("*")
                star = True
            parts.append(p.name if p.default is p.empty else f"{p.name}={p.default!r}")
    text = f"{fn.__name__}({', '.join(parts)})"
    ret = sig.return_annotation
    if returns and ret is not sig.empty and ret not in ("None", None):
        text += f" -> {ret}"
    return text


def contract_methods():
    """The Backend methods a plugin implements: every capability's and the helpers tasks call."""
    from taskdeck.backends import METHODS, Backend

    names = [
        "capabilities",
        "load",
        "unload",
        "usage",
        "context_window",
        "count_tokens",
        "check_language",
        *dict.fromkeys(METHODS.values()),
        "chat_batch",
        "seq2seq_info",
        "detokenize",
        "spell",
        "vocabulary",
        "render_chat",
    ]
    return [getattr(Backend, n) for n in names]
