"""Who may do what: role × route × study membership, and the URL map walk."""

import pytest

from models import Job, Role, StudyMember, StudyRole

# Routes open to anyone. Everything else must need a signed-in user.
PUBLIC_ENDPOINTS = {"static", "auth.login", "public.consultation", "public.comment",
                    "public.receipt", "public.published", "booking.invitation", "booking.cancel",
                    "booking.calendar", "booking.register", "booking.feed"}


@pytest.fixture
def world(make):
    """Two studies; people with every relation to the first one."""
    owner = make.user(Role.RESEARCHER, name="Owner")
    study = make.study(owner)
    other = make.study(make.user(Role.RESEARCHER))
    coder = make.user(Role.CODER)
    make.member(study, coder, StudyRole.CODER)
    helper = make.user(Role.RESEARCHER)  # a researcher account, but a coder in this study
    make.member(study, helper, StudyRole.CODER)
    member_row = make.member(study, make.user(Role.CODER), StudyRole.CODER)
    consultation = make.consultation(study)
    return {
        "consultation": consultation, "comment": make.comment(consultation),
        "other_consultation": make.consultation(other),
        "study": study, "other": other,
        "job": make.job(study, status="failed"), "system_job": make.job(None, status="failed"),
        "member": member_row,
        "users": {
            "admin": make.user(Role.ADMIN), "owner": owner, "coder": coder,
            "study-coder-researcher": helper,
            "outside-researcher": make.user(Role.RESEARCHER),
            "outside-coder": make.user(Role.CODER),
        },
    }


# (method, url template, {who: expected status}); anonymous always goes to sign in.
MATRIX = [
    ("GET", "/studies/{s}", dict(admin=200, owner=200, coder=200, outside_researcher=404,
                                 outside_coder=404, study_coder_researcher=200)),
    ("GET", "/studies/{s}/codebook", dict(owner=200, coder=200, outside_coder=404)),
    ("GET", "/studies/{s}/participants", dict(owner=200, coder=200, outside_researcher=404)),
    ("GET", "/studies/{s}/comments", dict(owner=200, coder=200, outside_coder=404)),
    ("GET", "/studies/{s}/members", dict(owner=200, coder=200, outside_coder=404)),
    ("GET", "/studies/{s}/edit", dict(admin=200, owner=200, coder=403,
                                      study_coder_researcher=403, outside_researcher=404)),
    ("POST", "/studies/{s}/members", dict(coder=403, outside_researcher=404)),
    ("POST", "/studies/{s}/members/{m}/remove", dict(owner=302, coder=403,
                                                     outside_researcher=404)),
    ("POST", "/studies/{o}/members/{m}/remove", dict(admin=404)),  # member of another study
    ("GET", "/studies/new", dict(admin=200, owner=200, coder=403, outside_researcher=200)),
    ("GET", "/admin/users", dict(admin=200, owner=403, coder=403)),
    ("GET", "/admin/system", dict(admin=200, owner=403)),
    ("GET", "/jobs/{j}", dict(admin=200, owner=200, coder=200, outside_researcher=404)),
    ("GET", "/jobs/{j}.json", dict(owner=200, coder=200, outside_coder=404)),
    ("POST", "/jobs/{j}/cancel", dict(coder=403, outside_researcher=404)),
    ("GET", "/jobs/{sj}", dict(admin=200, owner=404, coder=404)),
    ("GET", "/studies/999999", dict(admin=404, owner=404)),
    # Consultations: coders read (without personal data), researchers moderate.
    ("GET", "/studies/{s}/consultations", dict(owner=200, coder=200, outside_researcher=404)),
    ("GET", "/studies/{s}/consultations/new", dict(owner=200, coder=403,
                                                   study_coder_researcher=403,
                                                   outside_researcher=404)),
    ("GET", "/studies/{s}/consultations/{c}", dict(admin=200, owner=200, coder=200,
                                                   outside_coder=404)),
    ("GET", "/studies/{s}/consultations/{oc}", dict(admin=404, owner=404)),  # other study's
    ("GET", "/studies/{s}/consultations/{c}/edit", dict(owner=200, coder=403)),
    ("GET", "/studies/{s}/consultations/{c}/comments", dict(owner=200, coder=200,
                                                            outside_researcher=404)),
    ("GET", "/studies/{s}/consultations/{c}/comments/{cm}", dict(owner=200, coder=200,
                                                                 outside_coder=404)),
    ("POST", "/studies/{s}/consultations/{c}/comments/{cm}/moderate",
     dict(owner=302, coder=403, study_coder_researcher=403, outside_researcher=404)),
    ("POST", "/studies/{s}/consultations/{c}/comments/bulk", dict(coder=403,
                                                                  outside_researcher=404)),
    ("POST", "/studies/{s}/consultations/{c}/comments/{cm}/redactions", dict(coder=403)),
    ("POST", "/studies/{s}/consultations/{c}/comments/{cm}/public-text", dict(coder=403)),
    ("GET", "/studies/{s}/consultations/{c}/comments/{cm}/attachment", dict(coder=403,
                                                                            owner=404)),
    ("GET", "/studies/{s}/consultations/{c}/campaigns", dict(owner=200, coder=200,
                                                             outside_coder=404)),
    ("GET", "/studies/{s}/consultations/{c}/campaigns/group", dict(owner=200, coder=403)),
    ("GET", "/studies/{s}/consultations/{c}/import", dict(owner=200, coder=403,
                                                          outside_researcher=404)),
    ("POST", "/studies/{s}/consultations/{c}/import/start", dict(coder=403)),
    ("GET", "/studies/{o}/coding/comments/{cm}", dict(admin=404)),
    ("GET", "/studies/{o}/exports/qdpx", dict(owner=404)),
    ("GET", "/studies/{s}/codebook/new", dict(coder=403, outside_researcher=404, owner=200)),
    ("GET", "/studies/{s}/coding/comments/{cm}", dict(coder=200, outside_coder=404)),
    ("GET", "/studies/{s}/coding/units/comment:{cm}/code", dict(outside_coder=404)),
    ("GET", "/studies/{s}/exports", dict(coder=403, outside_researcher=404, owner=200,
                                         study_coder_researcher=403)),
    ("GET", "/studies/{s}/exports/docx", dict(admin=200, coder=403, outside_researcher=404,
                                              owner=200)),
    ("GET", "/studies/{s}/queries", dict(coder=200, outside_researcher=404)),
    ("GET", "/studies/{s}/review", dict(coder=200, outside_coder=404)),
    ("GET", "/studies/{s}/themes", dict(coder=200, outside_coder=404, owner=200)),
    ("GET", "/studies/{s}/themes/999999", dict(coder=404, owner=404)),
    ("GET", "/studies/{s}/topics", dict(coder=200, outside_coder=404, owner=200)),
    ("GET", "/studies/{s}/topics/compare", dict(coder=200, outside_researcher=404)),
    ("GET", "/studies/{s}/topics/runs/999999", dict(outside_coder=404, owner=404)),
    ("GET", "/topics/assets/plotly.min.js", dict(coder=200, outside_coder=200)),
    ("POST", "/studies/{s}/codebook/default-patterns", dict(study_coder_researcher=403)),
    ("POST", "/studies/{s}/coding/codings", dict(outside_researcher=404)),
    ("POST", "/studies/{s}/coding/learn", dict(coder=403)),
    ("POST", "/studies/{s}/coding/tag", dict(coder=403, outside_researcher=404)),
    ("POST", "/studies/{s}/exports/import", dict(coder=403, outside_researcher=404)),
    ("POST", "/studies/{s}/themes", dict(coder=403, outside_researcher=404)),
    ("POST", "/studies/{s}/topics", dict(coder=403, outside_researcher=404,
                                         study_coder_researcher=403)),
    # Participants and scheduling: coders read without contact details, researchers act.
    ("GET", "/studies/{s}/participants/new", dict(owner=200, coder=403,
                                                  outside_researcher=404)),
    ("GET", "/studies/{s}/participants/export.csv", dict(coder=403)),
    ("POST", "/studies/{s}/groups", dict(coder=403)),
    ("GET", "/studies/{s}/sessions", dict(coder=200, outside_researcher=404)),
    ("GET", "/studies/{s}/sessions/new", dict(study_coder_researcher=403)),
    ("GET", "/studies/{s}/offers/new", dict(owner=200, coder=403)),
    ("POST", "/studies/{s}/consent", dict(coder=403)),
    ("GET", "/studies/{s}/outbox", dict(owner=200, coder=403)),
    ("GET", "/studies/{s}/engagement", dict(coder=200)),
    ("GET", "/studies/{s}/calendar-feed", dict(coder=403, outside_researcher=404)),
]
CASES = [(method, url, who.replace("_", "-"), status)
         for method, url, expected in MATRIX for who, status in expected.items()]


@pytest.mark.parametrize(("method", "url", "who", "expected"), CASES,
                         ids=[f"{m} {u} as {w}" for m, u, w, _ in CASES])
def test_role_route_membership_matrix(client, login, world, method, url, who, expected):
    login(world["users"][who])
    path = url.format(s=world["study"].id, o=world["other"].id, j=world["job"].id,
                      sj=world["system_job"].id, m=world["member"].id,
                      c=world["consultation"].id, oc=world["other_consultation"].id,
                      cm=world["comment"].id)
    response = client.open(path, method=method)
    assert response.status_code == expected, response.get_data(as_text=True)[:300]


def test_removing_member_of_other_study_changes_nothing(client, login, world, db):
    login(world["users"]["admin"])
    client.post(f"/studies/{world['other'].id}/members/{world['member'].id}/remove")
    assert db.session.get(StudyMember, world["member"].id) is not None


def test_coder_lists_only_their_studies(client, login, world, make):
    login(world["users"]["coder"])
    page = client.get("/").get_data(as_text=True)
    assert world["study"].name in page
    assert world["other"].name not in page


def test_every_route_needs_sign_in_except_the_public_ones(app, client, world):
    ids = {"study_id": world["study"].id, "member_id": world["member"].id,
           "job_id": world["job"].id, "user_id": world["users"]["owner"].id, "filename": "x",
           "consultation_id": world["consultation"].id, "comment_id": world["comment"].id,
           "campaign_id": 1}
    checked = 0
    for rule in app.url_map.iter_rules():
        if rule.endpoint in PUBLIC_ENDPOINTS:
            continue
        # Ids this walk does not know (a new area's) get 1: anonymous never reaches a lookup.
        path = rule.build({**{arg: 1 for arg in rule.arguments}, **ids})[1]
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            response = client.open(path, method=method)
            assert response.status_code == 302, f"{method} {path} answered {response.status_code}"
            assert response.headers["Location"].startswith("/login"), f"{method} {path}"
            checked += 1
    assert checked >= 15


def test_researcher_can_retry_failed_job_coder_cannot(client, login, world, db):
    job_id = world["job"].id
    login(world["users"]["coder"])
    assert client.post(f"/jobs/{job_id}/retry").status_code == 403
    assert db.session.get(Job, job_id).status.value == "failed"
