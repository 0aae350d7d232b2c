"""The demo study `make run` loads into a new database."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from sqlalchemy import select
from werkzeug.datastructures import FileStorage

from coding.comment_csv import read_comments_csv
from engage.analysis.tagging import start_tagging
from engage.auth.operations import create_user
from engage.consultations.operations import ConsultationData, create_consultation
from engage.recordings.operations import upload_recording
from engage.studies.operations import add_member, create_study
from engage.transcript_editor.operations import create_transcript
from models import (
    Comment,
    CommentSource,
    Consultation,
    Participant,
    Role,
    StakeholderGroup,
    Study,
    StudyRole,
    db,
    utcnow,
)
from transcripts.formats import from_vtt

DEMO_STUDY = "Demo: Medicare-Medicaid integration strategy"
DATA = Path(__file__).parent / "demo_data"
ACCOUNTS = (
    ("admin@example.org", "Avery Admin", Role.ADMIN),
    ("researcher@example.org", "Riley Researcher", Role.RESEARCHER),
    ("coder@example.org", "Casey Coder", Role.CODER),
    # A second coder, for blind independent coding and agreement.
    ("coder2@example.org", "Jordan Coder", Role.CODER),
)
# Fictional people; groups are the guide's "Who to engage".
PARTICIPANTS = (
    ("Dana Whitfield", "State Medicaid agency", "State officials", "Central", "Wake"),
    ("Luis Ortega", "Piedmont Health Plan", "Health plans", "Piedmont", "Guilford"),
    ("Priya Raman", "Coastal Family Medicine", "Providers", "Coastal", "New Hanover"),
    ("Marcus Bell", "Area Agency on Aging", "Consumer groups", "Mountain", "Buncombe"),
    ("Grace Chen", "Neighbors Helping Neighbors", "Community-based organizations",
     "Sandhills", "Cumberland"),
    ("Ruth Alvarez", "", "Beneficiaries and care partners", "Coastal", "Onslow"),
    ("Samuel Okafor", "Former state duals director", "Other states", "", ""),
    ("Helen Park", "Federal policy expert", "Federal experts", "", ""),
)
PUBLIC_SLUG = "draft-strategy"
DRAFT = """# Draft integration strategy (demo)

## Vision
Every dual-eligible beneficiary can get Medicare and Medicaid services through one plan.

## Integration mechanisms
Contract with D-SNPs through the State Medicaid Agency Contract and expand PACE.

## Phased-in approach
Begin with community-dwelling LTSS users in two regions, then expand statewide.
"""


@dataclass
class DemoResult:
    created: bool
    accounts: list[tuple[str, str, str]] = field(default_factory=list)
    comment_errors: int = 0


def load_demo() -> DemoResult:
    """Create the demo accounts and study once; later calls change nothing."""
    if db.session.scalar(select(Study).where(Study.name == DEMO_STUDY)):
        return DemoResult(created=False)
    result = DemoResult(created=True)
    users, coders = {}, []
    for email, name, role in ACCOUNTS:
        user, password = create_user(email, name, role)
        users.setdefault(role, user)
        if role is Role.CODER:
            coders.append(user)
        result.accounts.append((email, role.value, password))

    study = create_study(
        users[Role.RESEARCHER], DEMO_STUDY,
        "Key-informant interviews, focus groups and public comment informing a state's "
        "strategy to integrate Medicare and Medicaid for dual-eligible beneficiaries.",
    )
    for coder in coders:
        add_member(users[Role.RESEARCHER], study, coder.email, StudyRole.CODER)

    groups = {g.name: g for g in db.session.scalars(
        select(StakeholderGroup).where(StakeholderGroup.study_id == study.id))}
    for name, organization, group, region, county in PARTICIPANTS:
        handle = name.split()[0].lower()
        db.session.add(Participant(
            study_id=study.id, name=name, organization=organization,
            stakeholder_group=groups[group], region=region, county=county,
            email=f"{handle}@example.org", phone="555-0100"))

    # An open public comment period, so `make run` shows the form at /c/draft-strategy.
    now = utcnow()
    create_consultation(users[Role.RESEARCHER], study, ConsultationData(
        title="Draft Medicare-Medicaid integration strategy", slug=PUBLIC_SLUG,
        summary="The state's draft strategy for people with both Medicare and Medicaid. "
                "Tell us what works for you and what should change.",
        draft=DRAFT, opens_at=now - timedelta(days=1), closes_at=now + timedelta(days=60),
        question_keys=["stakeholder_group", "county", "dual_eligible"],
        publish_comments=True))

    consultation = Consultation(
        study_id=study.id, title="Regulatory reform comments (USDA-2017-0002, imported)",
        draft=DRAFT)
    db.session.add(consultation)
    comments, errors = read_comments_csv((DATA / "usda-2017-0002-comments.csv").read_bytes())
    result.comment_errors = len(errors)
    consultation.comments.extend(
        Comment(external_id=c.external_id, body=c.body, source=CommentSource.IMPORT)
        for c in comments)
    load_demo_interview(users[Role.RESEARCHER], study)
    db.session.flush()
    # Suggested codes for the interview and the comments, made by the worker.
    start_tagging(users[Role.RESEARCHER], study)
    return result


def load_demo_interview(researcher, study: Study) -> None:
    """A recorded key-informant interview with a speaker-labelled transcript to code."""
    with (DATA / "demo-interview.ogg").open("rb") as audio:
        recording = upload_recording(
            researcher, study, FileStorage(audio, filename="demo-interview.ogg"),
            title="Key-informant interview: state LTSS policy lead", language="en",
            translate=False, transcribe=False)
    create_transcript(
        study.id, from_vtt((DATA / "demo-interview.vtt").read_text()),
        title=recording.title, source="vtt", recording=recording, language="en",
        duration_ms=recording.duration_ms, actor_id=researcher.id)
