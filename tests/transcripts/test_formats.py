"""Transcript export and import: round trips, other tools' files, clear errors."""

import io

import docx
import pytest

from transcripts.formats import (
    FORMATS,
    TranscriptFormatError,
    detect_format,
    export_transcript,
    format_timestamp,
    from_docx,
    from_srt,
    from_txt,
    from_vtt,
    import_transcript,
    parse_timestamp,
    to_docx,
    to_srt,
    to_txt,
    to_vtt,
)
from transcripts.segments import Segment, Word

SEGMENTS = [
    Segment(
        0,
        1250,
        "Hello & welcome to the <first> session.",
        "Facilitator",
        -0.2,
        0.01,
        [Word(0, 400, "Hello", 0.9)],
    ),
    Segment(1250, 4001, "Thanks.\nI work at the county office.", "Dr. Ana Ruiz"),
    Segment(3_723_456, 3_725_000, "We met at 10:30 and talked about it.", None),
    Segment(3_725_000, 3_725_000, "Sí, claro — “the plan” --> works.", "SPEAKER_1"),
]


def same(a: list[Segment], b: list[Segment]) -> bool:
    return [(s.start_ms, s.end_ms, s.text, s.speaker) for s in a] == [
        (s.start_ms, s.end_ms, s.text, s.speaker) for s in b
    ]


@pytest.mark.parametrize("fmt", sorted(FORMATS))
def test_round_trip_keeps_times_text_and_speakers(fmt):
    data = export_transcript(SEGMENTS, fmt, title="Interview 7")
    assert detect_format(data) == fmt
    assert same(import_transcript(data, fmt), SEGMENTS)
    assert same(import_transcript(data), SEGMENTS)  # format detected from content


def test_vtt_layout():
    text = to_vtt(SEGMENTS[:2])
    assert text.startswith("WEBVTT\n\n1\n00:00:00.000 --> 00:00:01.250\n")
    assert "<v Facilitator>Hello &amp; welcome to the &lt;first&gt; session." in text
    assert "<v Dr. Ana Ruiz>Thanks.\nI work at the county office." in text


def test_srt_and_txt_layout():
    srt = to_srt(SEGMENTS[2:3])
    assert srt == "1\n01:02:03,456 --> 01:02:05,000\nWe met at 10:30 and talked about it.\n"
    assert to_txt(SEGMENTS[:1]) == (
        "[00:00:00.000 - 00:00:01.250] Facilitator: Hello & welcome to the <first> session.\n"
    )
    assert to_txt(SEGMENTS[2:3], precise=False).startswith("[01:02:03] We met")


def test_docx_has_title_and_one_paragraph_per_segment():
    document = docx.Document(io.BytesIO(to_docx(SEGMENTS, title="Interview 7")))
    paragraphs = document.paragraphs
    assert paragraphs[0].text == "Interview 7" and paragraphs[0].style.name.startswith("Heading")
    assert len(paragraphs) == 1 + len(SEGMENTS)
    assert (
        paragraphs[2].text
        == "[00:00:01.250 - 00:00:04.001] Dr. Ana Ruiz: Thanks.\nI work at the county office."
    )
    assert [r.bold for r in paragraphs[1].runs][:2] == [None, True]  # speaker in bold


def test_timestamps():
    assert format_timestamp(3_723_456) == "01:02:03.456"
    assert format_timestamp(5, ",") == "00:00:00,005"
    assert parse_timestamp("01:02:03.456") == 3_723_456
    assert parse_timestamp("1:02:03,5") == 3_723_500
    assert parse_timestamp("02:03") == 123_000
    assert parse_timestamp("125:00:00.000") == 450_000_000
    for bad in ("1:2:3", "00:61", "00:75:00", "12", "a:bc"):
        with pytest.raises(ValueError):
            parse_timestamp(bad)


def test_txt_with_start_stamps_only_from_another_tool():
    text = (
        "[00:00] Interviewer: How do members find a doctor?\n"
        "[00:04] Participant 2: Mostly by calling the plan.\n"
        "They also ask neighbours.\n"
        "\n"
        "[01:02:03] Interviewer: Thank you.\n"
    )
    segments = from_txt(text, duration_ms=3_730_000)
    assert [(s.start_ms, s.end_ms, s.speaker) for s in segments] == [
        (0, 4000, "Interviewer"),
        (4000, 3_723_000, "Participant 2"),
        (3_723_000, 3_730_000, "Interviewer"),  # the last one ends with the recording
    ]
    assert segments[1].text == "Mostly by calling the plan.\nThey also ask neighbours."
    # Without the recording's length the last segment gets an estimated end.
    assert from_txt(text)[-1].end_ms == 3_723_000 + 1000


def test_txt_rev_style_speaker_before_stamp():
    segments = from_txt("Speaker 1 (00:01:02): Hello there.\nJane Doe [01:05] Hi.\n")
    assert [(s.speaker, s.start_ms, s.text) for s in segments] == [
        ("Speaker 1", 62_000, "Hello there."),
        ("Jane Doe", 65_000, "Hi."),
    ]


def test_vtt_from_teams_and_zoom():
    teams = (
        "\ufeffWEBVTT - exported\r\n\r\nNOTE a comment\r\nspanning lines\r\n\r\n"
        "STYLE\r\n::cue { color: yellow }\r\n\r\n"
        "a1b2/15-0\r\n00:00:01.000 --> 00:00:03.500 align:start\r\n"
        "<v.loud Jane Smith>We <b>need</b> rides</v> <c.x>to clinics.</c>\r\n\r\n"
        "00:05.000 --> 00:07.000\r\n<v John O'Neil>Agreed &amp; noted.\r\n"
    )
    assert [(s.start_ms, s.end_ms, s.speaker, s.text) for s in from_vtt(teams)] == [
        (1000, 3500, "Jane Smith", "We need rides to clinics."),
        (5000, 7000, "John O'Neil", "Agreed & noted."),
    ]
    zoom = "WEBVTT\n\n1\n00:00:00.000 --> 00:00:02.000\nMaria Lopez: Good morning.\n"
    assert [(s.speaker, s.text) for s in from_vtt(zoom)] == [("Maria Lopez", "Good morning.")]


def test_srt_with_styling_and_no_speaker():
    srt = (
        "1\n00:00:01,000 --> 00:00:02,000\n<i>Music plays</i>\n\n"
        "2\n00:00:02,000 --> 00:00:04,000\n{\\an8}Host: Welcome back.\n"
    )
    assert [(s.speaker, s.text) for s in from_srt(srt)] == [
        (None, "Music plays"),
        ("Host", "Welcome back."),
    ]


@pytest.mark.parametrize(
    ("reader", "text", "line", "message"),
    [
        (from_vtt, "1\n00:00:01.000 --> 00:00:02.000\nHi\n", 1, "must begin with the line WEBVTT"),
        (
            from_vtt,
            "WEBVTT\n\n1\n00:00:01.000 --> 00:00:02.000\nHi\n\n2\nHello again\n",
            7,
            "no timing line",
        ),
        (from_vtt, "WEBVTT\n\n00:00:01.000 --> 00:00:0x.000\nHi\n", 3, "not a timestamp"),
        (
            from_vtt,
            "WEBVTT\n\n00:00:05.000 --> 00:00:02.000\nHi\n",
            3,
            "end time 00:00:02.000 is before",
        ),
        (
            from_srt,
            "1\n00:00:01,000 --> 00:00:02,000\nHi\n\n2\n00:00:03,000 -> 00:00:04,000\nYo\n",
            5,
            "expected a cue number followed by a time range",
        ),
        (
            from_srt,
            "1\n00:00:01,000 --> 00:00:02,000\nHi\n\nsecond paragraph\n",
            5,
            "expected a cue number",
        ),
        (
            from_txt,
            "Interview with the county\n[00:00:01] Hi\n",
            1,
            r"expected a timestamp such as \[00:01:23\]",
        ),
        (from_txt, "[00:00:05] A: one\n[00:00:01] B: two\n", 2, "before the previous one"),
        (from_txt, "[00:00:05] A: one\n\n[00:75] B: two\n", 3, "not a valid time"),
        (from_txt, "[00:00:05 - 00:00:01] A: one\n", 1, "is before the start time"),
    ],
)
def test_errors_name_the_line(reader, text, line, message):
    with pytest.raises(TranscriptFormatError, match=message) as caught:
        reader(text)
    assert caught.value.line == line
    assert str(caught.value).startswith(f"Line {line}: ")


def test_empty_transcript_is_refused():
    with pytest.raises(TranscriptFormatError, match="No transcript segments"):
        import_transcript(b"WEBVTT\n\n")
    with pytest.raises(TranscriptFormatError, match="No transcript segments"):
        import_transcript(b"   \n")


def test_docx_errors_name_the_paragraph():
    document = docx.Document()
    document.add_heading("Focus group 2", level=1)  # headings are skipped
    document.add_paragraph("[00:00:05] Facilitator: Welcome.")
    document.add_paragraph("Participant (00:00:01): Thanks.")
    out = io.BytesIO()
    document.save(out)
    with pytest.raises(TranscriptFormatError, match="before the previous one") as caught:
        from_docx(out.getvalue())
    assert str(caught.value).startswith("Paragraph 3: ") and caught.value.line == 3


def test_not_a_docx_or_not_text():
    with pytest.raises(TranscriptFormatError, match="not a Word"):
        import_transcript(b"PK\x03\x04 broken zip", "docx")
    with pytest.raises(TranscriptFormatError, match="not a Word"):
        from_docx(b"plain text")
    # Windows-1252 text from old tools is accepted.
    segments = import_transcript("[00:01] Jos\xe9: Se\xf1or.".encode("cp1252"))
    assert (segments[0].speaker, segments[0].text) == ("José", "Señor.")


def test_unknown_format():
    with pytest.raises(ValueError, match="unknown transcript format"):
        export_transcript(SEGMENTS, "pdf")
    with pytest.raises(ValueError, match="unknown transcript format"):
        import_transcript(b"x", "pdf")


def test_needs_review_and_json_shape():
    assert not SEGMENTS[0].needs_review
    assert Segment(0, 1, "uh", avg_logprob=-1.2).needs_review
    assert Segment(0, 1, "uh", no_speech_prob=0.7).needs_review
    assert not Segment(0, 1, "typed by hand").needs_review
    assert Segment.from_dict(SEGMENTS[0].to_dict()) == SEGMENTS[0]
    with pytest.raises(ValueError):
        Segment(10, 5, "backwards")
