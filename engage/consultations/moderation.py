"""Moderating comments: status changes, the public (redacted) version, filters.

The original ``body`` is never changed. What the public may read is
``public_body``: the body with its redaction spans masked (``coding.redaction``),
or a researcher's hand-edited version. It is made when a comment is approved
(or when a researcher first adjusts its masking), so the masking that was
published is the masking that was reviewed. Everyone who is not a researcher
only ever sees ``public_text`` (stored or, before review, computed).
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

from sqlalchemy import Select, func, or_, select

from coding.form_letters import comment_weights as _weights
from coding.redaction import LABELS, RedactedSpan, apply_spans, redact
from models import (
    Comment,
    CommentSource,
    CommentStatus,
    Consultation,
    UnitRef,
    User,
    db,
    utcnow,
)


class ModerationError(ValueError):
    pass


class ModerationAction(enum.StrEnum):
    APPROVE = "approve"
    REJECT = "reject"
    FLAG = "flag"
    REOPEN = "reopen"

    @property
    def label(self) -> str:
        return {"approve": "Approve", "reject": "Reject", "flag": "Flag for discussion",
                "reopen": "Back to pending"}[self.value]


_TARGET = {ModerationAction.APPROVE: CommentStatus.APPROVED,
           ModerationAction.REJECT: CommentStatus.REJECTED,
           ModerationAction.FLAG: CommentStatus.FLAGGED,
           ModerationAction.REOPEN: CommentStatus.PENDING}


def target_status(action: ModerationAction) -> CommentStatus:
    return _TARGET[action]


def spans_of(comment: Comment) -> list[RedactedSpan]:
    return [RedactedSpan(s["start"], s["end"], s["kind"], s["original"])
            for s in comment.redactions or []]


def _store_spans(comment: Comment, spans: Sequence[RedactedSpan]) -> None:
    comment.redactions = [{"start": s.start, "end": s.end, "kind": s.kind, "original": s.original}
                          for s in spans]
    comment.public_body = apply_spans(comment.body, spans)


def detected_spans(comment: Comment) -> list[RedactedSpan]:
    names = [n for n in (comment.author_name,) if n and n.strip()]
    return redact(comment.body, names).spans


def ensure_public_version(comment: Comment) -> None:
    """Make the masked public version once; later calls keep what was reviewed.

    Until now ``public_text`` computed this same version, so nothing coded on it moves."""
    if comment.public_body is None:
        _store_spans(comment, detected_spans(comment))


def public_text(comment: Comment) -> str:
    """What anyone but a researcher may read: the reviewed version, else masked now."""
    if comment.public_body is not None:
        return comment.public_body
    return apply_spans(comment.body, detected_spans(comment))


def _public_text_changed(comment: Comment, old: str) -> None:
    """Codings, suggestions and theme quotes point into the public text: after it changed
    from ``old``, they follow their words or are flagged for a coder (``text_changed``)."""
    from engage.analysis.anchoring import text_changed  # engage.analysis imports this module

    new = public_text(comment)
    if new != old and comment.id is not None:
        text_changed(UnitRef("comment", comment.id), old, new)


def masked(text: str | None) -> str | None:
    """Free text from the public (personal additions, templates) as coders may read it."""
    return redact(text).text if text else text


def moderate(actor: User, comments: Iterable[Comment], action: ModerationAction,
             reason: str | None = None) -> int:
    """Apply ``action`` to each comment; returns how many changed."""
    reason = (reason or "").strip()
    if action is ModerationAction.REJECT and not reason:
        raise ModerationError("Give a reason for rejecting; it is kept with the comment.")
    target = _TARGET[action]
    now = utcnow()
    changed = 0
    for comment in comments:
        if comment.status is target and action is not ModerationAction.REJECT:
            continue
        if action is ModerationAction.APPROVE:
            ensure_public_version(comment)
        comment.status = target
        comment.reject_reason = reason if action is ModerationAction.REJECT else None
        comment.moderated_by_id, comment.moderated_at = actor.id, now
        changed += 1
    db.session.flush()
    return changed


def merge_spans(text: str, spans: Iterable[RedactedSpan]) -> list[RedactedSpan]:
    """Sorted, non-overlapping spans; overlapping ones join under the longer one's kind."""
    merged: list[RedactedSpan] = []
    for span in sorted(spans, key=lambda s: (s.start, -s.end)):
        if merged and span.start < merged[-1].end:
            last = merged[-1]
            start, end = last.start, max(last.end, span.end)
            kind = last.kind if last.end - last.start >= span.end - span.start else span.kind
            merged[-1] = RedactedSpan(start, end, kind, text[start:end])
        else:
            merged.append(RedactedSpan(span.start, span.end, span.kind,
                                       text[span.start:span.end]))
    return merged


def adjust_redactions(actor: User, comment: Comment, *, remove: Sequence[int] = (),
                      add_text: str = "", add_kind: str = "name",
                      redetect: bool = False) -> Comment:
    """Remove spans (by position in the list), mask every occurrence of ``add_text``,
    or start again from what detection finds. Replaces any hand edit."""
    if add_kind not in LABELS:
        raise ModerationError("Choose what kind of personal data this is.")
    old = public_text(comment)
    # Before review the page shows what detection proposes, and ``remove`` counts in that list.
    reviewed = comment.public_body is not None and not redetect
    spans = spans_of(comment) if reviewed else detected_spans(comment)
    if not redetect:
        dropped = set(remove)
        spans = [s for i, s in enumerate(spans) if i not in dropped]
    needle = add_text.strip()
    if needle:
        found = _occurrences(comment.body, needle)
        if not found:
            raise ModerationError(f"“{needle}” does not occur in the comment's original text.")
        spans += [RedactedSpan(a, b, add_kind, comment.body[a:b]) for a, b in found]
    _store_spans(comment, merge_spans(comment.body, spans))
    _public_text_changed(comment, old)
    comment.moderated_by_id, comment.moderated_at = actor.id, utcnow()
    db.session.flush()
    return comment


def _occurrences(text: str, needle: str) -> list[tuple[int, int]]:
    # Case-insensitive: a name written "SMITH" in one place and "Smith" in another.
    lowered, target = text.casefold(), needle.casefold()
    if len(lowered) != len(text):  # casefold changed lengths (e.g. ß): match exactly
        lowered, target = text, needle
    found, start = [], 0
    while (i := lowered.find(target, start)) != -1:
        found.append((i, i + len(target)))
        start = i + len(target)
    return found


def edit_public_text(actor: User, comment: Comment, text: str) -> Comment:
    """A researcher's own wording of the public version; the original stays as it was."""
    text = text.strip()
    if not text:
        raise ModerationError("The public version cannot be empty; reject the comment instead.")
    old = public_text(comment)
    comment.public_body = text
    _public_text_changed(comment, old)
    comment.moderated_by_id, comment.moderated_at = actor.id, utcnow()
    db.session.flush()
    return comment


def is_hand_edited(comment: Comment) -> bool:
    return comment.public_body is not None and comment.public_body != apply_spans(
        comment.body, spans_of(comment))


@dataclass
class QueueFilters:
    status: str = ""
    source: str = ""
    campaign: str = ""  # "", "yes", "no" or a campaign id
    language: str = ""
    attachment: str = ""  # "", "yes", "no"
    q: str = ""

    @classmethod
    def from_args(cls, args) -> QueueFilters:
        return cls(**{name: (args.get(name) or "").strip()[:200] for name in
                      ("status", "source", "campaign", "language", "attachment", "q")})

    def as_args(self) -> dict[str, str]:
        return {k: v for k, v in vars(self).items() if v}


def queue_query(consultation: Consultation, filters: QueueFilters,
                search_original: bool) -> Select:
    """Comments matching the filters, oldest first (the order they need moderating)."""
    query = select(Comment).where(Comment.consultation_id == consultation.id)
    if filters.status in {s.value for s in CommentStatus}:
        query = query.where(Comment.status == CommentStatus(filters.status))
    if filters.source in {s.value for s in CommentSource}:
        query = query.where(Comment.source == CommentSource(filters.source))
    if filters.campaign == "yes":
        query = query.where(Comment.campaign_id.is_not(None))
    elif filters.campaign == "no":
        query = query.where(Comment.campaign_id.is_(None))
    elif filters.campaign.isdigit():
        query = query.where(Comment.campaign_id == int(filters.campaign))
    if filters.language:
        query = query.where(Comment.language == filters.language)
    if filters.attachment == "yes":
        query = query.where(Comment.attachment_name.is_not(None))
    elif filters.attachment == "no":
        query = query.where(Comment.attachment_name.is_(None))
    if filters.q:
        # Only researchers search what the public version hides.
        columns = [Comment.body, Comment.attachment_text] if search_original else [
            Comment.public_body]
        query = query.where(or_(*(c.icontains(filters.q, autoescape=True) for c in columns)))
    return query.order_by(Comment.id)


def languages_in(consultation: Consultation) -> list[str]:
    return [lang for lang in db.session.scalars(
        select(Comment.language).where(Comment.consultation_id == consultation.id,
                                       Comment.language.is_not(None))
        .group_by(Comment.language).order_by(func.count().desc()))]


def comments_in(consultation: Consultation, ids: Iterable[int]) -> list[Comment]:
    """The comments with these ids that belong to ``consultation`` (others are ignored)."""
    ids = list(ids)
    if not ids:
        return []
    return list(db.session.scalars(select(Comment).where(
        Comment.consultation_id == consultation.id, Comment.id.in_(ids))))


# Held comments looked automated and rejected ones were refused: neither speaks for anyone.
ANALYSED = (CommentStatus.PENDING, CommentStatus.FLAGGED, CommentStatus.APPROVED)


def comment_weights(consultation: Consultation, mode: Literal["one", "n"] = "n",
                    statuses: Sequence[CommentStatus] = ANALYSED) -> dict[int, float]:
    """Weight per comment id for analysis (topic models, counts): ``"n"`` counts each
    comment, ``"one"`` counts each campaign as one voice (members weigh 1/N)."""
    rows = db.session.execute(select(Comment.id, Comment.campaign_id).where(
        Comment.consultation_id == consultation.id, Comment.status.in_(statuses))).all()
    return _weights(((comment_id, campaign_id) for comment_id, campaign_id in rows), mode)
