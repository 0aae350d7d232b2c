"""What the theme summary and the CSV exports say about a study.

Nothing here names a participant: quotes are attributed by stakeholder group,
source and session kind; speakers linked to participants appear by pseudonym
(``P12``); comment text is the public (redacted) version; and every quote is
scrubbed once more for personal data and the study's participant names.
"""

from __future__ import annotations

import csv
import io
import json
import logging
from collections import Counter

from sqlalchemy import select

from coding.theme_report import Method, Quote, Report, ThemeSection, pick_quotes, scrub
from engage.codebook.tree import code_paths
from engage.exports.qdpx import participant_names, pseudonym
from engage.themes.operations import group_counts, unit_info
from engage.topics.corpus import NO_SESSION, CorpusFilters, speaker_groups, speaker_link
from engage.topics.operations import document_texts
from models import (
    AttributeDefinition,
    Coding,
    CodingAssignment,
    Participant,
    Study,
    Theme,
    TopicAssignment,
    TopicRun,
    TranscriptSegment,
    User,
    db,
    utcnow,
)

log = logging.getLogger(__name__)
SOURCE_LABELS = {"transcript": "Transcript", "comment": "Public comment"}


def _csv(header, rows) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(header)
    for row in rows:
        # Spreadsheets run cells starting with = + - @ as formulas: defuse them.
        writer.writerow(["'" + v if isinstance(v, str) and v[:1] in ("=", "+", "-", "@")
                         else v for v in row])
    return out.getvalue()


# --- theme summary -------------------------------------------------------------------------


def theme_report(study: Study) -> Report:
    names = participant_names(study)
    themes = list(db.session.scalars(select(Theme).where(Theme.study_id == study.id)
                                     .order_by(Theme.position, Theme.id)))
    sections = []
    for theme in themes:
        counts = group_counts(theme)
        quotes = _theme_quotes(theme, names)
        sections.append(ThemeSection(
            name=theme.name, status=theme.status.label, summary=theme.summary,
            counts=sorted(counts.items(), key=lambda i: (-i[1], i[0])),
            quotes=quotes, codes=[c.name for c in theme.codes],
            topics=[t.label for t in theme.topics]))
    return Report(study=study.name, generated_at=utcnow(), method=_method(study, themes),
                  themes=sections, description=study.description or "")


def _theme_quotes(theme: Theme, names: list[str]) -> list[Quote]:
    evidence = list(theme.evidence)
    info = unit_info({e.unit_key for e in evidence} | {k for t in theme.topics
                                                      for k in t.representatives})
    quotes = [_quote(e.quote, info.get(e.unit_key), names) for e in evidence]
    chosen = pick_quotes([q for q in quotes if q is not None])
    if len(chosen) < 3:  # fill from the topics' most typical documents
        keys = [k for t in theme.topics if not t.is_noise for k in t.representatives]
        texts = document_texts(keys)
        extra = [_quote(texts[k], info.get(k), names) for k in keys if k in texts]
        chosen = pick_quotes(chosen + [q for q in extra if q is not None], limit=3) \
            if extra else chosen
    return chosen


def _quote(text: str, info, names: list[str]) -> Quote | None:
    if info is None or not text.strip():
        return None
    kind = info.session_kind if info.source == "transcript" else None
    return Quote(scrub(text.strip(), names), SOURCE_LABELS[info.source], info.group_label,
                 None if kind == NO_SESSION else kind)


def _method(study: Study, themes: list[Theme]) -> Method:
    method = Method()
    run_ids = {t.run_id for theme in themes for t in theme.topics}
    runs = list(db.session.scalars(select(TopicRun).where(TopicRun.id.in_(run_ids))
                                   .order_by(TopicRun.id))) if run_ids else []
    if not runs:
        latest = db.session.scalars(select(TopicRun).where(
            TopicRun.study_id == study.id, TopicRun.status == "done")
            .order_by(TopicRun.created_at.desc()).limit(1)).first()
        runs = [latest] if latest else []
    for run in runs:
        filters = CorpusFilters.from_dict(run.filters)
        method.corpus.append(f"Topic run “{run.name}”: {run.n_documents} documents "
                             f"({filters.describe()}).")
        method.model.append(
            f"Run “{run.name}”: BERTopic over {run.embedding_model} sentence embeddings, UMAP "
            f"then {'HDBSCAN' if run.clusterer == 'hdbscan' else 'k-means'}; "
            f"{run.n_topics} topics, {run.outlier_share:.0%} of documents unassigned.")
        method.parameters += [f"Run “{run.name}”: {r}" for r in run.params.get("reasons", [])]
    codings = db.session.execute(select(Coding.coder_id, Coding.id).where(
        Coding.study_id == study.id, Coding.assignment_id.is_(None))).all()
    if codings:
        per_coder = Counter(coder for coder, _ in codings)
        users = {u.id: u.name for u in db.session.scalars(
            select(User).where(User.id.in_([c for c in per_coder if c])))}
        method.coders = [f"{users.get(c, 'Former member')}: {n} codings"
                         for c, n in per_coder.most_common()]
        method.corpus.append(f"{len(codings)} codings of record.")
    method.agreement = _agreement(study)
    return method


def _agreement(study: Study) -> list[str]:
    lines = []
    assignments = db.session.scalars(select(CodingAssignment).where(
        CodingAssignment.study_id == study.id).order_by(CodingAssignment.id)).all()
    for assignment in assignments:
        try:
            from engage.analysis.agreement import build_report

            overall = build_report(assignment).segment_level.overall
        except Exception:  # agreement is reported where it can be computed
            log.exception("agreement for assignment %s", assignment.id)
            continue

        def pct(value):
            return "n/a" if value is None else f"{value:.0%}"

        def num(value):
            return "n/a" if value is None else f"{value:.2f}"

        lines.append(
            f"“{assignment.transcript.title}”, {len(assignment.coders)} coders "
            f"({assignment.status.label}): percent agreement {pct(overall.percent_agreement)}, "
            f"mean Cohen's kappa {num(overall.mean_kappa)}, Krippendorff's alpha "
            f"{num(overall.alpha.value)} (segment level).")
    if not lines:
        lines.append("No independent double coding has been done in this study.")
    return lines


# --- CSV exports ---------------------------------------------------------------------------


def coded_segments_csv(study: Study) -> str:
    """One row per coding of record, attributed without names."""
    from engage.analysis.queries import record_codings

    names = participant_names(study)
    paths = code_paths(study)
    definitions = list(db.session.scalars(select(AttributeDefinition).where(
        AttributeDefinition.study_id == study.id).order_by(AttributeDefinition.position)))
    found = record_codings(study)
    segment_ids = [c.segment_id for c, _ in found if c.segment_id]
    segments = {s.id: s for s in db.session.scalars(select(TranscriptSegment).where(
        TranscriptSegment.id.in_(segment_ids or [-1])))}
    links = speaker_groups(list({s.transcript_id for s in segments.values()}))
    participants = {p.id: p for p in db.session.scalars(select(Participant).where(
        Participant.study_id == study.id))}
    header = ["coding_id", "code", "code_key", "text", "source", "document", "location", "unit",
              "speaker", "stakeholder_group", "session_kind", "participant", "region", "county",
              *[f"attribute:{d.key}" for d in definitions], "coder", "origin", "coded_at",
              "start_char", "end_char"]
    rows = []
    for coding, unit in found:
        speaker = participant = ""
        region = county = ""
        attributes = {}
        if coding.segment_id and coding.segment_id in segments:
            segment = segments[coding.segment_id]
            link = speaker_link(links.get(segment.transcript_id, {}), segment.speaker)
            if link and link[0] in participants:
                p = participants[link[0]]
                participant = speaker = pseudonym(p.id)
                region, county, attributes = p.region, p.county, p.attributes or {}
            elif segment.speaker:
                speaker = scrub(segment.speaker, names)
            location = f"{segment.start_ms // 60000:02d}:{segment.start_ms // 1000 % 60:02d}"
        else:
            location = f"comment {unit.ref.id}" + (f" ({unit.external_id})"
                                                   if unit.external_id else "")
        rows.append([
            coding.id, paths.get(coding.code_id, ""), coding.code.key, scrub(coding.quote, names),
            unit.source, unit.document, location, str(unit.ref), speaker, unit.group_label,
            unit.session_kind, participant, region, county,
            *[_cell(attributes.get(d.key)) for d in definitions],
            coding.coder.name if coding.coder else "", coding.origin.value,
            coding.created_at.isoformat(timespec="seconds"), coding.start_char,
            coding.end_char])
    return _csv(header, rows)


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def topics_csv(run: TopicRun) -> str:
    header = ["run_id", "run", "topic_id", "number", "name", "generated_label", "keywords",
              "documents", "weighted_documents", "noise", "merged_into_topic_id",
              "representative_units"]
    rows = [[run.id, run.name, t.id, t.number, t.name or "", t.generated_label,
             "; ".join(f"{w} ({s:.4f})" for w, s in t.keywords), t.size,
             round(t.weighted_size, 3), "yes" if t.is_noise else "", t.merged_into_id or "",
             " ".join(t.representatives)] for t in run.topics]
    return _csv(header, rows)


def assignments_csv(run: TopicRun) -> str:
    """One row per document of the run: its topic now and as the model found it."""
    topics = {t.id: t for t in run.topics}
    header = ["run_id", "unit", "source", "stakeholder_group", "session_kind", "dated_at",
              "topic_id", "topic", "model_topic_number", "probability", "weight", "fitted",
              "noise"]
    rows = []
    for a in db.session.scalars(select(TopicAssignment).where(TopicAssignment.run_id == run.id)
                                .order_by(TopicAssignment.id)):
        topic = topics.get(a.topic_id)
        rows.append([run.id, a.unit_key, a.source, a.stakeholder_group or "",
                     a.session_kind or "", a.dated_at.isoformat() if a.dated_at else "",
                     a.topic_id, topic.label if topic else "", a.original_number,
                     f"{a.probability:.4f}", f"{a.weight:.4f}", "yes" if a.fitted else "no",
                     "yes" if topic and topic.is_noise else ""])
    return _csv(header, rows)

