"""Default prompts of ``task=minutes``; each is a task parameter, so config can override it.

Lessons from the embedded models (see MODELS.md and docs/decisions.md): no example values in
the prompt (small models copy them verbatim), one focused question per pass, JSON constrained
by a schema, and line numbers as evidence (a number costs the model two tokens; a quote
costs dozens). Every pass starts with the same system prompt and transcript, so on llama.cpp
the transcript is read once and each later pass pays only for its question and answer.
"""

SYSTEM = (
    "You write accurate meeting minutes from transcripts. Use only what the transcript says. "
    "Never invent names, dates, places, decisions or tasks. When the transcript does not state "
    'something, write "not stated".'
)

TRANSCRIPT = """Meeting transcript{part}, one numbered line per turn{speakers_note}:
{transcript}

"""

SPEAKERS_NOTE = " (S1, S2, ... are the voices of different speakers)"

FACTS = """Answer as JSON about the meeting:
- title: a short title naming the meeting's main topic.
- date, location: as said in the meeting, else "not stated".
- next_meeting: the day, time and place at which the group will meet again, in the words said (where someone says "we meet again" or "next meeting"), else "not stated".
- attendees: every person who speaks or is addressed by name, with their role if it is said, else "not stated".{speakers}{language}"""

SPEAKERS = """
- speakers: for each voice label, the name of the person speaking with that voice. A person who says "I'm <name>" is that name; a line starting "<name>, can you ..." is answered by <name> on the next line; "Thanks, <name>" thanks the speaker of the line before. Write "not stated" when the transcript does not show it."""

ACTIONS = """{roster}List the action items as JSON: work that a person takes on to do after the meeting, because they say "I'll" or "I will" do it or agree when asked. Leave out what is done during the meeting itself (introducing, presenting, showing or passing something), questions, and ideas nobody takes on. For each: owner (the name of that person, or "all" when the whole group takes it on), task (what they will do), due (the deadline in the words said, else "not stated"), line (the line number).{language}"""

DECISIONS = """{roster}What did the meeting decide? Answer as JSON: decisions (each with the decision in one sentence and the line number where it was decided), then discussion_points (the topics, one short sentence each).{language}"""

SUMMARY = """{roster}{facts}Now write an executive summary of the meeting in three sentences of plain prose (no lists, no quotes of the transcript). Say what was decided, and the action items as work that people will do; do not describe them as done. Use only facts from the transcript.{language}"""

POINTS = """{{roster}}{question} Answer as JSON: points (each one short sentence, with the line number where it is said).{{language}}"""

FIELDS = """ Also for each item: {fields} (in the words said, else "not stated")."""

TRANSLATOR = "You translate texts accurately and completely, keeping their meaning and people's names."

TRANSLATE = """Translate each numbered text from {source} into {target}. Keep people's names as they are; write dates, days and times in {target} words; what a person says they will do, write as they would say it in {target} ("I'll ..." in English). Answer as JSON: texts (the translations, one per numbered text, in the same order).

{texts}"""

PART = " (part {index} of {total} of a longer meeting)"
