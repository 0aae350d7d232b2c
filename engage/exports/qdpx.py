"""A study as a REFI-QDA project, and a REFI-QDA project into a study.

What goes where:

* users: the study's members and everyone whose codings are exported;
* codebook: the study's codes (hierarchy, colours, descriptions), as in ``.qdc``;
* cases: participants, named by a pseudonym (``P12``) with their stakeholder group,
  region, county and typed attributes as variables, never their names or contacts;
* text sources: each current transcript, one line per segment
  (``[00:01:05] P12: text``), and each comment's public (redacted) text;
  known participant names in transcript text are masked and codings moved with it;
* audio sources (``include_audio``): the recording, with the transcript and a sync
  point at the start of every segment;
* codings of record as ``PlainTextSelection``s, in code points of the source text;
* memos as notes, referenced from their coding, code, source or the project;
* themes as sets of their codes and sources, with a note holding summary and quotes.

``engage.json`` inside the zip records what REFI has no place for (segment
boundaries and times, which sources are comments, theme evidence), so that
importing an Engage export reproduces transcripts, comments and codings
exactly. Projects from other tools import too: their codebook, text sources
(one transcript segment per line), codings (split at line ends), cases
(participants, linked to their sources) and notes.
"""

from __future__ import annotations

import json
import re
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import select

from coding.redaction import LABELS, find_spans
from coding.refiqda_codebook import Code as QdcCode
from coding.refiqda_codebook import guid_for_key, to_qdc
from coding.refiqda_project import (
    AudioSource,
    Case,
    Note,
    Project,
    ProjectFormatError,
    Selection,
    Set,
    SyncPoint,
    TextSource,
    Variable,
    read_qdpx,
    write_qdpx,
)
from coding.refiqda_project import Coding as QCoding
from coding.refiqda_project import (
    User as QUser,
)
from engage.codebook.tree import code_tree, coding_counts
from engage.consultations.moderation import ANALYSED, public_text
from engage.topics.corpus import comment_group, speaker_groups, speaker_link
from models import (
    AttributeDefinition,
    AttributeKind,
    Code,
    Coding,
    CodingOrigin,
    Comment,
    CommentSource,
    CommentStatus,
    Consultation,
    Memo,
    Participant,
    Role,
    SpeakerLink,
    StakeholderGroup,
    Study,
    StudyMember,
    Theme,
    ThemeEvidence,
    ThemeStatus,
    Transcript,
    User,
    db,
    utcnow,
)

# Fixed: changing it would give every exported object a new GUID.
NAMESPACE = uuid.UUID("1b4e28ba-2fa1-4d3b-a3f5-ef19b5a7633c")
SIDECAR = "engage.json"
FORMAT = "engage-qdpx/1"


def guid(kind: str, id_: int | str) -> str:
    return str(uuid.uuid5(NAMESPACE, f"{kind}:{id_}"))


def pseudonym(participant_id: int) -> str:
    return f"P{participant_id}"


def participant_names(study: Study) -> list[str]:
    # An erased participant's name is a placeholder; their real one was masked on withdrawal.
    return [n for n in db.session.scalars(select(Participant.name).where(
        Participant.study_id == study.id, Participant.erased_at.is_(None))) if n]


def clock(ms: int) -> str:
    s = ms // 1000
    return f"{s // 3600:02d}:{s // 60 % 60:02d}:{s % 60:02d}"


class OffsetMap:
    """Offsets in a text before and after some spans were replaced by labels."""

    def __init__(self, spans: list[tuple[int, int, str]]):
        self.spans = sorted(spans)

    def __call__(self, offset: int, *, end: bool = False) -> int:
        shift = 0
        for start, stop, label in self.spans:
            if offset >= stop:
                shift += len(label) - (stop - start)
            elif offset > start:  # inside a masked span: snap to its edge
                return start + shift + (len(label) if end else 0)
            else:
                break
        return offset + shift


def mask_names(text: str, names: list[str]) -> tuple[str, OffsetMap]:
    spans = [(s.start, s.end, LABELS["name"]) for s in find_spans(text, names)
             if s.kind == "name"]
    if not spans:
        return text, OffsetMap([])
    out, pos = [], 0
    for start, stop, label in spans:
        out += [text[pos:start], label]
        pos = stop
    out.append(text[pos:])
    return "".join(out), OffsetMap(spans)


# --- export --------------------------------------------------------------------------------


def _codes(study: Study, used: set[int]) -> tuple[list[QdcCode], dict[int, str]]:
    tree = [e for e in code_tree(study) if not e.code.retired or e.code.id in used]
    counts = coding_counts(study)
    nodes: dict[int, QdcCode] = {}
    roots: list[QdcCode] = []
    for entry in tree:
        code = entry.code
        has_children = any(e.code.parent_id == code.id for e in tree)
        node = QdcCode(key=code.key, name=code.name, description=code.description,
                       color=code.color, guid=code.guid,
                       is_codable=not has_children or bool(counts.get(code.id)))
        nodes[code.id] = node
        (nodes[code.parent_id].children if code.parent_id in nodes else roots).append(node)
    return roots, {cid: node.export_guid for cid, node in nodes.items()}


def build_project(study: Study, *, include_audio: bool = False) -> Project:
    names = participant_names(study)
    project = Project(name=study.name, origin="Engage", created=utcnow(),
                      description=study.description or "")
    sidecar: dict = {"format": FORMAT, "study": study.name, "transcripts": {}, "comments": {},
                     "speakers": {}, "themes": {}, "codes": {}}

    codings = list(db.session.scalars(select(Coding).where(
        Coding.study_id == study.id, Coding.assignment_id.is_(None)).order_by(Coding.id)))
    roots, code_guids = _codes(study, {c.code_id for c in codings})
    project.codes = roots
    for code in db.session.scalars(select(Code).where(Code.study_id == study.id)):
        if code.id in code_guids:
            sidecar["codes"][code_guids[code.id]] = code.key

    # Users: members and coders.
    user_ids = set(db.session.scalars(select(StudyMember.user_id).where(
        StudyMember.study_id == study.id)))
    user_ids |= {c.coder_id for c in codings if c.coder_id}
    users = {u.id: u for u in db.session.scalars(select(User).where(User.id.in_(user_ids)))}
    project.users = [QUser(guid("user", u.id), u.name) for u in users.values()]

    # Variables and cases.
    variables = {"group": Variable(guid("variable", "stakeholder_group"), "Stakeholder group"),
                 "region": Variable(guid("variable", "region"), "Region"),
                 "county": Variable(guid("variable", "county"), "County")}
    types = {AttributeKind.TEXT: "Text", AttributeKind.NUMBER: "Float",
             AttributeKind.DATE: "Date", AttributeKind.YES_NO: "Boolean"}
    definitions = list(db.session.scalars(select(AttributeDefinition).where(
        AttributeDefinition.study_id == study.id).order_by(AttributeDefinition.position)))
    for d in definitions:
        variables[f"attr:{d.key}"] = Variable(guid("variable", f"{study.id}:{d.key}"), d.label,
                                              types.get(d.kind, "Text"))
    project.variables = list(variables.values())

    transcripts = list(db.session.scalars(select(Transcript).where(
        Transcript.study_id == study.id, Transcript.is_current.is_(True))
        .order_by(Transcript.id)))
    links = speaker_groups([t.id for t in transcripts])
    participants = {p.id: p for p in db.session.scalars(select(Participant).where(
        Participant.study_id == study.id).order_by(Participant.id))}
    case_sources: dict[int, list[str]] = defaultdict(list)

    # Transcripts.
    units: dict[str, tuple[str, int]] = {}  # unit key -> (source guid, offset of its text)
    maps: dict[str, OffsetMap] = {}
    memos = list(db.session.scalars(select(Memo).where(Memo.study_id == study.id)))
    notes_for: dict[tuple[str, int | None], list[str]] = defaultdict(list)
    for memo in memos:
        notes_for[(memo.target_type, getattr(memo, f"{memo.target_type}_id", None)
                   if memo.target_type != "study" else None)].append(guid("memo", memo.id))
    for transcript in transcripts:
        source_guid = guid("transcript", transcript.id)
        lines, layout, speakers = [], [], {}
        pos = 0
        transcript_links = links.get(transcript.id, {})
        for segment in transcript.segments:
            link = speaker_link(transcript_links, segment.speaker)
            if link:
                label = pseudonym(link[0])
                speakers[label] = guid("participant", link[0])
            elif segment.speaker:
                label = mask_names(segment.speaker, names)[0]
            else:
                label = ""
            prefix = f"[{clock(segment.start_ms)}] " + (f"{label}: " if label else "")
            text, offsets = mask_names(segment.text, names)
            start = pos + len(prefix)
            layout.append({"line": pos, "start": start, "end": start + len(text),
                           "start_ms": segment.start_ms, "end_ms": segment.end_ms,
                           "speaker": label or None})
            units[f"segment:{segment.id}"] = (source_guid, start)
            maps[f"segment:{segment.id}"] = offsets
            line = prefix + text
            lines.append(line)
            pos += len(line) + 1
        for pid, _group in {v for v in transcript_links.values()}:
            case_sources[pid].append(source_guid)
        full = "\n".join(lines)
        sidecar["transcripts"][source_guid] = {"title": transcript.title,
                                               "language": transcript.language,
                                               "segments": layout}
        sidecar["speakers"][source_guid] = speakers
        project.sources.append(TextSource(
            source_guid, transcript.title, full,
            description=f"Transcript ({transcript.source})"
            + (f", language {transcript.language}" if transcript.language else ""),
            created=transcript.created_at,
            note_guids=notes_for.get(("transcript", transcript.id), [])))
        if include_audio and transcript.recording is not None:
            audio = _audio(transcript, full, layout)
            if audio is not None:
                project.audio.append(audio)

    # Comments: their public text only.
    comments = list(db.session.scalars(select(Comment).join(Consultation).where(
        Consultation.study_id == study.id, Comment.status.in_(ANALYSED))
        .order_by(Comment.consultation_id, Comment.id)))
    for comment in comments:
        source_guid = guid("comment", comment.id)
        group = comment_group(comment)
        text = public_text(comment)
        units[f"comment:{comment.id}"] = (source_guid, 0)
        ident = comment.external_id or comment.tracking_number or str(comment.id)
        sidecar["comments"][source_guid] = {
            "consultation": comment.consultation.title, "external_id": comment.external_id,
            "stakeholder_group": group, "language": comment.language}
        project.sources.append(TextSource(
            source_guid, f"Comment {ident}", text,
            description=f"Public comment on “{comment.consultation.title}”"
            + (f"; stakeholder group: {group}" if group else ""),
            created=comment.created_at, values={variables["group"].guid: group} if group else {},
            note_guids=notes_for.get(("comment", comment.id), [])))

    # Codings.
    by_source = {s.guid: s for s in project.sources}
    for coding in codings:
        key = str(coding.unit_ref)
        if key not in units or coding.code_id not in code_guids:
            continue
        source_guid, base = units[key]
        offsets = maps.get(key) or OffsetMap([])
        start = base + offsets(coding.start_char)
        end = base + offsets(coding.end_char, end=True)
        source = by_source[source_guid]
        if not 0 <= start <= end <= len(source.text):
            continue  # the text changed under the coding; a coder must check it first
        creator = guid("user", coding.coder_id) if coding.coder_id in users else None
        source.selections.append(Selection(
            guid("coding-selection", coding.id), start, end,
            [QCoding(guid("coding", coding.id), code_guids[coding.code_id], creator,
                     coding.created_at, notes_for.get(("coding", coding.id), []))],
            creator=creator, created=coding.created_at))

    # Cases.
    for pid, participant in participants.items():
        if participant.erased_at and not case_sources.get(pid):
            continue  # withdrawn, and nothing of theirs is left in the study
        group = participant.stakeholder_group.name if participant.stakeholder_group else None
        values = {variables["group"].guid: group, variables["region"].guid: participant.region,
                  variables["county"].guid: participant.county}
        for d in definitions:
            value = (participant.attributes or {}).get(d.key)
            if value not in (None, ""):
                values[variables[f"attr:{d.key}"].guid] = value
        project.cases.append(Case(guid("participant", pid), pseudonym(pid),
                                  f"Stakeholder group: {group}" if group else "",
                                  values, case_sources.get(pid, [])))

    # Memos as notes.
    exported_targets = {"coding": {c.id for c in codings},
                        "code": set(code_guids), "transcript": {t.id for t in transcripts},
                        "comment": {c.id for c in comments}, "study": {None}}
    for memo in memos:
        target_id = getattr(memo, f"{memo.target_type}_id", None) \
            if memo.target_type != "study" else None
        if target_id not in exported_targets[memo.target_type]:
            continue
        project.notes.append(Note(guid("memo", memo.id), f"Memo ({memo.target_type})",
                                  memo.body, guid("user", memo.author_id)
                                  if memo.author_id in users else None, memo.created_at))
        if memo.target_type == "code":
            project.code_notes.setdefault(code_guids[memo.code_id], []).append(
                guid("memo", memo.id))
    project.note_guids = notes_for.get(("study", None), [])

    # Themes as sets.
    for theme in db.session.scalars(select(Theme).where(Theme.study_id == study.id)
                                    .order_by(Theme.position, Theme.id)):
        set_guid = guid("theme", theme.id)
        evidence = []
        for e in theme.evidence:
            if e.unit_key not in units:
                continue
            source_guid, base = units[e.unit_key]
            offsets = maps.get(e.unit_key) or OffsetMap([])
            evidence.append({"source": source_guid, "start": base + offsets(e.start_char),
                             "end": base + offsets(e.end_char, end=True), "note": e.note})
        note_guid = guid("theme-note", theme.id)
        quotes = "\n\n".join(f"“{by_source[q['source']].text[q['start']:q['end']]}”"
                             for q in evidence)
        project.notes.append(Note(note_guid, f"Theme: {theme.name}",
                                  f"{theme.summary}\n\nQuotes:\n\n{quotes}".strip()))
        project.sets.append(Set(
            set_guid, theme.name, f"Theme ({theme.status.value}). {theme.summary}".strip(),
            member_codes=[code_guids[c.id] for c in theme.codes if c.id in code_guids],
            member_sources=list(dict.fromkeys(q["source"] for q in evidence)),
            member_notes=[note_guid]))
        sidecar["themes"][set_guid] = {"status": theme.status.value, "summary": theme.summary,
                                       "evidence": evidence}
    project.extra_files[SIDECAR] = json.dumps(sidecar, ensure_ascii=False).encode("utf-8")
    return project


def _audio(transcript: Transcript, text: str, layout: list[dict]) -> AudioSource | None:
    from engage.recordings.operations import FILES
    from engage.uploads import UploadError, stored_path

    recording = transcript.recording
    try:
        path = stored_path(FILES, recording.stored_name)
    except UploadError:
        return None
    if not path.exists():
        return None
    extension = Path(recording.original_filename).suffix.lstrip(".").lower() or "audio"
    return AudioSource(
        guid("recording", recording.id), recording.title, path.read_bytes(), extension,
        description=f"Recording of {transcript.title}", transcript_text=text,
        transcript_guid=guid("recording-transcript", transcript.id),
        sync_points=[SyncPoint(guid("sync", f"{transcript.id}:{i}"), s["start_ms"], s["line"])
                     for i, s in enumerate(layout)], created=recording.created_at)


def export_qdpx(study: Study, *, include_audio: bool = False) -> bytes:
    return write_qdpx(build_project(study, include_audio=include_audio))


# --- import --------------------------------------------------------------------------------


class ImportError_(ValueError):  # noqa: N801 - not the builtin
    """A project that cannot be imported; the message says why."""


@dataclass
class ImportSummary:
    codes: int = 0
    transcripts: int = 0
    comments: int = 0
    codings: int = 0
    participants: int = 0
    memos: int = 0
    themes: int = 0
    warnings: list[str] = field(default_factory=list)

    def message(self) -> str:
        parts = [f"{self.transcripts} transcripts", f"{self.comments} comments",
                 f"{self.codings} codings", f"{self.codes} codes in the project's codebook",
                 f"{self.participants} participants", f"{self.memos} memos",
                 f"{self.themes} themes"]
        return "Imported " + ", ".join(parts) + "."


def _split_lines(text: str) -> list[tuple[int, int]]:
    """(start, end) of every non-blank line, trailing spaces left out."""
    spans = []
    for match in re.finditer(r"[^\n]+", text):
        line = match.group()
        if line.strip():
            start = match.start() + (len(line) - len(line.lstrip()))
            spans.append((start, match.start() + len(line.rstrip())))
    return spans


def import_qdpx(actor: User, study: Study, source: bytes | Path, *,
                max_total: int | None = None) -> ImportSummary:
    """Bring a REFI-QDA project into ``study``; nothing is kept if anything fails."""
    from engage.codebook.interchange import import_qdc
    from engage.codebook.operations import CodebookError
    from engage.transcript_editor.operations import create_transcript
    from transcripts.segments import Segment

    try:
        project = read_qdpx(source, **({"max_total": max_total} if max_total else {}))
    except ProjectFormatError as error:
        raise ImportError_(str(error)) from error
    summary = ImportSummary(warnings=list(project.warnings))
    sidecar = {}
    if SIDECAR in project.extra_files:
        try:
            sidecar = json.loads(project.extra_files[SIDECAR])
        except ValueError:
            summary.warnings.append("engage.json could not be read; imported as from "
                                    "another tool.")
        if sidecar.get("format") != FORMAT:
            sidecar = {}

    # Codebook through the codebook's own .qdc import.
    code_map: dict[str, Code] = {}
    if project.codes:
        known = sidecar.get("codes") or {}
        qdc_codes = _with_keys(project.codes, known)
        try:
            import_qdc(actor, study, to_qdc(qdc_codes, origin=project.origin or "REFI-QDA")
                       .encode("utf-8"))
        except CodebookError as error:
            raise ImportError_(str(error)) from error
        summary.codes = len(project.all_codes())
        study_codes = list(db.session.scalars(select(Code).where(Code.study_id == study.id)))
        by_guid = {c.guid.lower(): c for c in study_codes if c.guid}
        by_key = {guid_for_key(c.key): c for c in study_codes}
        for code in project.all_codes():
            found = by_guid.get(code.guid) or by_key.get(code.guid) or \
                (by_key.get(guid_for_key(known[code.guid])) if code.guid in known else None)
            if found is not None:
                code_map[code.guid] = found

    users = _user_map(project, study)
    notes = {n.guid: n for n in project.notes}

    def memo(note_guid: str, **target) -> None:
        note = notes.get(note_guid)
        if note is None or not note.text.strip():
            return
        db.session.add(Memo(study_id=study.id, body=note.text,
                            author_id=users.get(note.creator) or actor.id, **target))
        summary.memos += 1

    # Sources -> transcripts and comments, with a way to find units by offset.
    units: dict[str, list[tuple[int, int, str, int]]] = {}  # guid -> (start, end, kind, id)
    texts: dict[str, str] = {}
    consultations: dict[str, Consultation] = {}
    transcripts_by_guid: dict[str, Transcript] = {}
    comment_meta = sidecar.get("comments") or {}
    transcript_meta = sidecar.get("transcripts") or {}
    group_names = {g.name.lower(): g for g in db.session.scalars(
        select(StakeholderGroup).where(StakeholderGroup.study_id == study.id))}
    for source in project.sources:
        texts[source.guid] = source.text
        if source.guid in comment_meta:
            meta = comment_meta[source.guid]
            # One consultation per original one, so their comment ids stay apart.
            title = meta.get("consultation") or f"Imported from {project.name}"
            consultation = consultations.get(title)
            if consultation is None:
                consultation = Consultation(
                    study_id=study.id, title=f"{title} (imported {utcnow():%Y-%m-%d %H:%M})"[:200],
                    draft="", created_by_id=actor.id)
                db.session.add(consultation)
                db.session.flush()
                consultations[title] = consultation
            group = meta.get("stakeholder_group")
            comment = Comment(consultation_id=consultation.id, body=source.text,
                              public_body=source.text, source=CommentSource.IMPORT,
                              status=CommentStatus.APPROVED, external_id=meta.get("external_id"),
                              language=meta.get("language"),
                              answers={"stakeholder_group": group} if group else {})
            db.session.add(comment)
            db.session.flush()
            units[source.guid] = [(0, len(source.text), "comment", comment.id)]
            summary.comments += 1
            for n in source.note_guids:
                memo(n, comment_id=comment.id)
            continue
        meta = transcript_meta.get(source.guid)
        if meta:
            layout = [(s["start"], s["end"], s) for s in meta.get("segments", [])
                      if 0 <= s["start"] <= s["end"] <= len(source.text)]
            segments = [Segment(start_ms=int(s.get("start_ms") or 0),
                                end_ms=max(int(s.get("end_ms") or 0), int(s.get("start_ms") or 0)),
                                text=source.text[a:b], speaker=s.get("speaker"))
                        for a, b, s in layout]
            title = meta.get("title") or source.name
        else:
            layout = [(a, b, {}) for a, b in _split_lines(source.text)]
            segments = [Segment(start_ms=0, end_ms=0, text=source.text[a:b])
                        for a, b, _ in layout]
            title = source.name or "Imported document"
        transcript = create_transcript(study.id, segments, title=title[:200], source="qdpx",
                                       language=(meta or {}).get("language"),
                                       actor_id=actor.id)
        transcripts_by_guid[source.guid] = transcript
        units[source.guid] = [(a, b, "segment", seg.id) for (a, b, _), seg
                              in zip(layout, transcript.segments, strict=True)]
        summary.transcripts += 1
        for n in source.note_guids:
            memo(n, transcript_id=transcript.id)

    # Codings, split at unit boundaries.
    for source in project.sources:
        for selection in source.selections:
            for coding in selection.codings:
                code = code_map.get(coding.code_guid)
                if code is None:
                    summary.warnings.append(f"A coding in {source.name!r} uses a code that is "
                                            "not in the codebook; left out.")
                    continue
                parts = [(max(selection.start, a), min(selection.end, b), kind, id_, a)
                         for a, b, kind, id_ in units.get(source.guid, [])
                         if max(selection.start, a) < min(selection.end, b)
                         or (selection.start == selection.end and a <= selection.start < b)]
                for part, (start, end, kind, id_, base) in enumerate(parts):
                    row = Coding(
                        study_id=study.id, code_id=code.id,
                        segment_id=id_ if kind == "segment" else None,
                        comment_id=id_ if kind == "comment" else None,
                        start_char=start - base, end_char=end - base,
                        quote=texts[source.guid][start:end],
                        coder_id=users.get(coding.creator) or users.get(selection.creator)
                        or actor.id, origin=CodingOrigin.IMPORT,
                        created_at=coding.created or utcnow())
                    db.session.add(row)
                    db.session.flush()
                    summary.codings += 1
                    if part == 0:  # a memo once, on the first piece of a split coding
                        for n in coding.note_guids + selection.note_guids:
                            memo(n, coding_id=row.id)

    # Code memos, project memos.
    for code_guid, note_guids in project.code_notes.items():
        if code_guid in code_map:
            for n in note_guids:
                memo(n, code_id=code_map[code_guid].id)
    for n in project.note_guids:
        memo(n)

    # Cases -> participants, linked to their transcripts.
    variables = {v.guid: v for v in project.variables}
    definitions = {d.label.lower(): d for d in db.session.scalars(
        select(AttributeDefinition).where(AttributeDefinition.study_id == study.id))}
    speakers = sidecar.get("speakers") or {}
    case_participants: dict[str, Participant] = {}
    for case in project.cases:
        fields, attributes, extra = {}, {}, []
        for var_guid, value in case.values.items():
            name = variables[var_guid].name if var_guid in variables else var_guid
            low = name.lower()
            if low == "stakeholder group" and str(value).lower() in group_names:
                fields["stakeholder_group_id"] = group_names[str(value).lower()].id
            elif low in ("region", "county"):
                fields[low] = str(value)[:120]
            elif low in definitions:
                attributes[definitions[low].key] = value
            elif value not in (None, ""):
                extra.append(f"{name}: {value}")
        participant = Participant(study_id=study.id, name=(case.name or "Case")[:200],
                                  attributes=attributes,
                                  notes="Imported from a REFI-QDA project."
                                  + ("\n" + "\n".join(extra) if extra else ""), **fields)
        db.session.add(participant)
        db.session.flush()
        case_participants[case.guid] = participant
        summary.participants += 1
    linked: set[tuple[int, str]] = set()
    for source_guid, labels in speakers.items():
        transcript = transcripts_by_guid.get(source_guid)
        for label, case_guid in (labels or {}).items():
            if transcript is not None and case_guid in case_participants:
                db.session.add(SpeakerLink(transcript_id=transcript.id, speaker=label,
                                           participant_id=case_participants[case_guid].id))
                linked.add((transcript.id, label))
    for case in project.cases:
        for source_guid in case.source_guids:
            transcript = transcripts_by_guid.get(source_guid)
            if transcript is None or (transcript.id, "") in linked or speakers.get(source_guid):
                continue
            db.session.add(SpeakerLink(transcript_id=transcript.id, speaker="",
                                       participant_id=case_participants[case.guid].id))
            linked.add((transcript.id, ""))

    # Sets -> themes.
    theme_meta = sidecar.get("themes") or {}
    for s in project.sets:
        meta = theme_meta.get(s.guid)
        if meta is None and not s.member_codes:
            continue  # another tool's grouping of documents, not a theme
        theme = Theme(study_id=study.id, name=(s.name or "Imported theme")[:200],
                      summary=(meta or {}).get("summary", s.description),
                      status=ThemeStatus((meta or {}).get("status", "draft"))
                      if (meta or {}).get("status") in ThemeStatus._value2member_map_
                      else ThemeStatus.DRAFT, created_by_id=actor.id)
        theme.codes = [code_map[g] for g in s.member_codes if g in code_map]
        db.session.add(theme)
        db.session.flush()
        for position, e in enumerate((meta or {}).get("evidence", [])):
            for a, b, kind, id_ in units.get(e.get("source"), []):
                if a <= e["start"] and e["end"] <= b and e["start"] < e["end"]:
                    db.session.add(ThemeEvidence(
                        theme_id=theme.id, segment_id=id_ if kind == "segment" else None,
                        comment_id=id_ if kind == "comment" else None,
                        start_char=e["start"] - a, end_char=e["end"] - a,
                        quote=texts[e["source"]][e["start"]:e["end"]],
                        note=e.get("note") or "", position=position, added_by_id=actor.id))
                    break
        summary.themes += 1
    db.session.flush()
    return summary


def _with_keys(codes: list[QdcCode], keys: dict[str, str]) -> list[QdcCode]:
    """Codes as read, with Engage's keys put back where the sidecar names them."""
    out = []
    for code in codes:
        out.append(QdcCode(key=keys.get(code.guid, code.key), name=code.name or code.key,
                           description=code.description,
                           color=code.color if code.color and re.fullmatch(
                               r"#(?:[0-9A-Fa-f]{6}|[0-9A-Fa-f]{3})", code.color) else None,
                           guid=code.guid, is_codable=code.is_codable,
                           children=_with_keys(code.children, keys)))
    return out


def _user_map(project: Project, study: Study) -> dict[str | None, int]:
    """Project user guid -> an account of the same name that can work in the study."""
    member_ids = set(db.session.scalars(select(StudyMember.user_id).where(
        StudyMember.study_id == study.id)))
    accounts = db.session.scalars(select(User).where(
        (User.id.in_(member_ids)) | (User.role == Role.ADMIN))).all()
    by_name = {u.name.strip().lower(): u.id for u in accounts}
    return {u.guid: by_name[u.name.strip().lower()] for u in project.users
            if u.name and u.name.strip().lower() in by_name}
