"""Transcript files: export to TXT, WebVTT, SRT and DOCX; import them back.

Times round-trip to the millisecond and speaker labels survive every format:
- TXT and DOCX write one segment per line/paragraph,
  `[00:01:02.500 - 00:01:05.000] Facilitator: text`;
- WebVTT puts the speaker in a voice tag, `<v Facilitator>text`;
- SRT, which has no speaker field, uses the common `Facilitator: text` prefix.

Importers also accept what other tools write: `[hh:mm:ss]` or `[mm:ss]` start-only
stamps, `Name (00:01:02): text` lines, and Zoom's `Name: text` cues. A malformed file
raises `TranscriptFormatError` naming the line (or DOCX paragraph) that is wrong.
"""

from __future__ import annotations

import html
import io
import re
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import docx
from docx.shared import RGBColor

from transcripts.segments import Segment

FORMATS: dict[str, str] = {
    "txt": "text/plain; charset=utf-8",
    "vtt": "text/vtt; charset=utf-8",
    "srt": "application/x-subrip; charset=utf-8",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
}

# Used to give the last segment of a start-only TXT an end: about 150 words a minute.
MS_PER_WORD = 400
MIN_SEGMENT_MS = 1000


class TranscriptFormatError(ValueError):
    """The file is not a transcript we can read; the message says where and why."""

    def __init__(self, message: str, line: int | None = None, unit: str = "line") -> None:
        super().__init__(f"{unit.capitalize()} {line}: {message}" if line else message)
        self.message = message
        self.line = line


# --------------------------------------------------------------------------- times

_STAMP = r"(?:\d{1,2}:)?\d{1,2}:\d{2}(?:[.,]\d{1,3})?"
_STAMP_RE = re.compile(r"^(?:(\d+):)?(\d{1,2}):(\d{2})(?:[.,](\d{1,3}))?$")


def format_timestamp(ms: int, sep: str = ".") -> str:
    """12_345_678 -> '03:25:45.678' (SRT wants sep=',')."""
    seconds, millis = divmod(int(ms), 1000)
    minutes, secs = divmod(seconds, 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours:02d}:{minutes:02d}:{secs:02d}{sep}{millis:03d}"


def format_clock(ms: int) -> str:
    """12_345_678 -> '03:25:45' for people reading a transcript."""
    return format_timestamp(ms).split(".")[0]


def parse_timestamp(text: str) -> int:
    """'01:02:03.5', '1:02:03,500', '02:03' -> milliseconds; ValueError otherwise."""
    m = _STAMP_RE.match(text.strip())
    if not m:
        raise ValueError(f"not a timestamp: {text!r}")
    hours, minutes, seconds, fraction = m.groups()
    if int(seconds) > 59 or (hours is not None and int(minutes) > 59):
        raise ValueError(f"not a timestamp: {text!r}")
    millis = int((fraction or "0").ljust(3, "0"))
    return ((int(hours or 0) * 60 + int(minutes)) * 60 + int(seconds)) * 1000 + millis


# --------------------------------------------------------------------------- export


def _speaker_prefix(segment: Segment) -> str:
    return f"{segment.speaker}: " if segment.speaker else ""


def _txt_line(segment: Segment, precise: bool) -> str:
    if precise:
        stamp = f"[{format_timestamp(segment.start_ms)} - {format_timestamp(segment.end_ms)}]"
    else:
        stamp = f"[{format_clock(segment.start_ms)}]"
    return f"{stamp} {_speaker_prefix(segment)}{segment.text}"


def to_txt(segments: Iterable[Segment], *, precise: bool = True) -> str:
    """Plain text, one segment per paragraph.

    `precise=False` writes only `[hh:mm:ss]` start stamps: easier to read, but end
    times and milliseconds are lost on re-import.
    """
    return "\n\n".join(_txt_line(s, precise) for s in segments) + "\n"


def _vtt_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _one_block(text: str) -> str:
    # A blank line ends a cue in VTT and SRT, so paragraphs inside a segment collapse.
    return re.sub(r"\n\s*\n+", "\n", text.strip())


def to_vtt(segments: Iterable[Segment]) -> str:
    cues = ["WEBVTT"]
    for n, s in enumerate(segments, 1):
        voice = f"<v {_vtt_escape(s.speaker)}>" if s.speaker else ""
        cues.append(
            f"{n}\n{format_timestamp(s.start_ms)} --> {format_timestamp(s.end_ms)}\n"
            f"{voice}{_vtt_escape(_one_block(s.text))}"
        )
    return "\n\n".join(cues) + "\n"


def to_srt(segments: Iterable[Segment]) -> str:
    cues = [
        f"{n}\n{format_timestamp(s.start_ms, ',')} --> {format_timestamp(s.end_ms, ',')}\n"
        f"{_speaker_prefix(s)}{_one_block(s.text)}"
        for n, s in enumerate(segments, 1)
    ]
    return "\n\n".join(cues) + "\n"


def to_docx(segments: Iterable[Segment], *, title: str | None = None) -> bytes:
    document = docx.Document()
    if title:
        document.add_heading(title, level=1)
    for s in segments:
        paragraph = document.add_paragraph()
        stamp = paragraph.add_run(
            f"[{format_timestamp(s.start_ms)} - {format_timestamp(s.end_ms)}] "
        )
        stamp.font.color.rgb = RGBColor(0x59, 0x59, 0x59)
        if s.speaker:
            paragraph.add_run(_speaker_prefix(s)).bold = True
        lines = s.text.split("\n")
        paragraph.add_run(lines[0])
        for line in lines[1:]:
            # A line break, not a new paragraph: one paragraph is one segment.
            run = paragraph.add_run()
            run.add_break()
            run.add_text(line)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def export_transcript(segments: Sequence[Segment], fmt: str, *, title: str | None = None) -> bytes:
    """Serialize to one of FORMATS; text formats are UTF-8."""
    if fmt == "docx":
        return to_docx(segments, title=title)
    writers = {"txt": to_txt, "vtt": to_vtt, "srt": to_srt}
    if fmt not in writers:
        raise ValueError(f"unknown transcript format {fmt!r}; expected one of {', '.join(FORMATS)}")
    return writers[fmt](segments).encode("utf-8")


# --------------------------------------------------------------------------- import

# "Facilitator: ", "SPEAKER_1: ", "Dr. Ana Ruiz: " — a short name (at most five words,
# starting with a letter) then a colon and a space. Times like "10:30" never match.
_SPEAKER_RE = re.compile(
    r"^(?P<name>[^\W\d_][\w.'’()\-]*(?: [\w.'’()\-]+){0,4}):(?:\s+|$)(?P<text>.*)$", re.S
)
_TXT_STAMP_RE = re.compile(
    rf"^[\[(](?P<start>{_STAMP})(?:\s*(?:-->|-|–|—)\s*(?P<end>{_STAMP}))?[\])]\s*(?P<rest>.*)$",
    re.S,
)
# Rev / Descript style: "Speaker 1 (00:01:02): text" or "Jane Doe [01:02] text".
_NAME_STAMP_RE = re.compile(
    rf"^(?P<name>[^\W\d_][^\[\]():]{{0,48}}?)\s*[\[(](?P<start>{_STAMP})[\])]\s*:?\s*(?P<rest>.*)$",
    re.S,
)
_TIMING_RE = re.compile(r"^\s*(?P<start>\S+)\s+-->\s+(?P<end>\S+)(?:\s.*)?$")
_TAG_RE = re.compile(r"<[^>]*>")
# SRT has no escaping, so only the styling tags players understand are markup there.
_SRT_TAG_RE = re.compile(r"</?(?:i|b|u|s|font)(?:\s[^>]*)?>", re.I)
_VOICE_RE = re.compile(r"<v(?:\.[^\s>]*)?(?:[ \t]+(?P<name>[^>]*))?>")


def split_speaker(text: str) -> tuple[str | None, str]:
    m = _SPEAKER_RE.match(text)
    if m:
        return m["name"].strip(), m["text"].strip()
    return None, text.strip()


@dataclass
class _Draft:
    line: int
    start_ms: int
    end_ms: int | None
    speaker: str | None
    text: str


def _finish(drafts: list[_Draft], unit: str, duration_ms: int | None = None) -> list[Segment]:
    """Fill missing ends, check order, and build Segments."""
    if not drafts:
        raise TranscriptFormatError("No transcript segments were found in this file.")
    for previous, d in zip(drafts, drafts[1:], strict=False):
        if d.start_ms < previous.start_ms:
            raise TranscriptFormatError(
                f"this segment starts at {format_timestamp(d.start_ms)}, before the previous one "
                f"({format_timestamp(previous.start_ms)}); segments must be in time order.",
                d.line,
                unit,
            )
    segments = []
    for i, d in enumerate(drafts):
        end = d.end_ms
        if end is None:
            if i + 1 < len(drafts):
                end = drafts[i + 1].start_ms
            elif duration_ms is not None and duration_ms > d.start_ms:
                end = duration_ms
            else:
                end = d.start_ms + max(MIN_SEGMENT_MS, MS_PER_WORD * len(d.text.split()))
        if end < d.start_ms:
            raise TranscriptFormatError(
                f"the end time {format_timestamp(end)} is before the start time "
                f"{format_timestamp(d.start_ms)}.",
                d.line,
                unit,
            )
        segments.append(
            Segment(start_ms=d.start_ms, end_ms=end, text=d.text.strip(), speaker=d.speaker)
        )
    return segments


def _parse_lines(
    lines: Iterable[tuple[int, str]], unit: str, duration_ms: int | None
) -> list[Segment]:
    """Stamped lines start segments; unstamped lines continue the one before."""
    drafts: list[_Draft] = []
    for number, raw in lines:
        line = raw.strip()
        if not line:
            continue
        m = _TXT_STAMP_RE.match(line)
        if m:
            speaker, text = split_speaker(m["rest"])
        else:
            m = _NAME_STAMP_RE.match(line)
            if m:
                speaker, text = m["name"].strip(), m["rest"].strip()
        if m is None:
            if not drafts:
                raise TranscriptFormatError(
                    "expected a timestamp such as [00:01:23] at the start of the first segment.",
                    number,
                    unit,
                )
            drafts[-1].text = f"{drafts[-1].text}\n{line}" if drafts[-1].text else line
            continue
        try:
            start = parse_timestamp(m["start"])
            end = parse_timestamp(m["end"]) if m.groupdict().get("end") else None
        except ValueError:
            raise TranscriptFormatError(
                f"{m['start']!r} is not a valid time (minutes and seconds go up to 59).",
                number,
                unit,
            ) from None
        drafts.append(_Draft(number, start, end, speaker, text))
    return _finish(drafts, unit, duration_ms)


def from_txt(text: str, *, duration_ms: int | None = None) -> list[Segment]:
    """Parse `[hh:mm:ss(.mmm)( - hh:mm:ss.mmm)] Name: text` lines.

    Without end stamps a segment ends where the next begins; the last one ends at
    `duration_ms` when given (the recording's length), else after an estimate.
    """
    return _parse_lines(enumerate(text.splitlines(), 1), "line", duration_ms)


def from_docx(data: bytes, *, duration_ms: int | None = None) -> list[Segment]:
    """Parse a Word transcript laid out like `from_txt`, one segment per paragraph.

    Headings and titles are skipped; errors name the paragraph (counted from 1).
    """
    try:
        document = docx.Document(io.BytesIO(data))
    except (zipfile.BadZipFile, KeyError, ValueError):
        raise TranscriptFormatError(
            "This is not a Word (.docx) document, or it is damaged."
        ) from None
    lines = []
    for number, paragraph in enumerate(document.paragraphs, 1):
        style = (paragraph.style.name if paragraph.style is not None else "") or ""
        if style.startswith(("Heading", "Title")):
            continue
        # Line breaks inside a paragraph continue the same segment.
        lines.extend((number, part) for part in paragraph.text.split("\n"))
    return _parse_lines(lines, "paragraph", duration_ms)


def _blocks(lines: list[str], first: int = 0) -> Iterable[tuple[int, list[str]]]:
    """Yield (1-based line number, lines) for each run of non-blank lines."""
    block: list[str] = []
    start = 0
    for i in range(first, len(lines)):
        if lines[i].strip():
            if not block:
                start = i + 1
            block.append(lines[i].rstrip())
        elif block:
            yield start, block
            block = []
    if block:
        yield start, block


def _parse_timing(line: str, number: int, example: str) -> tuple[int, int]:
    m = _TIMING_RE.match(line)
    if not m:
        raise TranscriptFormatError(f"expected a time range like {example}.", number)
    try:
        start, end = parse_timestamp(m["start"]), parse_timestamp(m["end"])
    except ValueError as exc:
        raise TranscriptFormatError(
            f"{exc}; expected a time range like {example}.", number
        ) from None
    return start, end


def from_vtt(text: str) -> list[Segment]:
    lines = text.lstrip("\ufeff").splitlines()
    if not lines or not re.match(r"^WEBVTT(?:[ \t].*)?$", lines[0]):
        raise TranscriptFormatError("a WebVTT file must begin with the line WEBVTT.", 1)
    blocks = list(_blocks(lines))[1:]  # the first block is the header
    # Zoom writes "Name: text" instead of voice tags; only read prefixes then, so text
    # that merely contains a colon is left alone in files that do use <v>.
    prefixes = "<v" not in text
    drafts = []
    for number, block in blocks:
        if re.match(r"^(NOTE|STYLE|REGION)(?:[ \t]|$)", block[0]):
            continue
        timing = 0 if "-->" in block[0] else 1
        if timing >= len(block) or "-->" not in block[timing]:
            raise TranscriptFormatError(
                "this cue has no timing line like 00:00:01.000 --> 00:00:04.000.", number
            )
        start, end = _parse_timing(block[timing], number + timing, "00:00:01.000 --> 00:00:04.000")
        payload = "\n".join(block[timing + 1 :])
        voice = _VOICE_RE.search(payload)
        speaker = None
        if voice and voice["name"]:
            speaker = html.unescape(voice["name"]).strip() or None
        body = html.unescape(_TAG_RE.sub("", payload)).strip()
        if speaker is None and prefixes:
            speaker, body = split_speaker(body)
        if body:
            drafts.append(_Draft(number, start, end, speaker, body))
    return _finish(drafts, "line")


def from_srt(text: str) -> list[Segment]:
    lines = text.lstrip("\ufeff").splitlines()
    drafts = []
    for number, block in _blocks(lines):
        timing = 1 if block[0].strip().isdigit() else 0
        if timing >= len(block) or "-->" not in block[timing]:
            raise TranscriptFormatError(
                "expected a cue number followed by a time range like "
                "00:00:01,000 --> 00:00:04,000.",
                number,
            )
        start, end = _parse_timing(block[timing], number + timing, "00:00:01,000 --> 00:00:04,000")
        # Strip HTML-ish styling (<i>, <font>) and ASS position codes ({\an8}).
        body = re.sub(r"\{\\[^}]*\}", "", _SRT_TAG_RE.sub("", "\n".join(block[timing + 1 :])))
        speaker, body = split_speaker(body)
        if body:
            drafts.append(_Draft(number, start, end, speaker, body))
    return _finish(drafts, "line")


def detect_format(data: bytes) -> str:
    """Guess the format from the content (never the file name)."""
    if data[:4] == b"PK\x03\x04":
        return "docx"
    head = data[:2000].lstrip(b"\xef\xbb\xbf").lstrip()
    if head.startswith(b"WEBVTT"):
        return "vtt"
    if re.match(rb"^\d+\s*\r?\n[\d:,.]+\s+-->\s+", head):
        return "srt"
    return "txt"


def _decode_text(data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        # Word and older Windows tools still save "ANSI" text.
        return data.decode("cp1252")
    except UnicodeDecodeError:
        raise TranscriptFormatError("This file is not readable text (expected UTF-8).") from None


def import_transcript(
    data: bytes, fmt: str | None = None, *, duration_ms: int | None = None
) -> list[Segment]:
    """Parse an uploaded transcript; `fmt=None` detects it from the content."""
    fmt = fmt or detect_format(data)
    if fmt == "docx":
        return from_docx(data, duration_ms=duration_ms)
    text = _decode_text(data)
    if fmt == "vtt":
        return from_vtt(text)
    if fmt == "srt":
        return from_srt(text)
    if fmt == "txt":
        return from_txt(text, duration_ms=duration_ms)
    raise ValueError(f"unknown transcript format {fmt!r}; expected one of {', '.join(FORMATS)}")
