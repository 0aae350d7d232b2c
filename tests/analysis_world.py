"""A coded study for theme and export tests: named participants, PII in comments."""

from __future__ import annotations

from sqlalchemy import select

from engage.consultations.moderation import public_text
from models import (
    Code,
    Coding,
    CodingOrigin,
    Memo,
    Role,
    SpeakerLink,
    StakeholderGroup,
    StudyRole,
)

NAMES = ("Dana Whitfield", "Luis Ortega", "Jane Roe")
PII = ("919-555-0142", "jane.roe@example.org", "Jane Roe")

SEGMENTS = [
    ("Interviewer", "Thanks for joining us today, Dana."),
    ("Dana Whitfield", "The van to dialysis is always late and people miss care."),
    ("Interviewer", "What about care coordination between the plans?"),
    ("Luis Ortega", "Our care coordinators call every member monthly about their plan."),
    ("Dana Whitfield", "Housing is the other thing: rent is impossible on a disability check."),
    ("Luis Ortega", "Dental coverage is missing from Medicare for most adults."),
]
COMMENTS = [
    "My name is Jane Roe and my phone is 919-555-0142. The dialysis van is always late.",
    "Please add dental coverage to every integrated plan. Write me at jane.roe@example.org.",
    "Care coordination should know both Medicare and Medicaid benefits.",
]


def build(make, db) -> dict:
    owner = make.user(Role.RESEARCHER, name="Riley Researcher")
    coder = make.user(Role.CODER, name="Casey Coder")
    study = make.study(owner, name="Duals study")
    make.member(study, coder, StudyRole.CODER)
    groups = {g.name: g for g in db.session.scalars(
        select(StakeholderGroup).where(StakeholderGroup.study_id == study.id))}
    dana = make.participant(study, name=NAMES[0], stakeholder_group_id=groups["Providers"].id,
                            region="Central", county="Wake")
    luis = make.participant(study, name=NAMES[1],
                            stakeholder_group_id=groups["Health plans"].id, region="Piedmont")
    transcript = make.transcript(study, [t for _, t in SEGMENTS],
                                 speakers=[s for s, _ in SEGMENTS], title="Focus group 1")
    db.session.add_all([
        SpeakerLink(transcript_id=transcript.id, speaker=NAMES[0], participant_id=dana.id),
        SpeakerLink(transcript_id=transcript.id, speaker=NAMES[1], participant_id=luis.id)])
    consultation = make.consultation(study)
    comments = [make.comment(consultation, body, author_name="Jane Roe",
                             answers={"stakeholder_group": "Consumer groups"} if i == 0 else {})
                for i, body in enumerate(COMMENTS)]
    codes = list(db.session.scalars(select(Code).where(Code.study_id == study.id,
                                                       Code.parent_id.is_not(None))
                                    .order_by(Code.id)))[:3]
    segments = transcript.segments
    codings = []

    def code(code_row, *, segment=None, comment=None, words=None):
        text = segment.text if segment else public_text(comment)
        start = text.index(words) if words else 0
        end = start + len(words) if words else len(text)
        row = Coding(study_id=study.id, code_id=code_row.id,
                     segment_id=segment.id if segment else None,
                     comment_id=comment.id if comment else None, start_char=start,
                     end_char=end, quote=text[start:end], coder_id=coder.id,
                     origin=CodingOrigin.MANUAL)
        db.session.add(row)
        db.session.flush()
        codings.append(row)
        return row

    first = code(codes[0], segment=segments[1], words="The van to dialysis is always late")
    code(codes[0], comment=comments[0], words="The dialysis van is always late")
    code(codes[1], segment=segments[3], words="care coordinators call every member")
    code(codes[1], comment=comments[2])
    code(codes[2], segment=segments[5])
    code(codes[2], segment=segments[4], words="rent is impossible")
    db.session.add_all([
        Memo(study_id=study.id, author_id=coder.id, body="Late vans again.", coding_id=first.id),
        Memo(study_id=study.id, author_id=owner.id, body="Transport matters.",
             code_id=codes[0].id),
        Memo(study_id=study.id, author_id=owner.id, body="Good session.",
             transcript_id=transcript.id),
        Memo(study_id=study.id, author_id=owner.id, body="Study memo."),
    ])
    db.session.commit()
    return {"owner": owner, "coder": coder, "study": study, "transcript": transcript,
            "participants": [dana, luis], "consultation": consultation, "comments": comments,
            "codes": codes, "codings": codings}
