"""``output=srt`` and ``output=vtt``: a transcript's timed segments as subtitles."""

from taskdeck import Formatter, hookimpl
from taskdeck.io import atomic_write_text


def timestamp(seconds: float, comma: bool) -> str:
    """``HH:MM:SS,mmm`` (SRT) or ``HH:MM:SS.mmm`` (WebVTT)."""
    ms = int(round(max(0.0, seconds) * 1000))
    h, ms = divmod(ms, 3_600_000)
    m, ms = divmod(ms, 60_000)
    s, ms = divmod(ms, 1000)
    return f"{h:02d}:{m:02d}:{s:02d}{',' if comma else '.'}{ms:03d}"


def cues(result) -> list[tuple[float, float, str, str]]:
    """(start, end, text, speaker) per segment with text."""
    return [(s.start, s.end, s.text.strip(), s.speaker) for s in result.segments if s.text.strip()]


class SrtFormatter(Formatter):
    name = "srt"
    description = "write <task>.srt subtitles (transcripts)"
    extension = "srt"
    kinds = ("transcript",)

    def write(self, result, run_dir, stem, stream):
        blocks = [
            f"{n}\n{timestamp(a, True)} --> {timestamp(b, True)}\n{f'{who}: ' if who else ''}{text}\n"
            for n, (a, b, text, who) in enumerate(cues(result), 1)
        ]
        return atomic_write_text(run_dir / f"{stem}.srt", "\n".join(blocks))


class VttFormatter(Formatter):
    name = "vtt"
    description = "write <task>.vtt WebVTT captions (transcripts)"
    extension = "vtt"
    kinds = ("transcript",)

    def write(self, result, run_dir, stem, stream):
        blocks = [
            f"{timestamp(a, False)} --> {timestamp(b, False)}\n{f'<v {who}>' if who else ''}{text}\n"
            for a, b, text, who in cues(result)
        ]
        return atomic_write_text(run_dir / f"{stem}.vtt", "WEBVTT\n\n" + "\n".join(blocks))


@hookimpl
def register_formatters(register):
    register(SrtFormatter())
    register(VttFormatter())
