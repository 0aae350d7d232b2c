"""CSV import (preview, mapping, duplicates) and campaign grouping, as jobs.

The end-to-end tests run the jobs in a real Celery worker process; the others
run the same job functions in-process to check their results quickly.
"""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from sqlalchemy import func, select

from engage.consultations.grouping import run_grouping
from engage.consultations.importing import run_import
from engage.jobs.runner import run_job
from models import Campaign, Comment, Job, JobStatus, Role
from tests.worker import wait_for

DEMO_CSV = Path(__file__).resolve().parents[2] / "engage/demo_data/usda-2017-0002-comments.csv"
SNAP_CLOSING = (
    "Re: Supplemental Nutrition Assistance Program: Requirements and Services for "
    "Able-Bodied Adults without Dependents (previously under Docket ID FNS-2018-0004-0001)"
)


@pytest.fixture
def setup(make, login):
    owner = make.user(Role.RESEARCHER)
    study = make.study(owner)
    consultation = make.consultation(study, slug=None)
    login(owner)
    return study, consultation


def base(study, consultation) -> str:
    return f"/studies/{study.id}/consultations/{consultation.id}"


def upload(client, study, consultation, data: bytes, name="export.csv"):
    return client.post(f"{base(study, consultation)}/import",
                       data={"file": (io.BytesIO(data), name)},
                       content_type="multipart/form-data")


def start(client, study, consultation, page: str, **mapping):
    import re

    token = re.search(r'name="token" type="hidden" value="([^"]+)"', page).group(1)
    fields = {"token": token, "text": "Text Comment", "external_id": "Document ID", **mapping}
    return client.post(f"{base(study, consultation)}/import/start", data=fields)


def comments(db) -> int:
    return db.session.scalar(select(func.count(Comment.id)))


def test_preview_shows_columns_and_guessed_mapping(client, db, setup):
    study, consultation = setup
    response = upload(client, study, consultation, DEMO_CSV.read_bytes())
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "199 rows and 2 columns" in page and "USDA-2017-0002-2889" in page
    assert '<option selected value="Text Comment">' in page
    assert '<option selected value="Document ID">' in page
    assert comments(db) == 0  # nothing imported before confirming


def test_bad_files_are_explained(client, db, setup):
    study, consultation = setup
    page = upload(client, study, consultation, b"id,name\n1,x\n").get_data(as_text=True)
    assert "No column looks like comment text" in page  # the researcher chooses it
    bad = upload(client, study, consultation, b"Comment\n\xff\xfe\n")
    assert bad.status_code == 400 and "not UTF-8" in bad.get_data(as_text=True)
    forged = client.post(f"{base(study, consultation)}/import/start",
                         data={"token": "forged", "text": "Comment"}, follow_redirects=True)
    assert "The preview has expired" in forged.get_data(as_text=True)


def test_preview_token_is_tied_to_its_consultation(client, db, make, setup):
    study, consultation = setup
    other = make.consultation(study, slug=None)
    page = upload(client, study, consultation, DEMO_CSV.read_bytes()).get_data(as_text=True)
    response = start(client, study, other, page)
    assert response.status_code == 302 and "/import" in response.headers["Location"]
    assert db.session.scalar(select(Job)) is None


def test_import_job_imports_and_skips_duplicates(client, db, setup):
    study, consultation = setup
    page = upload(client, study, consultation, DEMO_CSV.read_bytes()).get_data(as_text=True)
    response = start(client, study, consultation, page, consent_to_publish="y")
    job = db.session.scalar(select(Job))
    assert response.headers["Location"].endswith(f"/jobs/{job.id}")
    assert job.kind == "comments-import" and job.target_id == consultation.id
    job = run_job(job.id, run_import)
    assert job.status is JobStatus.SUCCEEDED, job.error
    assert job.message.startswith("Imported 199 comments from export.csv; 0 duplicates")
    assert comments(db) == 199
    assert db.session.scalar(select(Comment).where(Comment.external_id == "USDA-2017-0002-2889")
                             ).consent_to_publish
    # The same file again: everything is a duplicate.
    page = upload(client, study, consultation, DEMO_CSV.read_bytes()).get_data(as_text=True)
    start(client, study, consultation, page)
    job = run_job(db.session.scalar(select(Job.id).order_by(Job.id.desc())), run_import)
    assert "Imported 0 comments" in job.message and "199 duplicates" in job.message
    assert comments(db) == 199


def test_rows_without_ids_deduplicate_by_text_and_name(client, db, make, setup):
    study, consultation = setup
    make.comment(consultation, "Keep PACE open.", author_name="Ana Ruiz")
    data = (b"Comment,Name\n"
            b"Keep PACE   open!,ana ruiz\n"  # the stored one, written differently: duplicate
            b"Keep PACE open.,Ana Ruiz\n"  # a second copy in the file: kept
            b"Keep PACE open.,Bo Chen\n"
            b",Empty\n")
    page = upload(client, study, consultation, data).get_data(as_text=True)
    start(client, study, consultation, page, text="Comment", external_id="", author_name="Name")
    job = run_job(db.session.scalar(select(Job.id)), run_import)
    assert "Imported 2 comments" in job.message and "1 duplicates" in job.message
    assert "Row 5: The comment text is empty." in job.message
    names = sorted(db.session.scalars(select(Comment.author_name)))
    assert names == ["Ana Ruiz", "Ana Ruiz", "Bo Chen"]


def _import_demo(db, consultation) -> None:
    from coding.comment_csv import read_comments_csv

    rows, _ = read_comments_csv(DEMO_CSV.read_bytes())
    for row in rows:
        db.session.add(Comment(consultation_id=consultation.id, external_id=row.external_id,
                               body=row.body, source="import"))
    db.session.commit()


def test_grouping_job_finds_the_real_campaigns_and_personal_additions(client, db, setup):
    study, consultation = setup
    _import_demo(db, consultation)
    letter = ("Dear Director,\n\nAs a family caregiver I ask the state to integrate Medicare "
              "and Medicaid for dual eligible people with one plan, one card and one care "
              "coordinator. Keep current doctors in network during a transition of at least "
              "twelve months, cover home and community based services, offer every notice in "
              "Spanish, and publish quality data every quarter so that advocates can follow "
              "it. Beneficiaries and care partners should sit on each plan's advisory "
              "committee.\n\nThank you for listening.")
    personal = "My father waited nine weeks for a wheelchair last year."
    for i, body in enumerate([letter, letter, letter + " " + personal, letter.upper()]):
        db.session.add(Comment(consultation_id=consultation.id, body=body, source="form",
                               tracking_number=f"ENG-TEST-000{i}"))
    db.session.commit()
    page = client.get(f"{base(study, consultation)}/campaigns/group").get_data(as_text=True)
    assert "(162 comments)" in page  # the docket line is proposed as boilerplate
    client.post(f"{base(study, consultation)}/campaigns/group",
                data={"threshold": "0.8", "boilerplate": SNAP_CLOSING})
    job = run_job(db.session.scalar(select(Job.id)), run_grouping)
    assert job.status is JobStatus.SUCCEEDED, job.error
    assert job.message.startswith("Found 4 campaigns covering 20 of 203 comments")
    sizes = sorted(db.session.scalars(
        select(func.count(Comment.id)).where(Comment.campaign_id.is_not(None))
        .group_by(Comment.campaign_id)), reverse=True)
    assert sizes == [11, 4, 3, 2]  # the docket's three (see tests/coding) and the crafted one
    crafted = db.session.scalar(select(Comment).where(Comment.tracking_number == "ENG-TEST-0002"))
    assert crafted.personal_addition == personal
    campaign = db.session.get(Campaign, crafted.campaign_id)
    assert personal not in campaign.template and campaign.template.startswith("Dear Director,")
    assert campaign.template.endswith("Thank you for listening.")
    page = client.get(f"{base(study, consultation)}/campaigns").get_data(as_text=True)
    assert "4 campaigns, 20 comments in all" in page
    detail = client.get(f"{base(study, consultation)}/campaigns/{campaign.id}").get_data(
        as_text=True)
    assert personal in detail and "(representative)" in detail
    # Grouping again replaces the campaigns rather than adding to them.
    client.post(f"{base(study, consultation)}/campaigns/group",
                data={"threshold": "1.0", "boilerplate": SNAP_CLOSING})
    run_job(db.session.scalar(select(Job.id).order_by(Job.id.desc())), run_grouping)
    assert db.session.scalar(select(func.count(Campaign.id))) == 4
    db.session.expire_all()
    assert db.session.get(Comment, crafted.id).campaign_id is None  # not an exact copy


@pytest.mark.worker
def test_import_then_grouping_through_a_real_worker(client, db, setup, start_worker):
    study, consultation = setup
    start_worker()
    page = upload(client, study, consultation, DEMO_CSV.read_bytes()).get_data(as_text=True)
    start(client, study, consultation, page)
    job_id = db.session.scalar(select(Job.id))
    job, seen = wait_for(db, job_id, lambda j: j.status.finished, timeout=90)
    assert job.status is JobStatus.SUCCEEDED, job.error
    assert comments(db) == 199 and job.progress == 100
    status = client.get(f"/jobs/{job_id}.json").get_json()
    assert status["message"].startswith("Imported 199 comments")
    client.post(f"{base(study, consultation)}/campaigns/group",
                data={"threshold": "0.8", "boilerplate": SNAP_CLOSING})
    job_id = db.session.scalar(select(Job.id).order_by(Job.id.desc()))
    job, _ = wait_for(db, job_id, lambda j: j.status.finished, timeout=90)
    assert job.status is JobStatus.SUCCEEDED, job.error
    page = client.get(f"{base(study, consultation)}/campaigns").get_data(as_text=True)
    assert "3 campaigns, 16 comments in all" in page
