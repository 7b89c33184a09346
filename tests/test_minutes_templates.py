"""task=minutes template=: the built-in templates and a user's YAML file, each run on the
example stand-up with the embedded chat model; a wrong template is one line naming the fix."""

import json
import shutil

import pytest
from conftest import REPO, cli

from taskdeck import ConfigError
from taskdeck.plugins.tasks.minutes import templates
from taskdeck.plugins.tasks.minutes.result import ActionItem, Minutes, Point

STANDUP = REPO / "examples" / "meeting" / "standup.txt"


def test_every_built_in_template_loads_and_names_its_sections():
    assert templates.names() == ["default", "design-review", "interview", "one-on-one", "standup"]
    for name in templates.names():
        t = templates.load(name)
        assert t.description and "summary" in t.sections and all(t.heading(s) for s in t.sections), name
    default = templates.load("default")
    assert [(s, default.heading(s)) for s in default.sections] == Minutes(title="x").sections
    standup = templates.load("standup")
    assert standup.heading("action_items") == "Next steps" and standup.heading("blockers") == "Blockers"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("sections: [summary, risks]", "unknown section 'risks'; choices: summary, discussion_points"),
        ("lists: {risks: {heading: Risks}}", "list 'risks' needs a question"),
        ("action_items: [task, due]", "owner and task among them"),
        ("colour: blue", "unknown key 'colour'; keys: action_items, description"),
        ("summary_prompt: 'Sum up {meeting}'", "it may hold {roster}, {facts} and {language}"),
        ("sections: [summary\n  - x", "is not valid YAML at line"),
    ],
)
def test_a_wrong_template_file_is_one_line(tmp_path, text, message):
    path = tmp_path / "mine.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError, match="^template '") as err:
        templates.load(str(path))
    assert message in str(err.value) and "\n" not in str(err.value)


def test_sections_headings_and_fields_lay_out_the_markdown():
    m = Minutes(
        title="Stand-up",
        executive_summary="Short.",
        action_items=[ActionItem("Ben", "Ship the fix", "Wednesday", more={"priority": "high"})],
        sections=[("summary", "Summary"), ("action_items", "Next steps"), ("blockers", "Blockers")],
        columns=[("owner", "Owner"), ("task", "Action"), ("priority", "Priority")],
        points={"blockers": [Point("The VAT report waits for tax rates.", "Chloe: ...")]},
    )
    md = m.to_markdown()
    assert "## Next steps\n\n| Owner | Action | Priority |\n|---|---|---|\n| Ben | Ship the fix | high |" in md
    assert md.index("## Summary") < md.index("## Next steps") < md.index("## Blockers\n\n- The VAT report")
    assert "## Decisions" not in md and m.rows() == [{"owner": "Ben", "task": "Ship the fix", "priority": "high"}]


@pytest.mark.parametrize("name", ["default", "standup", "design-review", "interview", "one-on-one"])
def test_each_built_in_template_makes_its_sections(tmp_path, name):
    proc = cli("task=minutes", f"transcript={STANDUP}", f"template={name}", "quiet=true", tmp_path=tmp_path)
    assert proc.returncode == 0, proc.stderr
    run = tmp_path / "run"
    markdown = (run / "minutes.md").read_text()
    t = templates.load(name)
    headings = [line[3:] for line in markdown.splitlines() if line.startswith("## ")]
    assert headings == [t.heading(s) for s in t.sections], markdown
    minutes = json.loads((run / "minutes.json").read_text())
    assert minutes["template"] == name and set(minutes["points"]) == {s for s in t.sections if s in t.lists}
    owners = {(a["owner"], a["due"]) for a in minutes["action_items"]}
    assert owners == {("Ben", "Wednesday"), ("Anna", "today")}, minutes["action_items"]
    passes = [p["pass"] for p in json.loads((run / "minutes.passes.json").read_text())]
    assert ("decisions" in passes) == t.shows("decisions", "discussion_points")
    if name == "standup":  # Chloe waits for finance's tax rates (line 5)
        [blocker] = minutes["points"]["blockers"]
        assert "tax rates" in blocker["text"] and blocker["evidence"].startswith("Chloe: ")


def test_a_users_template_file(tmp_path):
    """The stand-up template copied and edited: a priority field, the blockers first, no summary."""
    mine = tmp_path / "my-standup.yaml"
    shutil.copy(templates.FOLDER / "standup.yaml", mine)
    text = mine.read_text()
    text = text.replace("[summary, action_items, blockers, next_meeting]", "[blockers, action_items]")
    text = text.replace("action_items: [owner, task, due]", "action_items: [owner, task, due, priority]")
    mine.write_text(text.replace("headings: {action_items: Next steps}", "headings: {action_items: Who does what}"))
    proc = cli("task=minutes", f"transcript={STANDUP}", f"template={mine}", "quiet=true", tmp_path=tmp_path)
    assert proc.returncode == 0, proc.stderr
    run = tmp_path / "run"
    markdown = (run / "minutes.md").read_text()
    assert [line[3:] for line in markdown.splitlines() if line.startswith("## ")] == ["Blockers", "Who does what"]
    assert "| Owner | Action | Due | Priority |" in markdown
    minutes = json.loads((run / "minutes.json").read_text())
    assert minutes["template"] == "my-standup" and minutes["executive_summary"] == ""
    assert all(set(a["more"]) == {"priority"} for a in minutes["action_items"]) and minutes["action_items"]
    passes = [p["pass"] for p in json.loads((run / "minutes.passes.json").read_text())]
    assert passes == ["facts", "action items", "blockers"]


def test_an_unknown_template_fails_before_anything_loads(tmp_path):
    proc = cli("task=minutes", f"transcript={STANDUP}", "template=retro", tmp_path=tmp_path)
    assert proc.returncode == 2 and proc.stderr.strip() == (
        "error: unknown template 'retro'; choices: default, design-review, interview, one-on-one, standup "
        "(or a YAML file's path)"
    )
    assert not (tmp_path / "run" / "minutes.md").exists()


def test_the_web_form_offers_the_templates():
    from taskdeck.app.ui.forms import form_fields
    from taskdeck.plugins.tasks.minutes import MinutesTask

    [field] = [f for f in form_fields(MinutesTask) if f.key == "template"]
    assert field.widget == "dropdown" and not field.advanced and field.initial == "default"
    assert list(field.choices) == templates.names()
