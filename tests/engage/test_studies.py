"""Creating studies, managing members, and what each role sees."""

from coding.vocabulary import DEFAULT_STAKEHOLDER_GROUPS, iter_codes
from models import Code, Participant, Role, Study, StudyMember, StudyRole


def test_researcher_creates_study_with_default_codebook(client, make, login, db):
    researcher = make.user(Role.RESEARCHER)
    login(researcher)
    response = client.post("/studies/new", data={"name": "  Duals strategy ",
                                                 "description": "Interviews"})
    study = db.session.scalar(db.select(Study))
    assert response.headers["Location"] == f"/studies/{study.id}"
    assert study.name == "Duals strategy"
    member = db.session.scalar(db.select(StudyMember))
    assert (member.user_id, member.role) == (researcher.id, StudyRole.RESEARCHER)
    codes = db.session.scalars(db.select(Code).where(Code.study_id == study.id)).all()
    assert len(codes) == len(list(iter_codes()))
    by_key = {c.key: c for c in codes}
    assert by_key["integration-mechanisms"].parent.key == "interview-domains"
    assert [g.name for g in study.stakeholder_groups] == [
        name for name, _ in DEFAULT_STAKEHOLDER_GROUPS]
    page = client.get(f"/studies/{study.id}/codebook").get_data(as_text=True)
    assert "Strategies to address equity" in page and "Service area alignment" in page


def test_empty_study_name_is_refused(client, make, login, db):
    login(make.user(Role.RESEARCHER))
    response = client.post("/studies/new", data={"name": ""})
    assert "This field is required" in response.get_data(as_text=True)
    assert db.session.scalar(db.select(db.func.count(Study.id))) == 0


def test_add_member_change_role_and_remove(client, make, login, db):
    owner = make.user(Role.RESEARCHER)
    study = make.study(owner)
    colleague = make.user(Role.RESEARCHER, name="Colleague")
    login(owner)
    response = client.post(f"/studies/{study.id}/members",
                           data={"email": colleague.email.upper(), "role": "coder"})
    assert response.status_code == 302
    member = db.session.scalar(db.select(StudyMember).where(StudyMember.user_id == colleague.id))
    assert member.role is StudyRole.CODER
    client.post(f"/studies/{study.id}/members/{member.id}/role", data={"role": "researcher"})
    db.session.expire_all()
    assert db.session.get(StudyMember, member.id).role is StudyRole.RESEARCHER
    client.post(f"/studies/{study.id}/members/{member.id}/remove")
    assert db.session.get(StudyMember, member.id) is None


def test_member_errors_are_explained(client, make, login, db):
    owner = make.user(Role.RESEARCHER)
    study = make.study(owner)
    coder = make.user(Role.CODER)
    login(owner)
    unknown = client.post(f"/studies/{study.id}/members",
                          data={"email": "nobody@example.org", "role": "coder"})
    assert "No active account uses nobody@example.org" in unknown.get_data(as_text=True)
    promoted = client.post(f"/studies/{study.id}/members",
                           data={"email": coder.email, "role": "researcher"})
    assert "can only be a coder here" in promoted.get_data(as_text=True)
    again = client.post(f"/studies/{study.id}/members",
                        data={"email": owner.email, "role": "coder"})
    assert "already a member" in again.get_data(as_text=True)


def test_last_researcher_cannot_leave_or_be_demoted(client, make, login, db):
    owner = make.user(Role.RESEARCHER)
    study = make.study(owner)
    member = db.session.scalar(db.select(StudyMember))
    login(owner)
    response = client.post(f"/studies/{study.id}/members/{member.id}/remove",
                           follow_redirects=True)
    assert "needs at least one researcher" in response.get_data(as_text=True)
    client.post(f"/studies/{study.id}/members/{member.id}/role", data={"role": "coder"})
    db.session.expire_all()
    assert db.session.get(StudyMember, member.id).role is StudyRole.RESEARCHER


def test_contact_details_hidden_from_coders(client, make, login, db):
    owner = make.user(Role.RESEARCHER)
    study = make.study(owner)
    coder = make.user(Role.CODER)
    make.member(study, coder, StudyRole.CODER)
    db.session.add(Participant(study_id=study.id, name="Dana", email="dana@example.org",
                               phone="555-0142"))
    db.session.commit()
    login(coder)
    page = client.get(f"/studies/{study.id}/participants").get_data(as_text=True)
    assert "Dana" in page and "dana@example.org" not in page and "555-0142" not in page
    client.post("/logout")
    login(owner)
    page = client.get(f"/studies/{study.id}/participants").get_data(as_text=True)
    assert "dana@example.org" in page and "555-0142" in page


def test_coder_cannot_create_study(client, make, login, db):
    login(make.user(Role.CODER))
    assert client.post("/studies/new", data={"name": "Mine"}).status_code == 403
    assert db.session.scalar(db.select(db.func.count(Study.id))) == 0
