"""language= and summary_language=: a meeting outside English is made into minutes in English
(the checks read English) and translated at the ends by the embedded chat model."""

import json

from conftest import REPO, cli

from taskdeck.plugins.tasks.minutes.translation import GROUP, minutes_texts, translate_in_place

SPANISH = """\
Lucía: Buenos días a todos. Empezamos la reunión de producto del martes tres de marzo.
Javier: Buenos días. Yo terminé ayer la exportación de facturas.
Lucía: Perfecto. Javier, ¿puedes corregir el error de los reembolsos antes del viernes?
Javier: Sí, lo corrijo antes del viernes.
Marta: Yo sigo esperando las tarifas de impuestos de finanzas, así que el informe del IVA está bloqueado.
Lucía: Yo llamaré a finanzas hoy para pedir las tarifas.
Marta: Otra cosa: el precio de la suscripción. Propongo doce euros al mes.
Lucía: De acuerdo. Decidimos que el precio será de doce euros al mes.
Javier: ¿Y la fecha del lanzamiento?
Lucía: Lo lanzamos el quince de abril, está decidido.
Marta: Entonces yo preparo la campaña de correo electrónico para el diez de abril.
Lucía: Muy bien. Nos vemos el próximo martes a las diez.
"""


def test_the_texts_a_reader_reads_are_translated_names_and_evidence_kept():
    data = {
        "title": "Launch", "date": "not stated", "location": "Lisbon", "next_meeting": "Tuesday at ten",
        "attendees": [{"name": "Maria", "role": "product"}, {"name": "Tom", "role": "not stated"}],
        "discussion_points": ["Price"], "decisions": [{"text": "Launch in April", "evidence": "Maria: April."}],
        "action_items": [{"owner": "Tom", "task": "Test it", "due": "Friday", "evidence": "Tom: I'll test it.",
                          "priority": "high"}],
        "lists": {"risks": [{"text": "Red paint is late", "evidence": "x"}]},
    }  # fmt: skip
    summary = {"text": "Short."}
    places = minutes_texts(data, summary, ["priority"])
    seen = [obj[key] for obj, key in places]
    assert seen == ["Launch", "Lisbon", "Tuesday at ten", "Short.", "product", "Price", "Launch in April",
                    "Test it", "Friday", "high", "Red paint is late"]  # fmt: skip
    asked = []
    translate_in_place(places, lambda texts: asked.append(len(texts)) or [t.upper() for t in texts])
    assert asked == [GROUP, len(seen) - GROUP] and summary["text"] == "SHORT." and data["date"] == "not stated"
    item = data["action_items"][0]
    assert (item["owner"], item["task"], item["evidence"]) == ("Tom", "TEST IT", "Tom: I'll test it.")


def test_a_spanish_meeting_summarised_in_english(tmp_path):
    """The transcript's lines are translated into English first, so the checks hold owners and
    due dates to them; the evidence quotes the English lines."""
    transcript = tmp_path / "reunion.txt"
    transcript.write_text(SPANISH, encoding="utf-8")
    proc = cli("task=minutes", f"transcript={transcript}", "language=es", "summary_language=en", tmp_path=tmp_path)
    assert proc.returncode == 0, proc.stderr
    run = tmp_path / "run"
    minutes = json.loads((run / "minutes.json").read_text())
    items = {(a["owner"], a["due"]): a["task"].lower() for a in minutes["action_items"]}
    assert "error" in items[("Javier", "before Friday")] and "finance" in items[("Lucía", "today")], items
    assert any("15" in d["text"] and "April" in d["text"] for d in minutes["decisions"]), minutes["decisions"]
    assert minutes["language"] == "en" and minutes["checks"][0].startswith("the transcript was translated from Spanish")
    passes = [p["pass"] for p in json.loads((run / "minutes.passes.json").read_text())]
    assert passes[:2] == ["translation", "translation"] and passes[2] == "facts"  # 12 lines: two requests


def test_english_minutes_of_an_english_meeting_in_spanish(tmp_path):
    standup = REPO / "examples" / "meeting" / "standup.txt"
    proc = cli("task=minutes", f"transcript={standup}", "summary_language=es", "quiet=true", tmp_path=tmp_path)
    assert proc.returncode == 0, proc.stderr
    run = tmp_path / "run"
    minutes = json.loads((run / "minutes.json").read_text())
    assert minutes["language"] == "es" and minutes["models"]["translation"] == "qwen2.5-coder-1.5b"
    assert {a["owner"] for a in minutes["action_items"]} == {"Ben", "Anna"}
    english = {"Ship the refund fix", "Ask finance for the tax rates", "Wednesday", "today"}
    assert not english & {v for a in minutes["action_items"] for v in (a["task"], a["due"])}, minutes["action_items"]
    passes = [p["pass"] for p in json.loads((run / "minutes.passes.json").read_text())]
    after = passes[passes.index("summary") + 1 :]  # the checked minutes, translated
    assert after and set(after) == {"translation"} and passes.count("translation") == len(after)


def test_speech_outside_english_needs_a_multilingual_whisper(tmp_path):
    audio = REPO / "examples" / "meeting" / "launch_meeting.mp3"
    proc = cli("task=minutes", f"audio={audio}", "language=es", tmp_path=tmp_path)
    assert proc.returncode == 2
    assert "transcribes English only; for language=es choose a multilingual model" in proc.stderr
    assert "asr.model=" in proc.stderr and len(proc.stderr.strip().splitlines()) == 1
