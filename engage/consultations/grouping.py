"""Grouping a consultation's comments into form-letter campaigns, as a background job.

``coding.campaigns`` finds the groups and ``coding.form_letters`` describes
them; this module reads the comments, runs both, and replaces the
consultation's campaigns in one transaction, so a cancelled or failed run
leaves the previous grouping as it was.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import delete, func, select, update

from coding.campaigns import group_campaigns
from coding.form_letters import campaign_template, personal_addition, suggest_boilerplate
from engage.jobs.operations import enqueue
from engage.jobs.runner import JobFailed, Progress
from models import Campaign, Comment, Consultation, Job, User, db

JOB_KIND = "campaigns-group"


def suggested_boilerplate(consultation: Consultation) -> list[tuple[str, int]]:
    bodies = list(db.session.scalars(select(Comment.body).where(
        Comment.consultation_id == consultation.id)))
    return suggest_boilerplate(bodies)


def last_grouping_params(consultation: Consultation) -> dict | None:
    return db.session.scalar(
        select(Job.params).where(Job.kind == JOB_KIND, Job.target_type == "consultation",
                                 Job.target_id == consultation.id)
        .order_by(Job.id.desc()).limit(1))


def start_grouping(actor: User, consultation: Consultation, threshold: float,
                   boilerplate: list[str]) -> Job:
    lines = [" ".join(line.split()) for line in boilerplate]
    return enqueue(JOB_KIND, actor=actor, study_id=consultation.study_id,
                   target=("consultation", consultation.id),
                   params={"threshold": threshold, "boilerplate": [x for x in lines if x]})


def _without(text: str, boilerplate: set[str]) -> str:
    """The text minus whole lines that are boilerplate, for templates and additions."""
    if not boilerplate:
        return text
    return "\n".join(line for line in text.splitlines()
                     if " ".join(line.split()) not in boilerplate).strip()


@dataclass
class _Found:
    ids: tuple[int, ...]
    representative_id: int
    similarity_min: float
    template: str
    additions: dict[int, str | None]


def run_grouping(job: Job, progress: Progress) -> str:
    consultation = db.session.get(Consultation, job.target_id)
    if consultation is None:
        raise JobFailed("The consultation was deleted before grouping ran.")
    threshold = float(job.params.get("threshold", 0.8))
    boilerplate = list(job.params.get("boilerplate") or [])
    docs = [(i, body) for i, body in db.session.execute(select(Comment.id, Comment.body).where(
        Comment.consultation_id == consultation.id).order_by(Comment.id))]
    progress(5, f"Comparing {len(docs):,} comments")
    groups = group_campaigns(docs, threshold=threshold, boilerplate=boilerplate)
    progress(40, f"Found {len(groups):,} campaigns; describing them")

    text = dict(docs)
    lines = set(boilerplate)
    found: list[_Found] = []
    for n, group in enumerate(groups, start=1):
        texts = [_without(text[i], lines) for i in group.ids]
        template = campaign_template(texts, group.ids.index(group.representative_id))
        seen: dict[str, str | None] = {}  # exact copies are most of a campaign: diff once
        for t in texts:
            if t not in seen:
                seen[t] = personal_addition(t, template)
        additions = {i: seen[t] for i, t in zip(group.ids, texts, strict=True)}
        found.append(_Found(group.ids, group.representative_id, group.similarity_min,
                            template, additions))
        if n % 50 == 0:
            progress(40 + 50 * n / len(groups), f"Described {n:,} of {len(groups):,} campaigns")

    # Replace the previous grouping in this one transaction (the job's final commit).
    db.session.execute(update(Comment).where(Comment.consultation_id == consultation.id)
                       .values(campaign_id=None, personal_addition=None))
    db.session.execute(delete(Campaign).where(Campaign.consultation_id == consultation.id))
    for f in found:
        campaign = Campaign(consultation_id=consultation.id, template=f.template,
                            representative_id=f.representative_id,
                            similarity_min=f.similarity_min)
        db.session.add(campaign)
        db.session.flush()
        # In chunks: a campaign can have more members than SQLite allows parameters.
        for start in range(0, len(f.ids), 500):
            db.session.execute(update(Comment).where(Comment.id.in_(f.ids[start:start + 500]))
                               .values(campaign_id=campaign.id))
        for comment_id, addition in f.additions.items():
            if addition:
                db.session.execute(update(Comment).where(Comment.id == comment_id)
                                   .values(personal_addition=addition))
    members = sum(len(f.ids) for f in found)
    largest = max((len(f.ids) for f in found), default=0)
    return (f"Found {len(found):,} campaigns covering {members:,} of {len(docs):,} comments"
            + (f"; the largest has {largest:,} members." if found else "."))


@dataclass(frozen=True)
class CampaignSummary:
    campaign: Campaign
    members: int
    with_additions: int


def campaign_summaries(consultation: Consultation) -> list[CampaignSummary]:
    rows = db.session.execute(
        select(Campaign, func.count(Comment.id), func.count(Comment.personal_addition))
        .join(Comment, Comment.campaign_id == Campaign.id)
        .where(Campaign.consultation_id == consultation.id)
        .group_by(Campaign.id)
        .order_by(func.count(Comment.id).desc(), Campaign.id)).all()
    return [CampaignSummary(c, members, additions) for c, members, additions in rows]


def campaign_members(campaign: Campaign) -> list[Comment]:
    return list(db.session.scalars(select(Comment).where(Comment.campaign_id == campaign.id)
                                   .order_by(Comment.personal_addition.is_(None), Comment.id)))
