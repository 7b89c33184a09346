"""Default prompts of ``task=minutes``; each is a task parameter, so config can override it.

Lessons from the embedded models (see MODELS.md): no example values in the prompt (small
models copy them verbatim), a fixed outline of fields, and JSON constrained by the schema.
"""

SYSTEM = (
    "You write accurate meeting minutes from transcripts. Use only what the transcript says. "
    "Never invent names, dates, places, decisions or tasks. When the transcript does not state "
    'something, write "not stated".'
)

EXTRACT = """Read this meeting transcript{part} and write the minutes as JSON with these fields:
- title: a short title naming the meeting's main topic.
- date, location: as said in the meeting, else "not stated".
- attendees: every person who speaks or is addressed by name, with their role if it is said, else "not stated".
- summary: an executive summary in two to four sentences.
- discussion_points: the main topics discussed, one short sentence each.
- decisions: what the meeting agreed or decided, one sentence each.
- action_items: one item for every task that a named person agreed or was asked to do, the chair's own tasks included: owner (the name of the person who will do it), task, due (the deadline as said, else "not stated").
- next_steps: what happens next, such as the next meeting.
{language}
Transcript:
{transcript}"""

PART = " (part {index} of {total} of a longer meeting; fill in only what this part says)"

MERGE_SUMMARY = """Below are summaries of the consecutive parts of one meeting, in order. Write one executive summary of the whole meeting in two to four sentences, using only these facts.{language}

{summaries}"""

LANGUAGE = 'Write every text value in {language}, but keep "not stated" as it is.'
