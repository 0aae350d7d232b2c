"""Finalizing a pass replaces the codings of record for its codes only, unless told otherwise."""

from __future__ import annotations

import re

import pytest

from engage.analysis.agreement import FinalizeScope, finalize, scope_preview
from models import AuditEvent, Coding, CodingAssignment, CodingOrigin, User
from tests.engage.test_agreement_report import (
    assign,
    code_of,
    code_whole,
    flashes,
    team,  # noqa: F401  (the fixture)
)


@pytest.fixture
def adjudicated_pass(client, login, team, db, make):  # noqa: F811
    """Ada and Ben both code "equity" (A) on s1; the record holds an older A coding on s2,
    and, made by Cy while the pass is open, two "mechanisms" (B) and one "lessons" (C)."""
    study, owner, (ada, ben, cy) = team
    transcript = make.transcript(study, ["Rural counties lack providers.",
                                         "We need D-SNP plans and PACE."])
    s1, s2 = transcript.segments
    a, b, c = (code_of(db, study), code_of(db, study, "integration-mechanisms"),
               code_of(db, study, "lessons-learned"))
    db.session.add(Coding(study_id=study.id, code_id=a.id, segment_id=s2.id,
                          start_char=0, end_char=7, quote="We need"))
    db.session.commit()
    login(owner)
    assign(client, study, transcript, [ada, ben])
    client.post("/logout")
    for coder in (ada, ben):
        login(coder)
        code_whole(client, study, s1, a, quote="Rural counties")
        client.post("/logout")
    login(cy)  # not assigned: works on the study's codings of record
    code_whole(client, study, s2, b, quote="D-SNP plans")
    code_whole(client, study, s2, b, quote="PACE")
    code_whole(client, study, s1, c)
    client.post("/logout")
    login(owner)
    assignment = db.session.scalar(db.select(CodingAssignment))
    return study, assignment, (a, b, c), (s1, s2)


def of_record(db):
    db.session.expire_all()
    return sorted((c.code_id, c.segment_id, c.quote, c.origin) for c in db.session.scalars(
        db.select(Coding).where(Coding.assignment_id.is_(None))))


def finalize_url(study, assignment):
    return f"/studies/{study.id}/coding/assignments/{assignment.id}/finalize"


def test_page_offers_the_scope_with_counts(client, db, adjudicated_pass):
    study, assignment, _, _ = adjudicated_pass
    preview = scope_preview(assignment)
    assert (preview.pass_codes, preview.replaced, preview.kept_codings, preview.kept_codes,
            preview.total) == (1, 1, 3, 2, 4)
    page = client.get(f"/studies/{study.id}/coding/assignments/{assignment.id}").get_data(True)
    assert ("Replace codings of record for the codes used in this pass (1 code); keep the "
            "others (3 codings of 2 other codes)") in page
    assert "Replace all codings of record on this transcript (4 codings now)" in page
    assert re.search(r'<input checked [^>]*value="codes"', page)  # the default
    assert "The result replaces the study's current codings on this transcript" not in page


def test_default_keeps_codings_of_other_codes(client, db, adjudicated_pass):
    study, assignment, (a, b, c), (s1, s2) = adjudicated_pass
    client.post(finalize_url(study, assignment))  # no choice sent: the default
    assert ("Adjudicated: 1 coding is now the study's codings for the codes in this pass; "
            "3 codings of record with other codes were kept.") in flashes(client)
    manual = CodingOrigin.MANUAL
    assert of_record(db) == sorted([
        (a.id, s1.id, "Rural counties", CodingOrigin.ADJUDICATED),  # the older A replaced
        (b.id, s2.id, "D-SNP plans", manual), (b.id, s2.id, "PACE", manual),
        (c.id, s1.id, "Rural counties lack providers.", manual)])
    event = db.session.scalar(db.select(AuditEvent).where(
        AuditEvent.action == "coding_assignment.finalize"))
    assert (event.target_type, event.target_id, event.study_id) == (
        "coding_assignment", assignment.id, study.id)
    assert event.detail == {"transcript": assignment.transcript_id, "scope": "codes",
                            "codes": [a.id], "written": 1, "replaced": 1, "kept": 3}


def test_replace_all_removes_every_coding_of_record(client, db, adjudicated_pass):
    study, assignment, (a, _, _), (s1, _) = adjudicated_pass
    client.post(finalize_url(study, assignment), data={"scope": "all"})
    assert "Adjudicated: 1 coding is now the study's codings for this transcript." in \
        flashes(client)
    assert of_record(db) == [(a.id, s1.id, "Rural counties", CodingOrigin.ADJUDICATED)]
    event = db.session.scalar(db.select(AuditEvent).where(
        AuditEvent.action == "coding_assignment.finalize"))
    assert (event.detail["scope"], event.detail["replaced"], event.detail["kept"]) == \
        ("all", 4, 0)


def test_unknown_scope_is_refused(client, db, adjudicated_pass):
    study, assignment, _, _ = adjudicated_pass
    assert client.post(finalize_url(study, assignment),
                       data={"scope": "everything"}).status_code == 400
    assert db.session.get(CodingAssignment, assignment.id).status.value == "open"
    assert len(of_record(db)) == 4


def test_a_ruled_code_counts_as_used(client, db, adjudicated_pass):
    """A ruling on a code no coder applied puts that code in the pass (here: C)."""
    study, assignment, (a, b, c), (s1, _) = adjudicated_pass
    url = f"/studies/{study.id}/coding/assignments/{assignment.id}"
    client.post(f"{url}/adjudicate", data={"segment": s1.id, "code": c.id, "ruling": "reject"})
    assert scope_preview(assignment).pass_codes == 2
    owner = db.session.get(User, assignment.created_by_id)
    result = finalize(owner, assignment, scope=FinalizeScope.USED_CODES)
    assert (result.written, result.removed, result.kept) == (1, 2, 2)
    assert {code for code, *_ in of_record(db)} == {a.id, b.id}
