"""The public comment form: fields, errors, languages, open/closed, receipt."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from engage.public.operations import TRACKING_ALPHABET, form_token, new_tracking_number
from models import Comment, CommentStatus, IntakeRejection, utcnow

NO_WAIT = {"INTAKE_MIN_FILL_SECONDS": 0}


def started(app, consultation) -> str:
    with app.test_request_context():
        return form_token(consultation)


def post(client, app, consultation, lang="en", **data):
    fields = {"body": "Please keep my doctors in network.", "section": "",
              "started": started(app, consultation), **data}
    return client.post(f"/c/{consultation.slug}/comment?lang={lang}", data=fields)


def count(db, model=Comment) -> int:
    return db.session.scalar(select(func.count(model.id)))


@pytest.mark.parametrize("app_config", [NO_WAIT], indirect=True)
def test_submit_gives_tracking_number_after_commit(app, client, db, make):
    consultation = make.consultation()
    response = post(client, app, consultation, author_name="Ana Ruiz",
                    email="ana@example.org", consent="y", section="Vision")
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/c/{consultation.slug}/receipt?lang=en")
    comment = db.session.scalar(select(Comment))
    assert comment.status is CommentStatus.PENDING and comment.hold_reason is None
    assert comment.section_ref == "Vision" and comment.consent_to_publish
    assert comment.author_name == "Ana Ruiz" and comment.language == "en"
    receipt_response = client.get(response.headers["Location"])
    receipt = receipt_response.get_data(as_text=True)
    assert comment.tracking_number in receipt
    assert receipt_response.headers["Cache-Control"] == "no-store"
    assert re.fullmatch(r"ENG-[0-9A-Z]{4}-[0-9A-Z]{4}", comment.tracking_number)
    # Another visitor (no session) sees no receipt.
    other = app.test_client().get(response.headers["Location"])
    assert other.status_code == 302


def test_tracking_numbers_are_random_and_readable():
    numbers = {new_tracking_number() for _ in range(2000)}
    assert len(numbers) == 2000
    assert all(set(n[4:].replace("-", "")) <= set(TRACKING_ALPHABET) for n in numbers)
    assert not set("ILOU") & set(TRACKING_ALPHABET)


def test_form_fields_have_labels_and_page_has_language(client, make):
    consultation = make.consultation(questions=[
        {"key": "dual_eligible", "kind": "yesno",
         "label": {"en": "Are you dually eligible?", "es": "¿Tiene ambos?"}}])
    page = client.get(f"/c/{consultation.slug}/comment").get_data(as_text=True)
    assert '<html lang="en">' in page
    for field_id in ("body", "section", "author_name", "organization", "email", "attachment",
                     "consent", "website"):
        assert f'for="{field_id}"' in page and f'id="{field_id}"' in page
    assert "<legend>Are you dually eligible? (optional)</legend>" in page
    assert 'class="hp" aria-hidden="true"' in page and 'tabindex="-1"' in page
    assert "<script>" not in page and "http://" not in page.replace("http://localhost", "")
    spanish = client.get(f"/c/{consultation.slug}/comment?lang=es").get_data(as_text=True)
    assert '<html lang="es">' in spanish
    assert "Su comentario" in spanish and "¿Tiene ambos? (opcional)" in spanish
    assert "Enviar comentario" in spanish


def test_browser_language_is_used_without_lang_parameter(client, make):
    consultation = make.consultation()
    page = client.get(f"/c/{consultation.slug}/comment",
                      headers={"Accept-Language": "es-MX,es;q=0.9,en;q=0.5"})
    assert '<html lang="es">' in page.get_data(as_text=True)
    only_en = make.consultation(languages=["en"])
    page = client.get(f"/c/{only_en.slug}/comment?lang=es").get_data(as_text=True)
    assert '<html lang="en">' in page


@pytest.mark.parametrize("app_config", [NO_WAIT], indirect=True)
def test_field_errors_are_summarised_linked_and_translated(app, client, db, make):
    consultation = make.consultation(max_comment_length=50, questions=[
        {"key": "dual_eligible", "kind": "yesno", "label": {"en": "Dual?", "es": "¿Doble?"}}])
    response = post(client, app, consultation, lang="es", body="x" * 51, email="not-an-email",
                    section="No such section", q_dual_eligible="maybe")
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "Hay un problema" in page
    assert '<a href="#body">Su comentario debe tener 50 caracteres o menos; tiene 51.</a>' in page
    assert '<a href="#email">' in page and '<a href="#section">' in page
    assert '<a href="#q_dual_eligible-0">Elija una de las respuestas.</a>' in page
    assert 'aria-describedby="body-hint body-error"' in page and 'aria-invalid="true"' in page
    assert "x" * 51 in page  # what they wrote is kept
    assert count(db) == 0
    assert [r.reason for r in db.session.scalars(select(IntakeRejection))] == ["too_long"]
    empty = post(client, app, consultation, body="   ")
    assert "Enter your comment." in empty.get_data(as_text=True)


@pytest.mark.parametrize("app_config", [NO_WAIT], indirect=True)
def test_not_yet_open_and_closed_accept_nothing(app, client, db, make):
    early = make.consultation(open_=False)
    page = client.get(f"/c/{early.slug}").get_data(as_text=True)
    assert "Comments open on" in page and "Comment on this draft" not in page
    assert client.get(f"/c/{early.slug}/comment").status_code == 302
    refused = post(client, app, early, body="Early words")
    assert refused.status_code == 403
    assert "Early words" in refused.get_data(as_text=True)  # given back, not lost
    now = utcnow()
    closed = make.consultation(opens_at=now - timedelta(days=9), closes_at=now - timedelta(hours=1))
    page = client.get(f"/c/{closed.slug}?lang=es").get_data(as_text=True)
    assert "Este período de comentarios cerró el" in page
    assert post(client, app, closed).status_code == 403
    assert count(db) == 0
    reasons = sorted(r.reason for r in db.session.scalars(select(IntakeRejection)))
    assert reasons == ["closed", "not_open"]


def test_internal_consultation_and_unknown_slug_are_not_found(client, make):
    internal = make.consultation(slug=None)
    assert internal.slug is None
    assert client.get("/c/no-such-thing").status_code == 404
    assert client.get("/c/no-such-thing/comment").status_code == 404


def test_honeypot_and_too_fast_are_held_not_dropped(app, client, db, make):
    consultation = make.consultation()
    # Default minimum fill time (5 s): a form sent at once is held.
    fast = post(client, app, consultation, body="Fast but maybe human")
    assert fast.status_code == 303  # the sender still gets a receipt
    bot = post(client, app, consultation, body="Buy now", website="http://spam.example")
    assert bot.status_code == 303
    forged = post(client, app, consultation, body="No token", started="garbage")
    assert forged.status_code == 303
    held = {c.body: c for c in db.session.scalars(select(Comment))}
    assert all(c.status is CommentStatus.HELD for c in held.values())
    assert "after the form was shown (minimum 5 s)" in held["Fast but maybe human"].hold_reason
    assert held["Buy now"].hold_reason.startswith("Honeypot")
    assert "missing or altered" in held["No token"].hold_reason


def test_form_shown_long_enough_ago_is_pending(app, client, db, make, monkeypatch):
    consultation = make.consultation()
    token = started(app, consultation)
    import engage.public.operations as operations

    real_now = operations.datetime

    class Later(real_now):
        @classmethod
        def now(cls, tz=None):
            return real_now.now(tz) + timedelta(seconds=6)

    monkeypatch.setattr(operations, "datetime", Later)
    post(client, app, consultation, started=token)
    assert db.session.scalar(select(Comment)).status is CommentStatus.PENDING


@pytest.mark.parametrize("app_config", [{"INTAKE_RATE_LIMIT_PER_IP": "3 per minute",
                                         "INTAKE_MIN_FILL_SECONDS": 0}], indirect=True)
def test_rate_limit_per_address_is_counted_and_explained(app, client, db, make):
    consultation = make.consultation()
    statuses = [post(client, app, consultation, lang="es", body=f"Comment {i}").status_code
                for i in range(5)]
    assert statuses == [303, 303, 303, 429, 429]
    assert count(db) == 3
    assert count(db, IntakeRejection) == 2
    page = post(client, app, consultation, lang="es", body="Sigo aquí").get_data(as_text=True)
    assert "Demasiados comentarios en poco tiempo" in page and "Sigo aquí" in page
    assert client.get(f"/c/{consultation.slug}/comment").status_code == 200  # GET is free


@pytest.mark.parametrize("app_config", [{"INTAKE_RATE_LIMIT_PER_CONSULTATION": "2 per minute",
                                         "INTAKE_MIN_FILL_SECONDS": 0}], indirect=True)
def test_rate_limit_per_consultation_spans_addresses(app, db, make):
    busy, quiet = make.consultation(), make.consultation()
    statuses = []
    for i in range(3):
        client = app.test_client()
        response = client.post(f"/c/{busy.slug}/comment", data={
            "body": "Same docket", "started": started(app, busy)},
            environ_base={"REMOTE_ADDR": f"10.0.0.{i}"})
        statuses.append(response.status_code)
    assert statuses == [303, 303, 429]
    other = app.test_client().post(f"/c/{quiet.slug}/comment", data={
        "body": "Other docket", "started": started(app, quiet)})
    assert other.status_code == 303


@pytest.mark.parametrize("app_config", [{"WTF_CSRF_ENABLED": True}], indirect=True)
def test_expired_csrf_token_keeps_the_text(app, client, db, make):
    consultation = make.consultation()
    response = post(client, app, consultation, body="My long considered comment",
                    csrf_token="stale")
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "This form had expired, so nothing was sent." in page
    assert "My long considered comment" in page
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    again = post(client, app, consultation, body="My long considered comment", csrf_token=token)
    assert again.status_code == 303
    assert count(db) == 1
