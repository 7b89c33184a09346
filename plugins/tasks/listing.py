"""``task=plugins``: list tasks, backends, output formats, model packs, capabilities,
third-party plugins with the plugin API version each declares, and broken plugins.

Imports no heavy library: it reads what the plugins registered.
"""

from dataclasses import dataclass

from taskdeck import PLUGIN_API, Report, Section, Task, hookimpl
from taskdeck.params import describe_fields


def _usual(hint: str) -> str:
    """A form hint's usual values (``main;choices:a,b``) as ``a|b``."""
    return hint.split("choices:", 1)[1].split(";")[0].replace(",", "|")


def _fmt(v, limit=40):
    text = "???" if v == "???" else repr(v) if isinstance(v, str) else str(v)
    return text if len(text) <= limit else text[: limit - 3] + "..."


class PluginsTask(Task):
    name = "plugins"
    description = "list every task, backend, output format and model pack, and broken plugins"

    @dataclass
    class Params:
        pass

    def run(self, params, ctx):
        s = ctx.catalog
        tasks = []
        for name, cls in s.tasks.items():
            fields = describe_fields(cls.Params) if hasattr(cls.Params, "__dataclass_fields__") else []
            inputs = " ".join(f"{f['name']}={_fmt(f['default'])}" for f in fields if f["input"])
            usual = {k: _usual(h) for k, h in getattr(cls, "form_hints", {}).items() if "choices:" in h}
            options = " ".join(
                f"{f['name']}={usual.get(f['name']) or _fmt(f['default'])}" for f in fields if not f["input"]
            )
            tasks.append(
                {
                    "task": name,
                    "description": cls.description,
                    "aliases": ", ".join(f"task={a}" for a in cls.aliases),
                    "inputs": inputs,
                    "options": options,
                    "plugin": s.owners[f"task:{name}"],
                }
            )
        backends = []
        for name, cls in s.backends.items():
            missing = cls.missing_package()
            backends.append(
                {
                    "backend": name,
                    "description": cls.description,
                    "capabilities": ", ".join(cls.all_capabilities),
                    "formats": ", ".join(cls.formats),
                    "status": f"missing {missing}: pip install 'taskdeck[{cls.extra}]'" if missing else "installed",
                }
            )
        formatters = [
            {"output": n, "description": f.description, "kinds": ", ".join(f.kinds)} for n, f in s.formatters.items()
        ]
        packs = []
        for alias, p in s.packs.items():
            status = (
                ("ready" if p.ready() else "installed (joined on first use)")
                if p.installed()
                else f"not installed: {p.install_hint()}"
            )
            packs.append(
                {"model": alias, "description": p.description, "size": p.size, "licence": p.licence, "status": status}
            )
        capabilities = [
            {
                "capability": name,
                "description": c.description,
                "methods": ", ".join(f"{m}()" for m in c.methods),
                "batched": "yes" if c.batched else "",
                "plugin": s.owners[f"capability:{name}"],
            }
            for name, c in s.capabilities.items()
        ]
        sections = [
            Section("Tasks (task=NAME)", tasks),
            Section("Backends (backend=NAME; auto picks by model format)", backends),
            Section("Output formats (output=NAME or output=[a,b])", formatters),
            Section("Model packs (model=ALIAS)", packs),
            Section("Capabilities (what a task needs, what a backend offers)", capabilities),
        ]
        presets = [
            {"preset": f"{group}={name}", "group": group}
            for group in ("task", "backend", "preset")
            for name in s.presets(group)
        ]
        if presets:
            sections.append(Section("Presets (YAML configs on the search path)", presets))
        if s.third_party:
            sections.append(
                Section(
                    f"Third-party plugins (this taskdeck's plugin API: {PLUGIN_API})",
                    [
                        {"plugin": n, "plugin API": declared or "not declared", "note": note or "supported"}
                        for n, (declared, note) in sorted(s.third_party.items())
                    ],
                )
            )
        if s.broken:
            sections.append(
                Section("Plugins that failed to load", [{"plugin": b.name, "reason": b.reason} for b in s.broken])
            )
        return Report(title="taskdeck plugins", sections=sections)


@hookimpl
def register_tasks(register):
    register(PluginsTask)
