"""Codebook management: codes, hierarchy, merge with codings following, retire, patterns,
REFI-QDA .qdc and CSV import/export."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from lxml import etree

from coding.default_patterns import default_patterns
from engage.codebook.tree import code_choices
from models import (
    Code,
    CodeEvent,
    CodePatternRule,
    Coding,
    Memo,
    Role,
    StudyRole,
    Suggestion,
    SuggestionStatus,
)

SHARED_XSD = Path(__file__).resolve().parents[3] / "shared" / "data" / "refi-qda" / "Codebook.xsd"
PACKAGED_XSD = Path(__file__).resolve().parents[2] / "coding" / "schemas" / "Codebook.xsd"


@pytest.fixture
def team(make):
    owner = make.user(Role.RESEARCHER)
    study = make.study(owner)
    coder = make.user(Role.CODER)
    make.member(study, coder, StudyRole.CODER)
    return study, owner, coder


def code(db, study, key) -> Code:
    return db.session.scalar(db.select(Code).where(Code.study_id == study.id, Code.key == key))


def flashes(client) -> str:
    with client.session_transaction() as session:
        return " ".join(m for _, m in session.get("_flashes", []))


def test_new_study_gets_the_guides_codebook_with_its_patterns(team, db):
    study, _, _ = team
    rules = db.session.scalars(db.select(CodePatternRule).join(Code)
                               .where(Code.study_id == study.id)).all()
    assert len(rules) == len(default_patterns())
    mech = code(db, study, "integration-mechanisms")
    assert any("D-SNP" in r.terms and "DSNP" in r.terms for r in mech.patterns)


def test_researcher_adds_edits_and_sees_codes_coder_only_reads(client, login, team, db):
    study, owner, coder = team
    login(coder)
    assert client.get(f"/studies/{study.id}/codebook").status_code == 200
    assert client.post(f"/studies/{study.id}/codebook/new", data={"name": "X"}).status_code == 403
    client.post("/logout")
    login(owner)
    parent = code(db, study, "equity-strategies")
    response = client.post(f"/studies/{study.id}/codebook/new", data={
        "name": "Language access", "parent": parent.id, "description": "Interpreters",
        "inclusion": "Talk of translation", "exclusion": "Health literacy", "color": "#5b7f1a"})
    new = code(db, study, "language-access")
    assert response.headers["Location"] == f"/studies/{study.id}/codebook/{new.id}"
    assert (new.parent_id, new.inclusion, new.exclusion) == (parent.id, "Talk of translation",
                                                             "Health literacy")
    response = client.post(f"/studies/{study.id}/codebook/new", data={"name": "", "parent": 0})
    assert response.status_code == 400 and "This field is required" in response.get_data(True)
    client.post(f"/studies/{study.id}/codebook/{new.id}/edit", data={
        "name": "Language access and interpreters", "description": "Interpreters",
        "inclusion": "", "exclusion": "", "color": "#5b7f1a"})
    db.session.refresh(new)
    assert new.name == "Language access and interpreters" and new.inclusion == ""
    events = [e.action for e in db.session.scalars(
        db.select(CodeEvent).where(CodeEvent.code_id == new.id).order_by(CodeEvent.id))]
    assert events == ["created", "edited"]
    page = client.get(f"/studies/{study.id}/codebook/{new.id}").get_data(as_text=True)
    assert "Language access and interpreters" in page and "edited" in page
    assert "Strategies to address equity" in client.get(
        f"/studies/{study.id}/codebook").get_data(as_text=True)


def test_move_to_top_level_keeps_the_code_and_refuses_loops(client, login, team, db):
    study, owner, _ = team
    login(owner)
    domains, mech = code(db, study, "interview-domains"), code(db, study, "integration-mechanisms")
    client.post(f"/studies/{study.id}/codebook/{mech.id}/move", data={"parent": 0})
    db.session.expire_all()
    assert db.session.get(Code, mech.id).parent_id is None  # moved, not deleted as an orphan
    client.post(f"/studies/{study.id}/codebook/{mech.id}/move", data={"parent": domains.id})
    client.post(f"/studies/{study.id}/codebook/{domains.id}/move", data={"parent": mech.id})
    assert "cannot go under itself or one of its own subcodes" in flashes(client)
    db.session.expire_all()
    assert db.session.get(Code, domains.id).parent_id is None
    # Reorder among siblings.
    first = code(db, study, "defining-integration")
    client.post(f"/studies/{study.id}/codebook/{first.id}/reorder/down")
    siblings = [c.key for _, c in sorted(
        (c.position, c) for c in db.session.get(Code, domains.id).children)]
    assert siblings.index("defining-integration") == 1


def test_merge_moves_codings_suggestions_patterns_memos_and_subcodes(client, login, team, db,
                                                                     make):
    study, owner, coder = team
    source, target = code(db, study, "param-integration-mechanisms"), code(
        db, study, "integration-mechanisms")
    transcript = make.transcript(study, ["We use D-SNP plans.", "And PACE too."])
    seg1, seg2 = transcript.segments
    child = Code(study_id=study.id, key="pace-detail", name="PACE detail", parent_id=source.id)
    db.session.add(child)
    shared = dict(study_id=study.id, segment_id=seg1.id, start_char=7, end_char=12,
                  quote="D-SNP", coder_id=coder.id)
    db.session.add_all([Coding(code_id=source.id, **shared), Coding(code_id=target.id, **shared),
                        Coding(study_id=study.id, code_id=source.id, segment_id=seg2.id,
                               start_char=4, end_char=8, quote="PACE", coder_id=coder.id)])
    db.session.add(Suggestion(study_id=study.id, code_id=source.id, segment_id=seg2.id,
                              confidence=0.6))
    db.session.flush()
    memo = Memo(study_id=study.id, body="On the parameter", code_id=source.id)
    db.session.add(memo)
    db.session.commit()
    n_patterns = len(source.patterns) + len(target.patterns)
    login(owner)
    response = client.post(f"/studies/{study.id}/codebook/{source.id}/merge",
                           data={"target": target.id})
    assert response.headers["Location"] == f"/studies/{study.id}/codebook/{target.id}"
    assert "merged into" in flashes(client)
    db.session.expire_all()
    source, target = db.session.get(Code, source.id), db.session.get(Code, target.id)
    assert source.retired and source.merged_into_id == target.id
    codings = db.session.scalars(db.select(Coding)).all()
    assert len(codings) == 2 and {c.code_id for c in codings} == {target.id}  # duplicate folded
    assert db.session.scalar(db.select(Suggestion)).code_id == target.id
    assert len(target.patterns) == n_patterns and not source.patterns
    assert db.session.get(Memo, memo.id).code_id == target.id
    assert db.session.get(Code, child.id).parent_id == target.id
    assert {e.action for e in db.session.scalars(db.select(CodeEvent))} >= {"merged",
                                                                              "merged-from"}
    assert source.id not in dict(code_choices(study))
    # Merging into a subcode of itself is refused.
    domains = code(db, study, "interview-domains")
    client.post(f"/studies/{study.id}/codebook/{domains.id}/merge", data={"target": target.id})
    assert "is a subcode of" in flashes(client)


def test_retire_keeps_codings_and_history_and_can_be_undone(client, login, team, db, make):
    study, owner, _ = team
    login(owner)
    domains, equity = code(db, study, "interview-domains"), code(db, study, "equity-strategies")
    client.post(f"/studies/{study.id}/codebook/{domains.id}/retire")
    assert "still has active subcodes" in flashes(client)
    transcript = make.transcript(study, ["Rural counties lack providers."])
    db.session.add(Coding(study_id=study.id, code_id=equity.id,
                          segment_id=transcript.segments[0].id, start_char=0, end_char=5,
                          quote="Rural"))
    db.session.add(Suggestion(study_id=study.id, code_id=equity.id,
                              segment_id=transcript.segments[0].id, confidence=0.3))
    db.session.commit()
    client.post(f"/studies/{study.id}/codebook/{equity.id}/retire")
    db.session.expire_all()
    assert equity.retired and equity.retired_at is not None
    assert db.session.scalar(db.select(db.func.count(Coding.id))) == 1
    assert db.session.scalar(db.select(Suggestion)).status is SuggestionStatus.PENDING
    assert "Nothing left to review" in client.get(f"/studies/{study.id}/review").get_data(True)
    assert equity.id not in dict(code_choices(study))
    page = client.get(f"/studies/{study.id}/codebook").get_data(as_text=True)
    assert "Retired codes" in page
    client.post(f"/studies/{study.id}/codebook/{equity.id}/restore")
    db.session.expire_all()
    assert not equity.retired and equity.id in dict(code_choices(study))
    assert "Suggestion 1 of 1" in client.get(f"/studies/{study.id}/review").get_data(True)


def test_patterns_are_validated_and_nothing_changes_on_bad_input(client, login, team, db):
    study, owner, _ = team
    login(owner)
    equity = code(db, study, "equity-strategies")
    before = len(equity.patterns)
    url = f"/studies/{study.id}/codebook/{equity.id}/patterns"
    for data, message in [({"terms": "---"}, "without letters or digits"),
                          ({"terms": "x", "lemma": "y", "case_sensitive": "y"}, "both"),
                          ({"terms": "x", "weight": "2"}, "between"),
                          ({"terms": ""}, "This field is required")]:
        client.post(url, data=data)
        assert message in flashes(client), data
        db.session.expire_all()
        assert len(db.session.get(Code, equity.id).patterns) == before
    client.post(url, data={"terms": "language access\ninterpreter services", "lemma": "y"})
    db.session.expire_all()
    rule = db.session.get(Code, equity.id).patterns[-1]
    assert rule.terms == ["language access", "interpreter services"] and rule.lemma
    client.post(f"{url}/{rule.id}", data={"terms": "interpreters", "label": "Interpreting"})
    db.session.refresh(rule)
    assert rule.terms == ["interpreters"] and rule.label == "Interpreting" and not rule.lemma
    client.post(f"{url}/{rule.id}/remove")
    assert db.session.get(CodePatternRule, rule.id) is None


def test_default_patterns_can_be_restored(client, login, team, db):
    study, owner, _ = team
    mech = code(db, study, "integration-mechanisms")
    n = len(mech.patterns)
    for rule in list(mech.patterns):
        db.session.delete(rule)
    db.session.commit()
    login(owner)
    client.post(f"/studies/{study.id}/codebook/default-patterns")
    db.session.expire_all()
    assert len(db.session.get(Code, mech.id).patterns) == n
    client.post(f"/studies/{study.id}/codebook/default-patterns")
    assert "already has patterns" in flashes(client)


def validate_against(xsd: Path, data: bytes) -> None:
    schema = etree.XMLSchema(etree.parse(str(xsd)))
    schema.assertValid(etree.fromstring(data))


def upload(client, study, name, data: bytes):
    return client.post(f"/studies/{study.id}/codebook/import",
                       data={"file": (io.BytesIO(data), name)},
                       content_type="multipart/form-data")


def test_qdc_export_is_schema_valid_and_round_trips(client, login, team, db, make):
    study, owner, _ = team
    equity = code(db, study, "equity-strategies")
    equity.inclusion, equity.exclusion = "Reaching rural members", "General access"
    db.session.commit()
    login(owner)
    response = client.get(f"/studies/{study.id}/codebook/export.qdc")
    assert response.headers["Content-Disposition"].endswith('.qdc"')
    data = response.data
    validate_against(PACKAGED_XSD, data)
    if SHARED_XSD.exists():
        validate_against(SHARED_XSD, data)
    assert b"Strategies to address equity" in data
    # A second study imports it: same hierarchy and notes, keys kept.
    other = make.study(owner)
    for c in db.session.scalars(db.select(Code).where(Code.study_id == other.id)).all():
        c.key, c.name = f"old-{c.key}", f"Old {c.name}"
    db.session.commit()
    response = upload(client, other, "codebook.qdc", data)
    assert response.status_code == 302, response.get_data(as_text=True)
    assert "14 codes added" not in flashes(client)
    imported = code(db, other, "equity-strategies")
    assert imported.parent.key == "interview-domains"
    assert (imported.inclusion, imported.exclusion) == ("Reaching rural members",
                                                         "General access")
    assert imported.description == equity.description
    # Importing the same file again changes nothing.
    upload(client, other, "codebook.qdc", data)
    assert "0 codes added, 0 updated" in flashes(client)


def test_qdc_from_another_tool_and_schema_failures(client, login, team, db):
    study, owner, _ = team
    login(owner)
    ns = "urn:QDA-XML:codebook:1.0"
    good = (f'<?xml version="1.0" encoding="utf-8"?><CodeBook xmlns="{ns}" origin="NVivo">'
            '<Codes><Code guid="6f0c3a52-0000-4d0e-9d0b-3b1e4c1f7a11" name="Housing" '
            'isCodable="true" color="#abc"><Description>Housing needs</Description>'
            '<Code guid="6f0c3a52-0000-4d0e-9d0b-3b1e4c1f7a12" name="Homelessness" '
            'isCodable="true"/></Code></Codes></CodeBook>').encode()
    count = db.session.scalar(db.select(db.func.count(Code.id)))
    upload(client, study, "nvivo.qdc", good)
    assert "2 codes added" in flashes(client)
    housing = code(db, study, "housing")
    assert housing.color == "#aabbcc" and housing.guid.endswith("7a11")
    assert code(db, study, "homelessness").parent_id == housing.id
    upload(client, study, "nvivo.qdc", good.replace(b"Housing needs", b"Housing and rent"))
    assert "0 codes added, 1 updated" in flashes(client)  # matched by GUID, not duplicated
    assert db.session.scalar(db.select(db.func.count(Code.id))) == count + 2

    bad_schema = good.replace(b'isCodable="true" color', b'color')  # isCodable is required
    for data, name, message in [
            (bad_schema, "x.qdc", "does not match the REFI-QDA Codebook schema"),
            (b"<CodeBook>", "x.qdc", "not a well-formed XML document"),
            (b"", "x.qdc", "The file is empty"),
            (b"name\n", "x.csv", "the file has no codes"),
            (b"plain", "x.pdf", "Choose a REFI-QDA codebook")]:
        response = upload(client, study, name, data)
        assert response.status_code == 400
        assert message in response.get_data(as_text=True), message
    assert db.session.scalar(db.select(db.func.count(Code.id))) == count + 2


def test_csv_export_and_import_with_patterns(client, login, team, db):
    study, owner, _ = team
    login(owner)
    text = client.get(f"/studies/{study.id}/codebook/export.csv").get_data(as_text=True)
    assert text.startswith("key,parent_key,name,description,inclusion,exclusion,color,"
                           "retired,patterns")
    assert "D-SNP; D-SNPs; DSNP" in text and "[lemma]" in text
    csv_data = (b"key,name,parent_key,patterns\n"
                b"workforce,Workforce,delivery-system-supports,\"home care aide; direct care "
                b"worker\n[lemma] caregiver shortage\"\n")
    upload(client, study, "codes.csv", csv_data)
    assert "1 code added" in flashes(client)
    workforce = code(db, study, "workforce")
    assert workforce.parent.key == "delivery-system-supports"
    assert [p.terms for p in workforce.patterns] == [["home care aide", "direct care worker"],
                                                    ["caregiver shortage"]]
    bad = b"key,name,patterns\nworkforce,Workforce,[lemma] ---\n"
    response = upload(client, study, "codes.csv", bad)
    assert response.status_code == 400
    assert "row 2: pattern" in response.get_data(as_text=True)
    db.session.expire_all()
    assert len(db.session.get(Code, workforce.id).patterns) == 2
