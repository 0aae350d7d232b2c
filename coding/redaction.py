"""Mask personal data in public comment text before it is published.

Public comments are published (PRODUCT.md flow 5), and commenters routinely put
their own phone number, Medicaid ID or name in the text. This module finds those
spans with patterns and cues, no model, so that it runs anywhere, is fast and
predictable, and a researcher can see (and adjust) exactly what was masked:

* ``find_spans(text)`` returns the spans, with offsets into the original text;
* ``apply_spans(text, spans)`` writes the public version, so spans the researcher
  added or removed give the same kind of output as detected ones;
* ``redact(text)`` does both.

The design leans towards precision on ordinary numbers: dates, dollar amounts,
years, ZIP codes, docket and Federal Register numbers and regulatory citations
("42 CFR 438") are left alone, because masking them makes comments unreadable
and researchers stop trusting the masking. Person names are only found where a
cue introduces them ("my name is", "I am" + first and last name, a closing such
as "Sincerely," followed by a name alone on its line, "Signed", an honorific,
and the Spanish equivalents) or where the caller passes the names it knows
(the commenter's own name from the form). Names anywhere else in free text
need a model; the researcher can add spans by hand (``apply_spans``).

Labels contain no digits, no "@" and start with "[", so no pattern matches a
label and redacting a redacted text changes nothing.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass

__all__ = [
    "LABELS",
    "RedactedSpan",
    "Redaction",
    "apply_spans",
    "find_spans",
    "redact",
]

LABELS: dict[str, str] = {
    "email": "[email]",
    "phone": "[phone]",
    "member_id": "[member ID]",
    "ssn": "[SSN]",
    "dob": "[date of birth]",
    "address": "[address]",
    "name": "[name]",
    "organization": "[organization]",
}

# When two detections overlap, the merged span takes the kind of the longer
# one; on a tie, the kind listed first here (the more specific pattern) wins.
_PRIORITY = ("member_id", "ssn", "email", "phone", "dob", "address", "organization", "name")


def _word_set(block: str) -> frozenset[str]:
    return frozenset(block.split())


@dataclass(frozen=True)
class RedactedSpan:
    """A masked stretch of the original text: ``original == text[start:end]``."""

    start: int
    end: int
    kind: str
    original: str


@dataclass(frozen=True)
class Redaction:
    text: str
    spans: list[RedactedSpan]


# --------------------------------------------------------------------------
# Contact details
# --------------------------------------------------------------------------

_EMAIL = re.compile(
    r"(?<![\w.+-])[A-Za-z0-9][A-Za-z0-9._%+-]*@"
    r"[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*"
    r"\.[A-Za-z]{2,}(?![\w@])"
)

# North American numbers written with separators. The area code must start
# with 2-9 (NANP) and the groups must be exactly 3-3-4, which is what keeps
# dates (01-02-2017), docket numbers (2018-0004-0001), FR document numbers
# (2017-14920) and amounts out. The lookarounds stop a match from starting or
# ending inside a longer number or identifier.
_SEP = r"[ .\-\u2010-\u2013]"
_EXT = r"(?:[ \t]*,?[ \t]*(?:ext\.?|extension|x)[ \t]*\d{1,6})?"
_PHONE = re.compile(
    rf"(?<![\w+.\-/\u2010-\u2013])"
    rf"(?:\+?1{_SEP}?)?"
    rf"(?:\([ ]?[2-9]\d{{2}}[ ]?\)[ ]?|[2-9]\d{{2}}{_SEP})"
    rf"\d{{3}}{_SEP}\d{{4}}"
    rf"{_EXT}"
    rf"(?![\w\-\u2010-\u2013]|[.,]\d)",
    re.IGNORECASE,
)
# Unseparated ten-digit numbers and seven-digit local numbers are too much
# like other identifiers to mask on sight; they count only after a phone cue.
_PHONE_CUE = re.compile(
    r"\b(?:phone|telephone|tel|cell|mobile|fax|call(?:[ \t]+me)?(?:[ \t]+at)?"
    r"|text(?:[ \t]+me)?(?:[ \t]+at)?|tel[eé]fono|celular|ll[aá]meme(?:[ \t]+al)?)"
    r"(?:[ \t]+(?:number|no\.?|\#))?[ \t]*[:#.]?[ \t]*"
    rf"(?P<num>\+?1?[2-9]\d{{9}}|[2-9]\d{{2}}{_SEP}?\d{{4}}){_EXT}(?![\w\-])",
    re.IGNORECASE,
)

_SPACED_PHONE_CUE = re.compile(
    r"\b(?:phone|telephone|tel|cell|mobile|fax|call|reach|text|contact|number"
    r"|tel[eé]fono|celular|ll[aá]meme|n[uú]mero)\b"
    r"(?:[ \t:#.\-]+(?:me|us|at|on|is|number|no|es|al|de))*[ \t:#.\-]*$",
    re.IGNORECASE,
)

_STREET_SUFFIX = (
    r"(?:Street|St|Avenue|Ave|Road|Rd|Boulevard|Blvd|Lane|Ln|Drive|Dr|Court|Ct|Way"
    r"|Place|Pl|Terrace|Ter|Circle|Cir|Highway|Hwy|Parkway|Pkwy|Trail|Trl|Square|Sq"
    r"|Alley|Loop|Pike|Turnpike|Plaza)"
)
_DIRECTION = r"(?:N|S|E|W|NE|NW|SE|SW|North|South|East|West)"
# House number, optional direction, one to four capitalised street-name words
# (or an ordinal such as 5th), a street suffix; then optional unit and an
# optional ", City, ST 12345". Requiring the suffix and capitalised words is
# what keeps "42 CFR 438" and "16 May 2018" out.
_ADDRESS = re.compile(
    rf"(?<![\w\-$.,])\d{{1,6}}[A-Z]?(?:-\d{{1,4}})?[ \t]+"
    rf"(?:{_DIRECTION}\.?[ \t]+)?"
    rf"(?:(?:[A-Z][a-z]+|[A-Z]\.|\d{{1,3}}(?:st|nd|rd|th))[ \t]+){{1,4}}"
    rf"{_STREET_SUFFIX}\b\.?"
    rf"(?:[ \t]+{_DIRECTION}\b\.?)?"
    rf"(?:,?[ \t]*(?:Apt|Apartment|Suite|Ste|Unit|Room|Rm|\#)\.?[ \t]*\#?[ \t]*"
    rf"[A-Za-z0-9\-]{{1,6}}\b)?"
    rf"(?:,?[ \t]*\n?[ \t]*[A-Z][a-z]+(?:[ \t]+[A-Z][a-z]+){{0,2}},?[ \t]+[A-Z]{{2}}"
    rf"(?:[ \t]+\d{{5}}(?:-\d{{4}})?)?\b)?"
)
_PO_BOX = re.compile(r"\bP\.?[ \t]?O\.?[ \t]+Box[ \t]+\d{1,6}\b", re.IGNORECASE)


# --------------------------------------------------------------------------
# Identifiers
# --------------------------------------------------------------------------

# Medicare Beneficiary Identifier: 11 characters, digits at positions 1, 4, 7,
# 10 and 11, letters from a 20-letter alphabet (no S L O I B Z) at 5, 8 and 9;
# CMS prints it with or without dashes after the 4th and 7th (1EG4-TE5-MK73).
_MBI_L = "AC-HJKMNP-RT-Y"
_MBI = re.compile(
    rf"(?<![\w\-])[1-9][{_MBI_L}][{_MBI_L}0-9]\d-?[{_MBI_L}][{_MBI_L}0-9]\d-?"
    rf"[{_MBI_L}]{{2}}\d{{2}}(?![\w\-])",
    re.IGNORECASE,
)
# The older Health Insurance Claim Number: an SSN followed by a letter code.
_HICN = re.compile(r"(?<![\w\-])\d{3}-?\d{2}-?\d{4}[A-Z][0-9A-Z]?(?![\w\-])")

# SSNs written with separators; never-issued area numbers are excluded so that
# fewer ordinary number groups qualify. Bare nine digits need a cue (below).
_SSN = re.compile(
    r"(?<![\w\-./$])(?!000|666|9\d\d)\d{3}(?P<sep>[- ])(?!00)\d{2}(?P=sep)(?!0000)\d{4}"
    r"(?![\w\-]|[.,]\d)"
)
_SSN_CUE = re.compile(
    r"\b(?:SSN|SS\#|social[ \t]+security(?:[ \t]+(?:number|no\.?|\#))?)[ \t]*(?:is[ \t]+)?"
    r"[:#]?[ \t]*(?P<num>\d{9}|\d{3}-\d{2}-\d{4})(?![\w\-])",
    re.IGNORECASE,
)

# Medicaid and plan member IDs have no national format (each state picks its
# own), so they are found by the words that introduce them.
_ID_CUE = re.compile(
    r"(?P<prev>\b[A-Za-z.]+[ \t]+)?"
    r"(?P<cue>"
    r"\b(?:medicaid|medicare|member(?:ship)?|beneficiary|recipient|subscriber|enrollee"
    r"|policy(?:holder)?|insurance|patient|client|health[ \t]+plan|MBI|HICN|CIN)"
    r"(?:[ \t]+card)?(?:[ \t]*(?:(?:id(?:entification)?|number|num|no)\b\.?|\#))+"
    r"|\bID[ \t]*(?:\#|:|number\b|no\.)"
    r"|\bID(?=[ \t]+is\b)"
    # Spanish puts the noun first: "número de Medicaid", "ID de miembro".
    r"|\b(?:n[uú]mero|id|identificaci[oó]n)[ \t]+de[ \t]+(?:medicaid|medicare|miembro"
    r"|afiliado|beneficiario|seguro)"
    r")"
    r"[ \t]*(?:is|was|es|=|:|\#|-)?[ \t]*(?:\#[ \t]*)?"
    r"(?P<id>[A-Za-z0-9](?:[A-Za-z0-9\-]{2,22})[A-Za-z0-9])(?![\w\-])",
    re.IGNORECASE,
)
# Words before "ID" that make it a document identifier, not a person's.
_NOT_PERSONAL_ID = _word_set(
    "docket document comment tracking rin submission agency regulation regulations.gov fr "
    "file bill rule form omb doc citation reference ref project grant award contract"
)
# Docket and Federal Register style identifiers: FNS-2018-0004-0001,
# USDA-2017-0002-3983, CMS-2017-0163, 2017-14920.
_DOCKET_LIKE = re.compile(r"^(?:[A-Z]{2,8}-)?(?:19|20)\d{2}-\d{4,5}(?:-\d{4})?$", re.IGNORECASE)

_MONTH = (
    r"(?:Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?"
    r"|Sep(?:t(?:ember)?)?|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)"
)
_MES = (
    r"(?:enero|febrero|marzo|abril|mayo|junio|julio|agosto|septiembre|setiembre|octubre"
    r"|noviembre|diciembre)"
)
_DATE = (
    rf"(?:\d{{1,2}}[/.\-]\d{{1,2}}[/.\-](?:\d{{4}}|\d{{2}})"
    rf"|(?:19|20)\d{{2}}-\d{{1,2}}-\d{{1,2}}"
    rf"|{_MONTH}\.?[ \t]+\d{{1,2}}(?:st|nd|rd|th)?,?[ \t]+\d{{4}}"
    rf"|\d{{1,2}}(?:st|nd|rd|th)?[ \t]+{_MONTH}\.?,?[ \t]+\d{{4}}"
    rf"|\d{{1,2}}[ \t]+de[ \t]+{_MES}[ \t]+(?:de[ \t]+|del[ \t]+)?\d{{4}})"
)
# A date is personal only when it is a birth date; other dates stay.
_DOB = re.compile(
    r"\b(?:DOB|D\.O\.B\.?|date[ \t]+of[ \t]+birth|birth[ \t]*date|birthday|born(?:[ \t]+on)?"
    r"|fecha[ \t]+de[ \t]+nacimiento|nac[ií]d[oa](?:[ \t]+el)?)"
    rf"[ \t]*[:\-]?[ \t]*(?:is[ \t]+|was[ \t]+|of[ \t]+|es[ \t]+)?(?P<date>{_DATE})(?![\w\-/])",
    re.IGNORECASE,
)


# --------------------------------------------------------------------------
# Names
# --------------------------------------------------------------------------

# Capitalised words that follow cues like "I am" or "Sincerely," but are not
# names. Kept short and topical: a word missing here gets masked after a cue
# (visible to the researcher, who can undo it), which is the safer failure.
_NOT_NAMES = _word_set(
    """
    a an the this that these those it its i im me my we our us you your he she they them
    his her their and or but not no yes so as if of in on at to for from by with without
    about very really so just also still now here there writing concerned opposed against
    for support supportive pro anti in favor please thank thanks sincerely regards best
    respectfully dear hello hi re fw fwd subject attn attention note ps p.s
    american americans native hispanic latino latina black white asian african catholic
    christian jewish muslim democrat republican independent conservative liberal
    senior citizen citizens veteran veterans taxpayer taxpayers voter voters mother father
    parent parents grandmother grandfather grandparent caregiver resident residents
    nurse doctor physician pharmacist teacher farmer rancher retired disabled
    medicaid medicare snap usda cms hhs fns congress senate house president secretary
    governor senator representative department agency state federal county city
    god lord jesus amen america united states
    january february march april may june july august september october november december
    monday tuesday wednesday thursday friday saturday sunday
    happy sorry sure glad proud tired sick old new one two both all also
    extremely deeply strongly totally completely absolutely truly highly
    disappointed outraged appalled angry upset afraid worried thankful grateful disgusted
    """
)
# First names that are also everyday words. After a cue they are names ("Thank
# you,\nPat Doe"); as a loose part of a known name they would mask the word.
_WORD_NAMES = _word_set(
    "will can may mark hope grace joy faith rose bill art sue pat june april august "
    "dawn summer autumn frank rich guy sky star"
)
_HONORIFIC_WORDS = frozenset({"mr", "mrs", "ms", "mx", "miss", "dr", "prof", "rev", "hon"})

# A name word: Jane, O'Brien, McDonald, DeShawn, Smith-Jones, José. Initials
# ("Q.") are allowed inside a name, not as its first word.
_UP = "A-Z\u00c0-\u00d6\u00d8-\u00de"  # Latin-1 capitals, without the sign ×
_LO = "a-z\u00df-\u00f6\u00f8-\u00ff"  # Latin-1 small letters, without ÷
_NW = rf"(?:[{_UP}](?:'[{_UP}][{_LO}]+|[{_LO}]*[{_UP}][{_LO}]+|[{_LO}]+)(?:-[{_UP}][{_LO}]+)?)"
_NAME = rf"(?P<name>{_NW}(?:[ \t]+(?:[A-Z]\.|{_NW})){{0,3}})"

_NAME_CUES: tuple[tuple[re.Pattern[str], int], ...] = (
    # (pattern, minimum number of name words)
    (
        re.compile(
            r"\b(?i:my[ \t]+name[ \t]+is|name[ \t]*:|mi[ \t]+nombre[ \t]+es|me[ \t]+llamo"
            rf"|nombre[ \t]*:)[ \t]+{_NAME}"
        ),
        1,
    ),
    # "I am" is followed by adjectives far more often than by names, and those
    # are capitalised in Title Case rants: ask for two name words here.
    (re.compile(rf"\b(?:I[ \t]+am|I'm|I\u2019m)[ \t]+{_NAME}"), 2),
    (
        re.compile(
            rf"(?:^|(?<=\n))[ \t]*(?i:signed|/s/)[ \t]*[,:\-\u2013]?[ \t]*(?:\n[ \t]*)?{_NAME}"
        ),
        1,
    ),
    (re.compile(rf"\b(?:Mr|Mrs|Ms|Mx|Miss|Dr|Prof|Rev|Hon)\.?[ \t]+{_NAME}"), 1),
)
# A closing, then the signature name alone on its line (or after a comma on the
# same line). Requiring the name to end its line is what keeps "Thank you,
# Medicaid should..." and "Respectfully\nRe: Supplemental..." out.
_CLOSING = re.compile(
    r"\b(?i:sincerely(?:[ \t]+yours)?|respectfully(?:[ \t]+(?:submitted|yours))?"
    r"|(?:best|kind|warm|warmest|with)?[ \t]*regards|best(?:[ \t]+wishes)?|thank[ \t]+you|thanks"
    r"|(?:very[ \t]+)?truly(?:[ \t]+yours)?|yours[ \t]+truly|cordially|gratefully|warmly"
    r"|with[ \t]+(?:thanks|gratitude|appreciation)"
    r"|atentamente|cordialmente|sinceramente|respetuosamente|saludos|(?:muchas[ \t]+)?gracias)\b"
    r"[ \t]*[,.!\-\u2013]*[ \t]*(?:\r?\n[ \t]*){0,3}"
    rf"(?:(?:Mr|Mrs|Ms|Mx|Dr|Rev)\.?[ \t]+)?{_NAME}"
    r"[ \t]*[\"'\u201d)]*[ \t]*(?=,|\r?\n|$)"
)


def _name_span(match: re.Match[str], min_words: int) -> tuple[int, int] | None:
    """Trim stop words off the end of a cued name; refuse it if it is not one."""
    words = list(re.finditer(r"\S+", match.group("name")))
    while words and words[-1].group().rstrip(".").lower() in _NOT_NAMES:
        words.pop()
    if not words:
        return None
    first = words[0].group().rstrip(".").lower()
    if first in _NOT_NAMES or first in _HONORIFIC_WORDS:
        return None
    if min_words > 1 and (
        len(words) < min_words
        or any(w.group().rstrip(".").lower() in _NOT_NAMES for w in words[:min_words])
    ):
        return None
    base = match.start("name")
    return base + words[0].start(), base + words[-1].end()


def _known_name_patterns(known_names: Iterable[str]) -> Iterator[tuple[re.Pattern[str], bool]]:
    """Yield (pattern, needs_capital) for each known name and its parts.

    The full name matches case-insensitively with flexible spacing. Parts
    ("Doe" from "Jane Doe") match only capitalised and only when they are not
    common words, so a commenter called "Will Hope" does not mask "will".
    """
    seen: set[str] = set()
    for raw in known_names:
        tokens = [t for t in re.split(r"[\s,]+", raw.strip()) if t]
        if not tokens:
            continue
        full = r"[\s,]+".join(re.escape(t) for t in tokens)
        if full.lower() not in seen and len("".join(tokens)) >= 2:
            seen.add(full.lower())
            # "Will Hope" must not mask "I will hope": a name made of everyday
            # words only matches when written capitalised.
            wordy = any(t.strip(".").lower() in _NOT_NAMES | _WORD_NAMES for t in tokens)
            yield re.compile(rf"(?<![\w]){full}(?![\w])", re.IGNORECASE), wordy
        for token in tokens:
            bare = token.strip(".")
            key = bare.lower()
            if (
                len(bare) < 2
                or key in _NOT_NAMES
                or key in _WORD_NAMES
                or key in _HONORIFIC_WORDS
                or key in seen
                or not re.fullmatch(r"[\w'\-]+", bare)
            ):
                continue
            seen.add(key)
            yield re.compile(rf"(?<![\w]){re.escape(bare)}(?![\w])", re.IGNORECASE), True


# --------------------------------------------------------------------------
# Detection
# --------------------------------------------------------------------------

_Found = tuple[int, int, str]


def _detect(text: str, known_names: Iterable[str]) -> Iterator[_Found]:
    for m in _EMAIL.finditer(text):
        yield m.start(), m.end(), "email"
    for m in _PHONE.finditer(text):
        # Digits grouped only by spaces ("250 300 4000") are as often a row of
        # a table as a phone number; take them only after a phone-ish cue.
        if re.fullmatch(r"[\d ]+", m.group()) and not _SPACED_PHONE_CUE.search(
            text, max(0, m.start() - 40), m.start()
        ):
            continue
        yield m.start(), m.end(), "phone"
    for m in _PHONE_CUE.finditer(text):
        yield m.start("num"), m.end(), "phone"
    for m in _MBI.finditer(text):
        yield m.start(), m.end(), "member_id"
    for m in _HICN.finditer(text):
        yield m.start(), m.end(), "member_id"
    for m in _ID_CUE.finditer(text):
        prev = (m.group("prev") or "").strip().lower()
        ident = m.group("id")
        if (
            prev in _NOT_PERSONAL_ID
            or not re.search(r"\d", ident)
            or len(re.sub(r"[^A-Za-z0-9]", "", ident)) < 5
            or _DOCKET_LIKE.match(ident)
        ):
            continue
        yield m.start("id"), m.end("id"), "member_id"
    for m in _SSN.finditer(text):
        yield m.start(), m.end(), "ssn"
    for m in _SSN_CUE.finditer(text):
        yield m.start("num"), m.end("num"), "ssn"
    for m in _DOB.finditer(text):
        yield m.start("date"), m.end("date"), "dob"
    for pattern in (_ADDRESS, _PO_BOX):
        for m in pattern.finditer(text):
            yield m.start(), m.end(), "address"
    for pattern, min_words in _NAME_CUES:
        for m in pattern.finditer(text):
            span = _name_span(m, min_words)
            if span:
                yield span[0], span[1], "name"
    for m in _CLOSING.finditer(text):
        span = _name_span(m, 1)
        if span:
            yield span[0], span[1], "name"
    yield from _detect_known(text, known_names)


def _detect_known(text: str, known_names: Iterable[str]) -> Iterator[_Found]:
    for pattern, needs_capital in _known_name_patterns(known_names):
        for m in pattern.finditer(text):
            if needs_capital and not all(w[0].isupper() for w in re.findall(r"\w+", m.group())):
                continue
            yield m.start(), m.end(), "name"


def _merge(text: str, found: Iterable[_Found]) -> list[RedactedSpan]:
    """Merge overlapping detections; the longest one names the merged kind."""
    merged: list[RedactedSpan] = []
    group: list[_Found] = []
    group_end = -1

    def flush() -> None:
        if not group:
            return
        start = min(f[0] for f in group)
        end = max(f[1] for f in group)
        kind = min(group, key=lambda f: (-(f[1] - f[0]), _PRIORITY.index(f[2])))[2]
        merged.append(RedactedSpan(start, end, kind, text[start:end]))

    for item in sorted(f for f in found if f[1] > f[0]):
        if group and item[0] < group_end:
            group.append(item)
            group_end = max(group_end, item[1])
        else:
            flush()
            group = [item]
            group_end = item[1]
    flush()
    return merged


def find_spans(text: str, known_names: Iterable[str] = ()) -> list[RedactedSpan]:
    """Personal-data spans in ``text``, sorted, non-overlapping, original offsets."""
    return _merge(text, _detect(text, known_names))


def apply_spans(text: str, spans: Sequence[RedactedSpan]) -> str:
    """Replace each span by its label. Spans must not overlap (``find_spans``
    guarantees it; a researcher's edited list should be merged first)."""
    out: list[str] = []
    pos = 0
    for span in sorted(spans, key=lambda s: s.start):
        if span.start < pos:
            raise ValueError(f"overlapping redaction spans at offset {span.start}")
        out.append(text[pos : span.start])
        out.append(LABELS.get(span.kind, f"[{span.kind}]"))
        pos = span.end
    out.append(text[pos:])
    return "".join(out)


def redact(text: str, known_names: Iterable[str] = ()) -> Redaction:
    """Mask emails, phone numbers, member IDs, SSNs, birth dates, street
    addresses and cued or known person names in ``text``."""
    spans = find_spans(text, tuple(known_names))
    return Redaction(apply_spans(text, spans), spans)


def redact_person(text: str, names: Iterable[str],
                  details: Mapping[str, str] | None = None) -> Redaction:
    """Mask one person in someone else's words: their names and the given details only.

    ``details`` maps a kind ("email", "phone", "organization") to the person's
    value, matched whole and case-insensitively. Nothing else is touched: the
    other speakers' words stay as they were said.
    """
    found = list(_detect_known(text, tuple(names)))
    for kind, value in (details or {}).items():
        value = value.strip()
        if len(value) < 3:
            continue
        for m in re.finditer(rf"(?<![\w]){re.escape(value)}(?![\w])", text, re.IGNORECASE):
            found.append((m.start(), m.end(), kind))
    spans = _merge(text, found)
    return Redaction(apply_spans(text, spans), spans)
