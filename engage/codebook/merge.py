"""Merging one code into another: its codings, suggestions, rulings, patterns, memos and
subcodes move to the target; duplicates fold into what the target already has."""

from __future__ import annotations

from sqlalchemy import select, update

from engage.codebook.operations import CodebookError, next_position_under, record_event
from engage.codebook.tree import descendant_ids
from models import (
    Adjudication,
    Code,
    Coding,
    Memo,
    Suggestion,
    SuggestionDecision,
    SuggestionStatus,
    User,
    db,
    utcnow,
)


def merge_codes(actor: User, source: Code, target: Code) -> dict[str, int]:
    """Fold ``source`` into ``target``: everything that pointed at source now points at target.

    Codings that would become exact duplicates (same unit, span, coder and
    pass) are folded into the existing one, keeping their memos.
    """
    if source.study_id != target.study_id:
        raise CodebookError("Codes can only be merged within one study.")
    if source.id == target.id:
        raise CodebookError("Choose a different code to merge into.")
    if target.retired:
        raise CodebookError(f"“{target.name}” is retired; choose an active code.")
    if target.id in descendant_ids(source):
        raise CodebookError(f"“{target.name}” is a subcode of “{source.name}”; move it out "
                            "first, or merge the other way round.")
    counts = {"codings": 0, "duplicates": 0, "suggestions": 0, "patterns": 0, "memos": 0,
              "subcodes": 0}

    existing = {(c.segment_id, c.comment_id, c.start_char, c.end_char, c.coder_id,
                 c.assignment_id): c
                for c in db.session.scalars(select(Coding).where(Coding.code_id == target.id))}
    for coding in db.session.scalars(select(Coding).where(Coding.code_id == source.id)).all():
        same = existing.get((coding.segment_id, coding.comment_id, coding.start_char,
                             coding.end_char, coding.coder_id, coding.assignment_id))
        if same is not None:
            for memo in list(coding.memos):
                memo.coding_id = same.id
            db.session.flush()
            db.session.execute(update(SuggestionDecision).where(
                SuggestionDecision.coding_id == coding.id).values(coding_id=same.id))
            db.session.delete(coding)
            counts["duplicates"] += 1
        else:
            coding.code_id = target.id
            counts["codings"] += 1

    target_pending = {(s.segment_id, s.comment_id) for s in db.session.scalars(
        select(Suggestion).where(Suggestion.code_id == target.id,
                                 Suggestion.status == SuggestionStatus.PENDING))}
    for suggestion in db.session.scalars(select(Suggestion).where(
            Suggestion.code_id == source.id)).all():
        if (suggestion.status is SuggestionStatus.PENDING
                and (suggestion.segment_id, suggestion.comment_id) in target_pending):
            db.session.delete(suggestion)
        else:
            suggestion.code_id = target.id
            counts["suggestions"] += 1
    db.session.execute(update(SuggestionDecision).where(
        SuggestionDecision.code_id == source.id).values(code_id=target.id))

    taken = {(a.assignment_id, a.segment_id) for a in db.session.scalars(
        select(Adjudication).where(Adjudication.code_id == target.id))}
    for ruling in db.session.scalars(select(Adjudication).where(
            Adjudication.code_id == source.id)).all():
        if (ruling.assignment_id, ruling.segment_id) in taken:
            db.session.delete(ruling)
        else:
            ruling.code_id = target.id

    next_position = len(target.patterns)
    for pattern in list(source.patterns):
        pattern.code_id = target.id
        pattern.position = next_position
        next_position += 1
        counts["patterns"] += 1
    counts["memos"] = db.session.execute(update(Memo).where(Memo.code_id == source.id)
                                         .values(code_id=target.id)).rowcount
    for child in list(source.children):
        child.parent_id = target.id
        child.position = next_position_under(target.study_id, target.id) + counts["subcodes"]
        counts["subcodes"] += 1

    source.retired, source.retired_at, source.merged_into_id = True, utcnow(), target.id
    record_event(actor, source, "merged", into=target.key, **counts)
    record_event(actor, target, "merged-from", source=source.key, **counts)
    db.session.flush()
    db.session.expire(source)
    db.session.expire(target)
    return counts
