"""Who may do what: role × route × study membership, and the URL map walk.

The world (app, database, studies, people) is built once for this module, and each
person signs in once; every case then gets a fresh test client carrying that person's
session cookie, and the database is put back to the built world before every case, so
that a case which changes something (an owner removing a member) cannot leak into another.
No app context stays pushed between requests: each request gets its own ``g``, so
Flask-Login cannot carry one case's user into the next.
"""

import sqlite3
from contextlib import closing

import pytest

from engage import create_app
from models import Job, Role, StudyMember, StudyRole
from models import db as _db
from tests.conftest import make_test_config
from tests.factories import Factory

# Routes open to anyone. Everything else must need a signed-in user.
PUBLIC_ENDPOINTS = {"static", "auth.login", "public.consultation", "public.comment",
                    "public.receipt", "public.published", "booking.invitation", "booking.cancel",
                    "booking.calendar", "booking.register", "booking.feed"}


def _copy_database(source, target) -> None:
    """Copy one SQLite database onto another with SQLite's backup API (safe in WAL mode)."""
    with closing(sqlite3.connect(source)) as src, closing(sqlite3.connect(target)) as dst:
        src.backup(dst)


class World:
    """Two studies; people with every relation to the first one; built once per module."""

    def __init__(self, app, database, snapshot, ids, names, cookies):
        self.app = app
        self.ids = ids
        self.names = names
        self._database = database
        self._snapshot = snapshot
        self._cookies = cookies

    def __getitem__(self, key):
        return self.ids[key]

    def restore(self) -> None:
        """Put the database back to the world as built (after the sign-ins)."""
        with self.app.app_context():
            _db.session.remove()
            _db.engine.dispose()
        _copy_database(self._snapshot, self._database)

    def client(self, who: str | None = None):
        """A fresh test client, anonymous or signed in as ``who``."""
        client = self.app.test_client()
        if who is not None:
            client.set_cookie(self.app.config["SESSION_COOKIE_NAME"], self._cookies[who])
        return client


def _build_world(make: Factory) -> tuple[dict, dict]:
    owner = make.user(Role.RESEARCHER, name="Owner")
    study = make.study(owner)
    other = make.study(make.user(Role.RESEARCHER))
    coder = make.user(Role.CODER)
    make.member(study, coder, StudyRole.CODER)
    helper = make.user(Role.RESEARCHER)  # a researcher account, but a coder in this study
    make.member(study, helper, StudyRole.CODER)
    member_row = make.member(study, make.user(Role.CODER), StudyRole.CODER)
    consultation = make.consultation(study)
    users = {
        "admin": make.user(Role.ADMIN), "owner": owner, "coder": coder,
        "study-coder-researcher": helper,
        "outside-researcher": make.user(Role.RESEARCHER),
        "outside-coder": make.user(Role.CODER),
    }
    ids = {
        "consultation": consultation.id, "comment": make.comment(consultation).id,
        "other_consultation": make.consultation(other).id,
        "study": study.id, "other": other.id,
        "job": make.job(study, status="failed").id,
        "system_job": make.job(None, status="failed").id,
        "member": member_row.id,
        "users": {who: user.id for who, user in users.items()},
    }
    names = {"study": study.name, "other": other.name,
             "emails": {who: user.email for who, user in users.items()}}
    return ids, names


@pytest.fixture(scope="module")
def built_world(tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp("authorization")
    with pytest.MonkeyPatch.context() as monkeypatch:
        monkeypatch.setenv("ENGAGE_INSTANCE_PATH", str(tmp_path / "instance"))
        app = create_app(make_test_config(tmp_path))
    database = tmp_path / "engage.sqlite"
    assert app.config["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{database}"
    with app.app_context():
        _db.create_all()
        ids, names = _build_world(Factory(_db))
        _db.session.remove()
    cookies = {}
    for who, email in names["emails"].items():  # each person signs in once
        client = app.test_client()
        response = client.post("/login", data={"email": email, "password": Factory.PASSWORD})
        assert response.status_code == 302, response.get_data(as_text=True)
        cookies[who] = client.get_cookie(app.config["SESSION_COOKIE_NAME"]).value
    snapshot = tmp_path / "world.sqlite"
    with app.app_context():
        _db.session.remove()
        _db.engine.dispose()
    _copy_database(database, snapshot)
    yield World(app, database, snapshot, ids, names, cookies)
    with app.app_context():
        _db.session.remove()
        _db.engine.dispose()


@pytest.fixture
def world(built_world):
    """The module's world, as built: whatever an earlier case changed is undone first."""
    built_world.restore()
    return built_world


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
    ("GET", "/studies/{s}/sessions/999999/bookings",
     dict(owner=404, coder=403, study_coder_researcher=403, outside_researcher=404)),
    ("POST", "/studies/{s}/sessions/999999/bookings/999999/consent",
     dict(owner=404, coder=403, study_coder_researcher=403, outside_researcher=404)),
    ("GET", "/studies/{s}/participants/999999/withdraw",
     dict(owner=404, coder=403, study_coder_researcher=403, outside_researcher=404)),
    ("POST", "/studies/{s}/participants/999999/withdraw",
     dict(owner=404, coder=403, outside_researcher=404)),
    ("GET", "/studies/{s}/topics/runs/999999/delete",
     dict(owner=404, coder=403, study_coder_researcher=403, outside_researcher=404)),
    ("POST", "/studies/{s}/topics/runs/999999/delete", dict(coder=403, outside_researcher=404)),
]
CASES = [(method, url, who.replace("_", "-"), status)
         for method, url, expected in MATRIX for who, status in expected.items()]


@pytest.mark.parametrize(("method", "url", "who", "expected"), CASES,
                         ids=[f"{m} {u} as {w}" for m, u, w, _ in CASES])
def test_role_route_membership_matrix(world, method, url, who, expected):
    client = world.client(who)
    path = url.format(s=world["study"], o=world["other"], j=world["job"],
                      sj=world["system_job"], m=world["member"],
                      c=world["consultation"], oc=world["other_consultation"],
                      cm=world["comment"])
    response = client.open(path, method=method)
    assert response.status_code == expected, response.get_data(as_text=True)[:300]


def test_removing_member_of_other_study_changes_nothing(world):
    client = world.client("admin")
    client.post(f"/studies/{world['other']}/members/{world['member']}/remove")
    with world.app.app_context():
        assert _db.session.get(StudyMember, world["member"]) is not None


def test_coder_lists_only_their_studies(world):
    page = world.client("coder").get("/").get_data(as_text=True)
    assert world.names["study"] in page
    assert world.names["other"] not in page


def test_every_route_needs_sign_in_except_the_public_ones(world):
    client = world.client()
    ids = {"study_id": world["study"], "member_id": world["member"],
           "job_id": world["job"], "user_id": world["users"]["owner"], "filename": "x",
           "consultation_id": world["consultation"], "comment_id": world["comment"],
           "campaign_id": 1}
    checked = 0
    for rule in world.app.url_map.iter_rules():
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


def test_researcher_can_retry_failed_job_coder_cannot(world):
    job_id = world["job"]
    assert world.client("coder").post(f"/jobs/{job_id}/retry").status_code == 403
    with world.app.app_context():
        assert _db.session.get(Job, job_id).status.value == "failed"
