"""Self-booking through signed links: consent, Spanish, reschedule, cancel, bad links,
capacity, reminders once, public listening sessions and SMTP delivery."""

import re
from datetime import timedelta
from pathlib import Path

import itsdangerous.timed
import pytest
from icalendar import Calendar
from sqlalchemy import func, select

from engage.scheduling.messages import invitation_link, send_due_reminders
from models import (
    AuditEvent,
    Booking,
    BookingStatus,
    Invitation,
    MessageKind,
    MessageStatus,
    OutboxMessage,
    Participant,
    Role,
    SessionKind,
    StudySession,
    utcnow,
)


@pytest.fixture
def offered(make, db):
    owner = make.user(Role.RESEARCHER, name="Riley Researcher")
    study = make.study(owner)
    people = [make.participant(study, "Dana Whitfield", email="dana@example.org"),
              make.participant(study, "Rosa Díaz", email="rosa@example.org",
                               preferred_language="es")]
    offer = make.offer(study, people, actor=owner, location="Room 104",
                       starts_in=(timedelta(days=3), timedelta(days=4), timedelta(days=5)))
    return {"owner": owner, "study": study, "people": people, "offer": offer}


def path_of(invitation: Invitation) -> str:
    return "/book/" + invitation_link(invitation).split("/book/", 1)[1]


def form_values(html: str) -> dict:
    return {"csrf_token": "", "consent_text_id": re.search(
        r'name="consent_text_id" type="hidden" value="(\d+)"', html).group(1)}


def outbox(instance_path) -> list[str]:
    folder = Path(instance_path) / "outbox"
    return sorted(p.name for p in folder.glob("*.eml")) if folder.exists() else []


def test_invited_participant_books_with_consent_and_gets_a_calendar_file(
        client, offered, db, instance_path):
    dana_invite = offered["offer"].invitations[0]
    path = path_of(dana_invite)
    page = client.get(path)
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and '<html lang="en">' in html
    assert "Hello Dana Whitfield" in html and "Consent text, version 1" in html
    assert page.headers["Cache-Control"] == "no-store"
    assert "<script" not in html
    slot = offered["offer"].sessions[1]
    values = form_values(html)
    # Consent needs the typed name and the box; errors are linked to their fields.
    refused = client.post(path, data={**values, "slot": slot.id, "consent_name": ""})
    text = refused.get_data(as_text=True)
    assert refused.status_code == 400
    assert '<a href="#consent_name">Type your name to give consent.</a>' in text
    assert 'aria-invalid="true"' in text
    refused = client.post(path, data={**values, "slot": slot.id, "consent_name": "Dana W"})
    assert "Check the box to give consent." in refused.get_data(as_text=True)
    assert db.session.scalar(select(Booking)) is None
    done = client.post(path, data={**values, "slot": slot.id, "consent_name": "Dana W",
                                   "consent_given": "y", "accessibility_needs": "Captions"})
    assert done.status_code == 303
    booked = client.get(done.headers["Location"]).get_data(as_text=True)
    assert "You are booked." in booked and "Room 104" in booked
    booking = db.session.scalar(select(Booking))
    assert booking.session_id == slot.id and booking.consent_name == "Dana W"
    assert booking.consent_text.version == 1 and booking.consented_at is not None
    assert booking.participant.accessibility_needs == "Captions"
    assert db.session.get(StudySession, slot.id).booked_count == 1
    ics = client.get(path + "/calendar.ics")
    assert ics.mimetype == "text/calendar"
    event = Calendar.from_ical(ics.data).walk("VEVENT")[0]
    assert str(event["UID"]) == slot.uid and int(event["SEQUENCE"]) == 0
    assert any("confirmation" in name for name in outbox(instance_path))
    confirmation = db.session.scalar(select(OutboxMessage).where(
        OutboxMessage.kind == MessageKind.CONFIRMATION))
    assert confirmation.status is MessageStatus.WRITTEN
    # The link's signature carries the second it was made: compare where it leads.
    link = re.search(r"/book/\S+", confirmation.body).group(0)
    assert link.split(".")[0] == path.split(".")[0]
    assert "Hello Dana Whitfield" in client.get(link).get_data(as_text=True)
    assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "booking.create"))


def test_spanish_participant_reschedules_then_cancels(client, offered, db):
    rosa_invite = offered["offer"].invitations[1]
    first, second = offered["offer"].sessions[:2]
    path = path_of(rosa_invite)
    html = client.get(path).get_data(as_text=True)
    assert '<html lang="es">' in html and "Hola, Rosa Díaz" in html
    assert "Elija un horario" in html and "Escriba su nombre completo" in html
    english = client.get(path + "?lang=en").get_data(as_text=True)
    assert "Choose a time" in english
    client.post(path, data={**form_values(html), "slot": first.id, "consent_name": "Rosa Díaz",
                            "consent_given": "y"})
    moved = client.post(path, data={"slot": second.id})
    assert moved.status_code == 303
    assert "Su reserva fue cambiada." in client.get(moved.headers["Location"]).get_data(
        as_text=True)
    db.session.expire_all()
    assert (db.session.get(StudySession, first.id).booked_count,
            db.session.get(StudySession, second.id).booked_count) == (0, 1)
    bookings = {b.session_id: b for b in db.session.scalars(select(Booking))}
    assert bookings[first.id].status is BookingStatus.CANCELLED
    assert bookings[second.id].consent_name == "Rosa Díaz"  # consent carries over
    messages = db.session.scalars(select(OutboxMessage).where(
        OutboxMessage.participant_id == rosa_invite.participant_id)
        .order_by(OutboxMessage.id)).all()
    assert [m.kind for m in messages] == [MessageKind.INVITATION, MessageKind.CONFIRMATION,
                                          MessageKind.CANCELLATION, MessageKind.CHANGE]
    assert all(m.language == "es" for m in messages)
    assert messages[1].subject.startswith("Confirmado:")
    old = Calendar.from_ical(messages[2].ics)
    assert str(old["METHOD"]) == "CANCEL"
    assert str(old.walk("VEVENT")[0]["UID"]) == first.uid
    assert int(old.walk("VEVENT")[0]["SEQUENCE"]) == 1
    new = Calendar.from_ical(messages[3].ics)
    assert str(new["METHOD"]) == "REQUEST" and str(new.walk("VEVENT")[0]["UID"]) == second.uid
    cancelled = client.post(path + "/cancel")
    assert "Su reserva fue cancelada." in client.get(cancelled.headers["Location"]).get_data(
        as_text=True)
    db.session.expire_all()
    assert db.session.get(StudySession, second.id).booked_count == 0
    # Booking the first time again reuses the row with a higher SEQUENCE.
    html = client.get(path).get_data(as_text=True)
    client.post(path, data={**form_values(html), "slot": first.id, "consent_name": "Rosa",
                            "consent_given": "y"})
    again = db.session.scalar(select(Booking).where(Booking.session_id == first.id))
    assert again.status is BookingStatus.BOOKED and again.sequence == 2


def test_tampered_expired_and_withdrawn_links_are_refused(client, offered, db, app,
                                                          monkeypatch):
    invitation = offered["offer"].invitations[0]
    path = path_of(invitation)
    token = path.rsplit("/", 1)[1]
    tampered = path[:-3] + ("AAA" if not path.endswith("AAA") else "BBB")
    response = client.get(tampered)
    assert response.status_code == 404 and "This booking link is not valid." in \
        response.get_data(as_text=True)
    # Another invitation's id with this one's signature fails too.
    assert client.get("/book/" + token.replace("WzE", "WzI", 1)).status_code == 404
    assert client.post(tampered + "/cancel").status_code == 404
    # A link signed long ago: past INVITATION_MAX_DAYS.
    real_time = itsdangerous.timed.time.time
    monkeypatch.setattr(itsdangerous.timed.time, "time", lambda: real_time() - 200 * 86400)
    old_path = path_of(invitation)
    monkeypatch.setattr(itsdangerous.timed.time, "time", real_time)
    expired = client.get(old_path)
    assert expired.status_code == 410 and "This booking link has expired." in \
        expired.get_data(as_text=True)
    # The invitation's own expiry.
    invitation.expires_at = utcnow() - timedelta(minutes=1)
    db.session.commit()
    assert client.get(path).status_code == 410
    invitation.expires_at = utcnow() + timedelta(days=1)
    db.session.commit()
    assert client.get(path).status_code == 200
    # Withdrawn by the researcher; a renewed link works and the old one does not.
    from engage.scheduling.offers import renew_invitation, revoke_invitation

    revoke_invitation(offered["owner"], invitation)
    db.session.commit()
    withdrawn = client.get(path)
    assert withdrawn.status_code == 404 and "replaced or withdrawn" in withdrawn.get_data(
        as_text=True)
    renew_invitation(offered["owner"], invitation)
    db.session.commit()
    assert client.get(path).status_code == 404
    assert client.get(path_of(invitation)).status_code == 200


def test_slot_outside_the_offer_too_soon_or_full_is_refused(client, offered, make, db):
    study, owner = offered["study"], offered["owner"]
    dana_invite, rosa_invite = offered["offer"].invitations
    other = make.offer(study, actor=owner, starts_in=(timedelta(days=9),))
    path = path_of(dana_invite)
    values = form_values(client.get(path).get_data(as_text=True))
    consent = {**values, "consent_name": "Dana", "consent_given": "y"}
    outside = client.post(path, data={**consent, "slot": other.sessions[0].id})
    assert outside.status_code == 400
    assert "That time is no longer offered" in outside.get_data(as_text=True)
    assert client.post(path, data={**consent, "slot": "999999"}).status_code == 400
    soon = make.offer(study, [make.participant(study, "Soon")], actor=owner,
                      starts_in=(timedelta(hours=2),), min_notice_hours=24)
    soon_path = path_of(soon.invitations[0])
    html = client.get(soon_path).get_data(as_text=True)
    assert "disabled" in html
    too_soon = client.post(soon_path, data={**form_values(html), "consent_name": "S",
                                            "consent_given": "y",
                                            "slot": soon.sessions[0].id})
    assert "starts too soon" in too_soon.get_data(as_text=True)
    # Dana takes the only seat; Rosa is told it is full and nothing is saved for her.
    slot = offered["offer"].sessions[0]
    client.post(path, data={**consent, "slot": slot.id})
    rosa = path_of(rosa_invite)
    full = client.post(rosa, data={**form_values(client.get(rosa).get_data(as_text=True)),
                                   "consent_name": "Rosa", "consent_given": "y",
                                   "slot": slot.id})
    assert full.status_code == 409
    assert "Esta sesión está completa" in full.get_data(as_text=True)
    assert db.session.scalar(select(Booking).where(
        Booking.participant_id == rosa_invite.participant_id)) is None
    assert db.session.get(StudySession, slot.id).booked_count == 1


def test_database_refuses_more_bookings_than_seats(offered, db):
    from sqlalchemy.exc import IntegrityError

    slot = offered["offer"].sessions[0]
    with pytest.raises(IntegrityError):
        db.session.execute(StudySession.__table__.update().where(
            StudySession.id == slot.id).values(booked_count=2))
        db.session.flush()
    db.session.rollback()


def test_reminder_is_sent_once_across_two_ticks_and_after_a_move(app, offered, db, make,
                                                                 instance_path):
    from engage.jobs.runner import run_job
    from engage.scheduling.bookings import book
    from engage.scheduling.tasks import reminder_tick, send_reminders

    study, owner = offered["study"], offered["owner"]
    person = make.participant(study, "Marcus Bell", email="marcus@example.org")
    offer = make.offer(study, [person], actor=owner,
                       starts_in=(timedelta(hours=20), timedelta(hours=30)))
    book(offer.invitations[0], offer.sessions[0].id, consent_name="Marcus",
         consent_given=True, consent_text_id=offer.consent_text_id)
    db.session.commit()
    for _ in range(2):  # two beat ticks, each running the job it starts
        job = reminder_tick()
        if job is not None:
            run_job(job.id, send_reminders)
    reminders = db.session.scalars(select(OutboxMessage).where(
        OutboxMessage.kind == MessageKind.REMINDER)).all()
    assert len(reminders) == 1 and reminders[0].to_address == "marcus@example.org"
    assert "This is a reminder of your session" in reminders[0].body
    assert Calendar.from_ical(reminders[0].ics).walk("VEVENT")[0]["UID"] == \
        offer.sessions[0].uid
    assert sum("reminder" in name for name in outbox(instance_path)) == 1
    assert send_due_reminders() == 0  # nothing left: a restart would not resend either
    # Moving to the later slot (outside the 24-hour window now) sends a new one when due.
    book(offer.invitations[0], offer.sessions[1].id)
    db.session.commit()
    assert send_due_reminders() == 0
    assert send_due_reminders(now=utcnow() + timedelta(hours=10)) == 1


def test_cli_sends_reminders(app, offered, db, make):
    from engage.scheduling.bookings import book

    offer = make.offer(offered["study"], [make.participant(offered["study"], "Grace")],
                       actor=offered["owner"], starts_in=(timedelta(hours=5),))
    book(offer.invitations[0], offer.sessions[0].id, consent_name="Grace",
         consent_given=True, consent_text_id=offer.consent_text_id)
    db.session.commit()
    runner = app.test_cli_runner()
    result = runner.invoke(args=["engage", "send-reminders"])
    assert result.exit_code == 0 and "Sent 1 reminder(s)." in result.output
    assert "Sent 0 reminder(s)." in runner.invoke(args=["engage", "send-reminders"]).output


class FakeSMTP:
    sent: list = []

    def __init__(self, host, port, timeout=None):
        self.host, self.port = host, port

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def starttls(self, context=None):
        pass

    def login(self, user, password):
        pass

    def send_message(self, message):
        FakeSMTP.sent.append(message)


@pytest.mark.parametrize("app_config", [{"MAIL_SERVER": "smtp.example.org"}], indirect=True)
def test_messages_go_through_smtp_when_configured(app, make, db, monkeypatch):
    import smtplib

    monkeypatch.setattr(smtplib, "SMTP", FakeSMTP)
    FakeSMTP.sent = []
    owner = make.user(Role.RESEARCHER)
    study = make.study(owner)
    make.offer(study, [make.participant(study, "Helen Park", email="helen@example.org")],
               actor=owner)
    (message,) = FakeSMTP.sent
    assert message["To"] == "helen@example.org" and message["Subject"].startswith("Invitation")
    row = db.session.scalar(select(OutboxMessage))
    assert row.status is MessageStatus.SENT and row.sent_at is not None


@pytest.fixture
def public_session(make, db) -> dict:
    owner = make.user(Role.RESEARCHER)
    study = make.study(owner)
    offer = make.offer(study, actor=owner, kind=SessionKind.LISTENING_SESSION, capacity=2,
                       title="Community listening session")
    session = offer.sessions[0]
    session.is_public = True
    db.session.commit()
    return {"owner": owner, "study": study, "session": session}


def test_public_listening_session_registration(client, public_session, db, login):
    owner, study, session = (public_session[k] for k in ("owner", "study", "session"))
    login(owner)
    page = client.get(f"/studies/{study.id}/sessions/{session.id}").get_data(as_text=True)
    url = re.search(r"<code>(http://[^<]+/book/open/[^<]+)</code>", page).group(1)
    client.post("/logout")
    path = url.split("localhost", 1)[1]
    html = client.get(path + "?lang=es").get_data(as_text=True)
    assert "Inscribirse en: Community listening session" in html
    consent_id = re.search(r'name="consent_text_id" type="hidden" value="(\d+)"', html).group(1)
    bad = client.post(path, data={"name": "", "email": "nope", "preferred_language": "es",
                                  "consent_text_id": consent_id})
    assert bad.status_code == 400 and "Enter your name." in bad.get_data(as_text=True)
    ok = client.post(path, data={"name": "Ana Cruz", "email": "ana@example.org",
                                 "preferred_language": "es", "group": "",
                                 "consent_text_id": consent_id, "consent_name": "Ana Cruz",
                                 "consent_given": "y"})
    assert ok.status_code == 303
    person = db.session.scalar(select(Participant).where(Participant.name == "Ana Cruz"))
    assert person.preferred_language == "es"
    twice = client.post(path, data={"name": "Ana Cruz", "email": "ANA@example.org",
                                    "preferred_language": "es", "consent_text_id": consent_id,
                                    "consent_name": "Ana", "consent_given": "y"})
    assert "already registered" in twice.get_data(as_text=True)
    assert db.session.get(StudySession, session.id).booked_count == 1
    session.is_public = False
    db.session.commit()
    assert client.get(path).status_code == 404


def test_public_registration_with_the_honeypot_filled_is_refused_silently(
        client, public_session, db):
    from engage.scheduling.bookings import public_link

    session = public_session["session"]
    path = "/book/" + public_link(session).split("/book/", 1)[1]
    html = client.get(path).get_data(as_text=True)
    # The comment form's honeypot: off screen, out of the tab order, "leave empty".
    trap = re.search(r'<div class="hp" aria-hidden="true">\s*<label for="website">'
                     r'Leave this field empty</label> <input[^>]*>', html)
    assert trap and 'tabindex="-1"' in trap.group(0)
    consent_id = re.search(r'name="consent_text_id" type="hidden" value="(\d+)"', html).group(1)
    form = {"name": "Bot Person", "email": "bot@example.org", "preferred_language": "en",
            "group": "", "consent_text_id": consent_id, "consent_name": "Bot Person",
            "consent_given": "y", "website": "http://spam.example"}
    messages_before = db.session.scalar(select(func.count(OutboxMessage.id)))
    bot = client.post(path, data=form)
    # Answered as a registration is (a redirect to "You are booked"), with nothing kept.
    assert bot.status_code == 303 and "done=registered" in bot.headers["Location"]
    assert db.session.scalar(select(Participant).where(Participant.name == "Bot Person")) is None
    assert db.session.scalar(select(Booking).where(Booking.session_id == session.id)) is None
    assert db.session.get(StudySession, session.id).booked_count == 0
    assert db.session.scalar(select(func.count(OutboxMessage.id))) == messages_before
    # The same form with the honeypot left empty registers.
    person = client.post(path, data={**form, "website": ""})
    assert person.status_code == 303
    assert db.session.get(StudySession, session.id).booked_count == 1


def test_every_participant_facing_text_has_a_spanish_translation():
    from engage import i18n
    from engage.scheduling import messages

    root = Path(__file__).resolve().parents[2]
    used = set()
    for template in (root / "templates" / "booking").glob("*.html"):
        used |= set(re.findall(r'_\("([^"]+)"', template.read_text()))
    sources = [*(root / "engage" / "scheduling").glob("*.py"), root / "engage/booking/routes.py"]
    for source in sources:
        used |= set(re.findall(r'translate\(\s*[\w.]+,\s*"([^"]+)"', source.read_text()))
    used |= {text for text in (*messages.SUBJECTS.values(), *messages.LEADS.values())}
    missing = sorted(text for text in used if text not in i18n.ES)
    assert len(used) > 40 and missing == []


def test_a_second_submit_of_the_same_booking_takes_no_second_seat(offered, db):
    from engage.scheduling.seats import seat_participant

    slot = offered["offer"].sessions[0]
    slot.capacity = 2
    db.session.commit()
    person = offered["people"][0]
    first, second = seat_participant(slot, person), seat_participant(slot, person)
    db.session.commit()
    assert first is second
    assert db.session.get(StudySession, slot.id).booked_count == 1
