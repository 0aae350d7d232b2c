"""Independent (blind) coding, the agreement report against textbook values, adjudication."""

from __future__ import annotations

import csv
import io

import krippendorff
import numpy as np
import pytest
from sklearn.metrics import cohen_kappa_score

from engage.analysis.agreement import build_report
from models import (
    AssignmentStatus,
    Code,
    Coding,
    CodingAssignment,
    CodingOrigin,
    Memo,
    Role,
    StudyRole,
)

# Cohen's kappa, the standard worked example (e.g. Wikipedia, "Cohen's kappa"): 50 units,
# both yes 20, A yes/B no 5, A no/B yes 10, both no 15; p_o = 0.7, p_e = 0.5, kappa = 0.4.
KAPPA_EXAMPLE = [(1, 1)] * 20 + [(1, 0)] * 5 + [(0, 1)] * 10 + [(0, 0)] * 15
# Krippendorff (2011), "Computing Krippendorff's Alpha-Reliability", section A: two
# observers, binary data, ten units; alpha = 0.095.
KRIPPENDORFF_A = [[0, 1, 0, 0, 0, 0, 0, 0, 1, 0],
                  [1, 1, 1, 0, 0, 1, 0, 0, 0, 0]]


@pytest.fixture
def team(make):
    owner = make.user(Role.RESEARCHER, name="Riley Researcher")
    study = make.study(owner)
    coders = []
    for name in ("Ada", "Ben", "Cy"):
        user = make.user(Role.CODER, name=name)
        make.member(study, user, StudyRole.CODER)
        coders.append(user)
    return study, owner, coders


def code_of(db, study, key="equity-strategies") -> Code:
    return db.session.scalar(db.select(Code).where(Code.study_id == study.id, Code.key == key))


def assign(client, study, transcript, coders, blind=True):
    data = {"coders": [c.id for c in coders]}
    if blind:
        data["blind"] = "y"
    return client.post(f"/studies/{study.id}/coding/transcripts/{transcript.id}/assignment",
                       data=data)


def code_whole(client, study, segment, code, **extra):
    return client.post(f"/studies/{study.id}/coding/codings",
                       data={"unit": f"segment:{segment.id}", "codes": [code.id], **extra})


def flashes(client) -> str:
    with client.session_transaction() as session:
        return " ".join(m for _, m in session.get("_flashes", []))


def run_pass(client, login, study, transcript, coder, code, values):
    login(coder)
    for segment, value in zip(transcript.segments, values, strict=True):
        if value:
            code_whole(client, study, segment, code)
    client.post("/logout")


def test_kappa_and_alpha_match_textbook_values_end_to_end(client, login, team, db, make):
    study, owner, (ada, ben, _) = team
    n = len(KAPPA_EXAMPLE)
    transcript = make.transcript(study, [f"Passage {i} about rural access." for i in range(n)])
    code = code_of(db, study)
    login(owner)
    assign(client, study, transcript, [ada, ben])
    client.post("/logout")
    run_pass(client, login, study, transcript, ada, code, [a for a, _ in KAPPA_EXAMPLE])
    run_pass(client, login, study, transcript, ben, code, [b for _, b in KAPPA_EXAMPLE])
    assignment = db.session.scalar(db.select(CodingAssignment))
    report = build_report(assignment)
    (row,) = report.segment_level.codes
    assert row.percent_agreement == pytest.approx(0.7)
    assert row.mean_kappa == pytest.approx(0.4)
    assert row.pairs[0].kappa.expected == pytest.approx(0.5)
    a = [x for x, _ in KAPPA_EXAMPLE]
    b = [y for _, y in KAPPA_EXAMPLE]
    assert row.mean_kappa == pytest.approx(cohen_kappa_score(a, b))
    assert row.alpha.value == pytest.approx(krippendorff.alpha(
        reliability_data=np.array([a, b], dtype=float), level_of_measurement="nominal"))
    # Whole-passage codings: character level weighs each segment by its length.
    lengths = [len(s.text) for s in transcript.segments]
    agree = sum(w for w, (x, y) in zip(lengths, KAPPA_EXAMPLE, strict=True) if x == y)
    (chars,) = report.character_level.codes
    assert chars.percent_agreement == pytest.approx(agree / sum(lengths))
    # 15 disagreements (5 + 10), listed side by side for the researcher.
    assert len(report.disagreements) == 15
    login(owner)
    page = client.get(f"/studies/{study.id}/coding/assignments/{assignment.id}").get_data(True)
    assert "0.400" in page and "70.0%" in page and "Disagreements (15, 15 to rule on)" in page


def test_krippendorff_section_a_gives_0_095(client, login, team, db, make):
    study, owner, (ada, ben, _) = team
    transcript = make.transcript(study, [f"Unit {i}" for i in range(10)])
    code = code_of(db, study)
    login(owner)
    assign(client, study, transcript, [ada, ben])
    client.post("/logout")
    run_pass(client, login, study, transcript, ada, code, KRIPPENDORFF_A[0])
    run_pass(client, login, study, transcript, ben, code, KRIPPENDORFF_A[1])
    report = build_report(db.session.scalar(db.select(CodingAssignment)))
    assert round(report.segment_level.codes[0].alpha.value, 3) == 0.095
    assert report.segment_level.overall.alpha.value == pytest.approx(
        report.segment_level.codes[0].alpha.value)


def test_character_level_counts_partial_overlap(client, login, team, db, make):
    study, owner, (ada, ben, _) = team
    text = "We need D-SNP plans and aligned enrollment in rural counties."
    transcript = make.transcript(study, [text])
    seg = transcript.segments[0]
    code = code_of(db, study, "integration-mechanisms")
    login(owner)
    assign(client, study, transcript, [ada, ben])
    client.post("/logout")
    for coder, quote in ((ada, "D-SNP plans"), (ben, "D-SNP plans and aligned enrollment")):
        login(coder)
        code_whole(client, study, seg, code, quote=quote)
        client.post("/logout")
    report = build_report(db.session.scalar(db.select(CodingAssignment)))
    assert report.segment_level.codes[0].percent_agreement == 1.0  # both applied it here
    overlap = len("D-SNP plans")
    union = len("D-SNP plans and aligned enrollment")
    assert report.character_level.codes[0].percent_agreement == pytest.approx(
        1 - (union - overlap) / len(text))
    assert report.disagreements == []


def test_blind_coders_see_only_their_own_codings(client, login, team, db, make):
    study, owner, (ada, ben, cy) = team
    transcript = make.transcript(study, ["D-SNP plans matter.", "So does PACE."])
    seg = transcript.segments[0]
    code = code_of(db, study, "integration-mechanisms")
    login(owner)
    assert assign(client, study, transcript, [ada, ben]).status_code == 302
    client.post("/logout")
    login(ada)
    page = client.get(f"/studies/{study.id}/coding/transcripts/{transcript.id}").get_data(True)
    assert "Blind coding: you see only your own codings" in page
    code_whole(client, study, seg, code, quote="D-SNP plans", memo="Ada's reasoning")
    ada_coding = db.session.scalar(db.select(Coding))
    assert ada_coding.assignment_id is not None
    client.post("/logout")
    login(ben)
    page = client.get(f"/studies/{study.id}/coding/transcripts/{transcript.id}").get_data(True)
    assert 'class="coded' not in page
    assert client.get(f"/studies/{study.id}/coding/codings/{ada_coding.id}").status_code == 404
    memos = client.get(f"/studies/{study.id}/coding/memos").get_data(True)
    assert "Ada's reasoning" not in memos
    client.post(f"/studies/{study.id}/coding/codings/{ada_coding.id}/remove")
    assert db.session.get(Coding, ada_coding.id) is not None
    client.post("/logout")
    # Someone not assigned works on the study's codings, where the blind pass is not counted.
    login(cy)
    page = client.get(f"/studies/{study.id}/coding/transcripts/{transcript.id}").get_data(True)
    assert 'class="coded' not in page and "Blind coding" not in page
    quotes = client.get(f"/studies/{study.id}/queries/quotes.csv").get_data(True)
    assert "D-SNP plans" not in quotes
    assert client.get(f"/studies/{study.id}/coding/assignments/1").status_code == 403


def test_assignment_refusals(client, login, team, db, make):
    study, owner, (ada, ben, _) = team
    transcript = make.transcript(study, ["One passage."])
    outsider = make.user(Role.CODER)
    login(ada)
    assert assign(client, study, transcript, [ada, ben]).status_code == 403
    client.post("/logout")
    login(owner)
    assign(client, study, transcript, [ada])
    assert "at least two coders" in flashes(client).lower()
    assign(client, study, transcript, [ada, outsider])
    assert "Choose at least two coders" in flashes(client)  # not offered: not a member
    assign(client, study, transcript, [ada, ben])
    assign(client, study, transcript, [ada, owner])
    assert "already has independent coding in progress" in flashes(client)
    assert db.session.scalar(db.select(db.func.count(CodingAssignment.id))) == 1


def test_adjudication_becomes_the_studys_codings(client, login, team, db, make):
    study, owner, (ada, ben, cy) = team
    transcript = make.transcript(study, [
        "We need D-SNP plans and aligned enrollment.",
        "Rural counties lack providers.",
        "PACE works well here."])
    s1, s2, s3 = transcript.segments
    mech, equity = code_of(db, study, "integration-mechanisms"), code_of(db, study)
    # An older coding of record on the transcript is replaced by the adjudicated result.
    db.session.add(Coding(study_id=study.id, code_id=equity.id, segment_id=s3.id,
                          start_char=0, end_char=4, quote="PACE"))
    db.session.commit()
    login(owner)
    assign(client, study, transcript, [ada, ben, cy])
    client.post("/logout")
    login(ada)
    code_whole(client, study, s1, mech, quote="D-SNP plans", memo="Plan type")
    code_whole(client, study, s2, equity)
    code_whole(client, study, s3, mech, quote="PACE")
    client.post("/logout")
    login(ben)
    code_whole(client, study, s1, mech, quote="D-SNP plans and aligned enrollment")
    code_whole(client, study, s3, mech, quote="PACE works")
    assignment = db.session.scalar(db.select(CodingAssignment))
    client.post(f"/studies/{study.id}/coding/assignments/{assignment.id}/done")
    client.post("/logout")
    login(cy)
    code_whole(client, study, s1, mech, quote="D-SNP")
    code_whole(client, study, s2, equity, quote="Rural counties")
    client.post("/logout")

    report = build_report(assignment)
    assert [(d.segment.id, d.code.id) for d in report.disagreements] == [
        (s2.id, equity.id), (s3.id, mech.id)]
    assert len(report.segment_level.codes[0].pairs) == 3  # three coders, three pairs
    assert {u.name for u in report.not_done} == {"Ada", "Cy"}

    login(owner)
    url = f"/studies/{study.id}/coding/assignments/{assignment.id}"
    client.post(f"{url}/finalize")
    assert "2 disagreements are not adjudicated yet" in flashes(client)
    assert db.session.scalar(db.select(CodingAssignment)).status is AssignmentStatus.OPEN
    client.post(f"{url}/adjudicate", data={"segment": s2.id, "code": equity.id,
                                           "ruling": f"coder:{cy.id}", "note": "Cy is precise"})
    client.post(f"{url}/adjudicate", data={"segment": s3.id, "code": mech.id,
                                           "ruling": "reject"})
    client.post(f"{url}/adjudicate", data={"segment": s3.id, "code": mech.id,
                                           "ruling": "nonsense"})
    assert "Choose a ruling" in flashes(client)
    page = client.get(url).get_data(as_text=True)
    assert "ruled: apply" in page and "ruled: do not apply" in page
    csv_text = client.get(f"{url}/agreement.csv").get_data(as_text=True)
    rows = list(csv.DictReader(io.StringIO(csv_text)))
    assert {r["level"] for r in rows} == {"segment", "character"}
    assert any(r["code"] == "(all codes)" for r in rows)
    assert "Ada × Ben" in rows[0]["kappa_by_pair"]

    client.post(f"{url}/finalize")
    assert "codings are now the study's codings" in flashes(client)
    db.session.expire_all()
    assert db.session.get(CodingAssignment, assignment.id).status is \
        AssignmentStatus.ADJUDICATED
    record = db.session.scalars(db.select(Coding).where(Coding.assignment_id.is_(None))
                                .order_by(Coding.segment_id)).all()
    # s1: all three applied -> union of spans; s2: Cy's span; s3: nothing (old one replaced).
    assert [(c.segment_id, c.code_id, c.quote, c.origin) for c in record] == [
        (s1.id, mech.id, "D-SNP plans and aligned enrollment", CodingOrigin.ADJUDICATED),
        (s2.id, equity.id, "Rural counties", CodingOrigin.ADJUDICATED)]
    assert record[0].coder_id == owner.id
    assert db.session.scalar(db.select(Memo).where(Memo.coding_id == record[0].id)).body == \
        "Plan type"
    # The independent passes are kept for the record, and now count nowhere else.
    assert db.session.scalar(db.select(db.func.count(Coding.id)).where(
        Coding.assignment_id == assignment.id)) == 7
    quotes = client.get(f"/studies/{study.id}/queries/quotes.csv").get_data(as_text=True)
    assert "Rural counties" in quotes and "PACE works" not in quotes
    client.post(f"{url}/adjudicate", data={"segment": s2.id, "code": equity.id,
                                           "ruling": "reject"})
    assert "adjudicated; it cannot be changed" in flashes(client)


def test_blind_coders_decide_suggestions_independently(client, login, team, db, make):
    from models import Suggestion, SuggestionDecision, SuggestionStatus

    study, owner, (ada, ben, _) = team
    transcript = make.transcript(study, ["We need D-SNP plans. More PACE too."])
    seg = transcript.segments[0]
    mech = code_of(db, study, "integration-mechanisms")
    suggestion = Suggestion(study_id=study.id, code_id=mech.id, segment_id=seg.id,
                            confidence=0.6, evidence=[{"start": 8, "end": 13, "text": "D-SNP",
                                                       "term": "D-SNP"}])
    db.session.add(suggestion)
    db.session.commit()
    login(owner)
    assign(client, study, transcript, [ada, ben])
    client.post("/logout")
    url = f"/studies/{study.id}/review/{suggestion.id}"
    login(ada)
    client.post(url, data={"action": "accept"})
    assert "Nothing left to review" in client.get(f"/studies/{study.id}/review").get_data(True)
    client.post("/logout")
    login(ben)  # Ada's decision is hers: Ben still has it to decide, and decides otherwise
    assert "Suggestion 1 of 1" in client.get(f"/studies/{study.id}/review").get_data(True)
    client.post(url, data={"action": "reject"})
    db.session.refresh(suggestion)
    assert suggestion.status is SuggestionStatus.PENDING  # no decision of record yet
    decisions = db.session.scalars(db.select(SuggestionDecision)).all()
    assert {(d.user_id, d.decision.value) for d in decisions} == {(ada.id, "accept"),
                                                                  (ben.id, "reject")}
    assert all(d.assignment_id is not None for d in decisions)
    (coding,) = db.session.scalars(db.select(Coding)).all()
    assert coding.coder_id == ada.id and coding.assignment_id is not None
    assert coding.quote == "We need D-SNP plans."
    report = build_report(db.session.scalar(db.select(CodingAssignment)))
    assert len(report.disagreements) == 1
