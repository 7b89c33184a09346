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
    """The Backend methods a plugin implements: the life cycle, the helpers tasks call, and
    the methods of every capability whose protocol is ``Backend`` itself."""
    from taskdeck.backends import Backend
    from taskdeck.engine.plugin_manager import build_session

    declared = build_session(third_party=False).capabilities
    on_backend = [declared.get(c) for c in declared.names() if declared.get(c).protocol is None]
    served = (m for c in on_backend for m in c.methods)
    names = ["capabilities", "load", "unload", "usage", "context_window", "count_tokens", "check_language"]
    return [getattr(Backend, n) for n in dict.fromkeys([*names, *served])]
