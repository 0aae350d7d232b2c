"""Attachments through the public form, and the Spanish catalogue's completeness."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from sqlalchemy import func, select

from engage import i18n
from engage.public.operations import AttachmentRefused, form_token
from models import Comment, IntakeRejection
from tests.documents import EXECUTABLE, make_pdf, make_zip_bomb

ROOT = Path(__file__).resolve().parents[2]
SMALL = {"INTAKE_MIN_FILL_SECONDS": 0, "ATTACHMENT_MAX_BYTES": 64 * 1024,
         "INTAKE_MAX_REQUEST_BYTES": 256 * 1024}


def send(client, app, consultation, filename, content, lang="es", **data):
    with app.test_request_context():
        token = form_token(consultation)
    fields = {"body": "Quiero un solo plan para mi madre.", "started": token,
              "attachment": (io.BytesIO(content), filename), **data}
    return client.post(f"/c/{consultation.slug}/comment?lang={lang}", data=fields,
                       content_type="multipart/form-data")


@pytest.mark.parametrize("app_config", [SMALL], indirect=True)
def test_spanish_comment_with_pdf_attachment(app, client, db, make, tmp_path):
    consultation = make.consultation()
    pdf = make_pdf(tmp_path / "carta.pdf", "Necesitamos transporte a las citas.").read_bytes()
    response = send(client, app, consultation, "carta.pdf", pdf, consent="y")
    assert response.status_code == 303
    comment = db.session.scalar(select(Comment))
    assert comment.language == "es" and comment.attachment_name == "carta.pdf"
    assert "Necesitamos transporte" in comment.attachment_text
    stored = Path(app.config["UPLOAD_FOLDER"]) / "comment-attachments"
    assert (stored / comment.attachment_stored_name).read_bytes() == pdf
    receipt = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Gracias. Recibimos su comentario." in receipt and comment.tracking_number in receipt


@pytest.mark.parametrize("app_config", [SMALL], indirect=True)
@pytest.mark.parametrize(("filename", "make_content", "message"), [
    ("carta.pdf", lambda tmp: EXECUTABLE, "No se pueden adjuntar programas."),
    ("carta.docx", lambda tmp: make_zip_bomb(tmp / "b.docx", 20).read_bytes(),
     "No se pudo leer el archivo."),
    ("carta.txt", lambda tmp: b"a" * (64 * 1024 + 1), "El archivo ocupa más de 64 KB."),
    ("foto.jpg", lambda tmp: b"\xff\xd8\xff\xe0", "Adjunte un archivo PDF, Word"),
])
def test_refused_attachments_explain_and_leave_nothing(app, client, db, make, tmp_path,
                                                       filename, make_content, message):
    consultation = make.consultation()
    response = send(client, app, consultation, filename, make_content(tmp_path))
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert message in page and '<a href="#attachment">' in page
    assert "Quiero un solo plan para mi madre." in page  # the text is kept
    assert db.session.scalar(select(Comment)) is None
    assert [r.reason for r in db.session.scalars(select(IntakeRejection))] == ["bad_attachment"]
    stored = Path(app.config["UPLOAD_FOLDER"]) / "comment-attachments"
    assert not stored.exists() or list(stored.iterdir()) == []


@pytest.mark.parametrize("app_config", [SMALL], indirect=True)
def test_request_over_the_size_limit_is_refused_and_counted(app, client, db, make):
    consultation = make.consultation()
    response = send(client, app, consultation, "big.txt", b"a" * (300 * 1024))
    assert response.status_code == 413
    assert "El envío es demasiado grande" in response.get_data(as_text=True)
    assert [r.reason for r in db.session.scalars(select(IntakeRejection))] == ["too_large"]


def _msgids() -> set[str]:
    """Every literal message id the public templates and Python code pass to translation."""
    ids: set[str] = set()
    for path in (ROOT / "templates/public").glob("*.html"):
        ids |= set(re.findall(r'_\(\s*"((?:[^"\\]|\\.)*)"', path.read_text()))
    # Adjacent literals ("a " "b") are one message, as Python reads them.
    literals = r'((?:"(?:[^"\\]|\\.)*"\s*)+)'
    for path in (ROOT / "engage/public").glob("*.py"):
        text = path.read_text()
        for pattern in (r"\bt\(\s*", r"translate\(\s*\w+,\s*", r"\b_refuse\([^,]+,\s*\d+,\s*"):
            for found in re.findall(pattern + literals, text):
                ids.add("".join(re.findall(r'"((?:[^"\\]|\\.)*)"', found)))
    ids |= set(AttachmentRefused.MESSAGES.values())
    return ids


def test_every_public_message_has_a_spanish_translation():
    ids = _msgids()
    assert len(ids) > 60
    missing = sorted(m for m in ids if m not in i18n.ES)
    assert missing == []
    for msgid, text in i18n.ES.items():
        assert re.findall(r"{\w+}", msgid) == re.findall(r"{\w+}", text) or sorted(
            re.findall(r"{\w+}", msgid)) == sorted(re.findall(r"{\w+}", text)), msgid


def test_dates_in_the_consultation_time_zone():
    from datetime import UTC, datetime

    moment = datetime(2027, 3, 5, 22, 0, tzinfo=UTC)
    assert i18n.format_datetime(moment, "America/New_York", "en") == "March 5, 2027, 5:00 PM EST"
    assert i18n.format_datetime(moment, "America/New_York", "es") == \
        "5 de marzo de 2027, 17:00 (EST)"
    assert i18n.format_datetime(moment, "America/Los_Angeles", "es", False) == \
        "5 de marzo de 2027"


@pytest.mark.parametrize("app_config", [{"INTAKE_MIN_FILL_SECONDS": 0,
                                         "MAIL_SERVER": "mail.example.org",
                                         "MAIL_FROM": "comments@example.org",
                                         "PUBLIC_BASE_URL": "https://comments.example.gov"}],
                         indirect=True)
def test_email_receipt_is_a_job_sent_in_the_commenters_language(app, client, db, make,
                                                                 monkeypatch):
    from engage.jobs.runner import run_job
    from engage.public import receipts
    from models import Job, JobStatus

    sent = []

    class FakeSMTP:
        def __init__(self, host, port, timeout):
            assert (host, port) == ("mail.example.org", 25)

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

        def send_message(self, message):
            sent.append(message)

    monkeypatch.setattr(receipts.smtplib, "SMTP", FakeSMTP)
    consultation = make.consultation()
    with app.test_request_context():
        token = form_token(consultation)
    client.post(f"/c/{consultation.slug}/comment?lang=es", data={
        "body": "Hola", "email": "ana@example.org", "started": token})
    comment = db.session.scalar(select(Comment))
    job = db.session.scalar(select(Job))
    assert job.kind == "comment-receipt" and job.target_id == comment.id
    assert "ana@example.org" not in str(job.params)
    job = run_job(job.id, receipts.send_receipt)
    assert job.status is JobStatus.SUCCEEDED
    [message] = sent
    assert message["To"] == "ana@example.org"
    assert message["Subject"] == f"Recibimos su comentario: {comment.tracking_number}"
    assert "https://comments.example.gov/c/" in message.get_content()
    # Without an address, or without a mail server, no job at all.
    client.post(f"/c/{consultation.slug}/comment", data={"body": "No email", "started": token})
    assert db.session.scalar(select(func.count(Job.id))) == 1
