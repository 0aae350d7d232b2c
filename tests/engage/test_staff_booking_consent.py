"""A researcher books a participant on their behalf: the consent the participant gave
them is recorded (by whom), or left outstanding until the session and recorded then."""

import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from engage.scheduling.bookings import book, staff_book
from engage.scheduling.consent import StaffConsent, add_consent_text
from models import AuditEvent, Booking, Role, StudyRole, StudySession


@pytest.fixture
def world(make, db):
    owner = make.user(Role.RESEARCHER, name="Riley Researcher")
    study = make.study(owner)
    coder = make.user(Role.CODER, name="Casey Coder")
    make.member(study, coder, StudyRole.CODER)
    colleague = make.user(Role.RESEARCHER, name="Morgan Colleague")
    make.member(study, colleague, StudyRole.RESEARCHER)
    dana = make.participant(study, "Dana Whitfield", email="dana@example.org")
    luis = make.participant(study, "Luis Ortega", email="luis@example.org")
    offer = make.offer(study, [luis], actor=owner, capacity=4, title="Phone interviews",
                       starts_in=(timedelta(days=3),))
    return {"owner": owner, "study": study, "coder": coder, "colleague": colleague,
            "dana": dana, "luis": luis, "offer": offer, "session": offer.sessions[0]}


def _book_url(w) -> str:
    return f"/studies/{w['study'].id}/sessions/{w['session'].id}/bookings"


def _consent_url(w, booking) -> str:
    return f"{_book_url(w)}/{booking.id}/consent"


def _session_page(client, w) -> str:
    return client.get(f"/studies/{w['study'].id}/sessions/{w['session'].id}").get_data(
        as_text=True)


def _bookings(db) -> list[Booking]:
    db.session.expire_all()
    return list(db.session.scalars(select(Booking).order_by(Booking.id)))


def test_the_page_shows_the_consent_text_and_prefills_the_name(client, world, login):
    login(world["owner"])
    page = client.get(f"{_book_url(world)}?participant={world['dana'].id}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    text = world["offer"].consent_text
    assert f"Version {text.version}: {text.title}" in html
    assert "Taking part is voluntary." in html
    assert re.search(rf'name="consent_text_id" type="hidden" value="{text.id}"', html)
    assert 'value="Dana Whitfield"' in html  # the name, prefilled
    assert "The participant agreed to this consent text" in html
    assert "Consent to be collected at the session" in html
    # The session page leads there with the participant chosen.
    session_page = _session_page(client, world)
    assert f'action="{_book_url(world)}"' in session_page and 'method="get"' in session_page


def test_staff_booking_without_a_consent_choice_is_refused_and_books_nothing(
        client, world, login, db):
    login(world["owner"])
    text_id = world["offer"].consent_text_id
    refused = client.post(_book_url(world), data={
        "participant": world["dana"].id, "consent_text_id": text_id,
        "consent_name": "Dana Whitfield", "consent_given": "y"})
    html = refused.get_data(as_text=True)
    assert refused.status_code == 400
    assert ('<a href="#consent">Choose whether you record the participant&#39;s consent now '
            "or it is collected at the session.</a>") in html
    assert 'Taking part is voluntary.' in html  # the text is still shown
    # Recording consent now needs the box and the name, like the participant's own.
    refused = client.post(_book_url(world), data={
        "participant": world["dana"].id, "consent": "agreed", "consent_text_id": text_id,
        "consent_name": "Dana Whitfield"})
    assert refused.status_code == 400
    assert ('<a href="#consent_given">Check the box to confirm that the participant '
            "agreed.</a>") in refused.get_data(as_text=True)
    refused = client.post(_book_url(world), data={
        "participant": world["dana"].id, "consent": "agreed", "consent_text_id": text_id,
        "consent_name": "  ", "consent_given": "y"})
    assert refused.status_code == 400
    assert "Type the participant&#39;s name as they gave it." in refused.get_data(as_text=True)
    assert _bookings(db) == []
    assert db.session.get(StudySession, world["session"].id).booked_count == 0


def test_staff_booking_with_agreement_records_text_name_time_and_who(client, world, login,
                                                                     db):
    login(world["owner"])
    text = world["offer"].consent_text
    done = client.post(_book_url(world), data={
        "participant": world["dana"].id, "consent": "agreed", "consent_text_id": text.id,
        "consent_name": " Dana W. ", "consent_given": "y"})
    assert done.status_code == 302
    (booking,) = _bookings(db)
    assert booking.participant_id == world["dana"].id
    assert booking.consent_text_id == text.id and booking.consent_name == "Dana W."
    assert booking.consented_at is not None
    assert booking.booked_by_id == booking.consent_recorded_by_id == world["owner"].id
    assert booking.consent_on_behalf
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "booking.create"))
    assert event.actor_id == world["owner"].id
    assert event.detail["consent"] == "agreed" and event.detail["consent_text"] == text.id
    page = _session_page(client, world)
    assert f"Given, version {text.version}:" in page
    assert "recorded by Riley Researcher (staff)" in page
    history = client.get(f"/studies/{world['study'].id}/participants/{world['dana'].id}")
    assert "recorded by Riley Researcher (staff) (signed “Dana W.”)" in history.get_data(
        as_text=True)


def test_consent_to_the_text_shown_not_a_newer_one(client, world, login, db, make):
    """A session planned by hand takes the study's latest text; a newer one saved while the
    researcher was on the phone is refused, and the page shows the new one."""
    login(world["owner"])
    first = add_consent_text(world["owner"], world["study"], "Consent", "Version two text.")
    db.session.commit()
    planned = StudySession(study_id=world["study"].id, kind=world["session"].kind,
                           title="Hand planned", starts_at=world["session"].starts_at,
                           ends_at=world["session"].ends_at, timezone="America/New_York",
                           capacity=2)
    db.session.add(planned)
    db.session.commit()
    url = f"/studies/{world['study'].id}/sessions/{planned.id}/bookings"
    assert "Version two text." in client.get(url).get_data(as_text=True)
    newer = add_consent_text(world["owner"], world["study"], "Consent", "Version three text.")
    db.session.commit()
    refused = client.post(url, data={
        "participant": world["dana"].id, "consent": "agreed", "consent_text_id": first.id,
        "consent_name": "Dana", "consent_given": "y"})
    html = refused.get_data(as_text=True)
    assert refused.status_code == 400 and "The consent text changed." in html
    assert "Version three text." in html
    assert re.search(rf'name="consent_text_id" type="hidden" value="{newer.id}"', html)
    assert _bookings(db) == []


def test_collect_at_session_books_with_consent_outstanding(client, world, login, db):
    login(world["owner"])
    done = client.post(_book_url(world), data={
        "participant": world["dana"].id, "consent": "at_session",
        "consent_name": "Dana Whitfield"})
    assert done.status_code == 302
    (booking,) = _bookings(db)
    assert booking.consented_at is None and booking.consent_text_id is None
    assert booking.consent_name == "" and booking.booked_by_id == world["owner"].id
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "booking.create"))
    assert event.detail["consent"] == "at_session"
    page = _session_page(client, world)
    assert "Outstanding</span> to be collected at the session" in page
    assert "Record consent given at the session" in page
    assert f'action="{_consent_url(world, booking)}"' in page


def test_consent_recorded_later_is_audited_and_named(client, world, login, db):
    booking = staff_book(world["owner"], world["session"], world["dana"],
                         StaffConsent.AT_SESSION)
    db.session.commit()
    text_id = world["offer"].consent_text_id
    login(world["colleague"])
    refused = client.post(_consent_url(world, booking), data={
        "consent_text_id": text_id, "consent_name": "Dana Whitfield"})
    html = refused.get_data(as_text=True)
    assert refused.status_code == 400
    assert "Check the box to confirm that the participant agreed." in html
    assert "Record the consent of Dana Whitfield" in html and "Taking part is voluntary." in html
    assert _bookings(db)[0].consented_at is None
    done = client.post(_consent_url(world, booking), data={
        "consent_text_id": text_id, "consent_name": "Dana Whitfield", "consent_given": "y"})
    assert done.status_code == 302
    (recorded,) = _bookings(db)
    assert recorded.consent_text_id == text_id and recorded.consent_name == "Dana Whitfield"
    assert recorded.consented_at is not None
    assert recorded.consent_on_behalf and recorded.consent_recorded_by_id == world["colleague"].id
    assert recorded.booked_by_id == world["owner"].id  # who booked stays who booked
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "booking.consent"))
    assert event.actor_id == world["colleague"].id and event.target_id == booking.id
    assert event.detail["consent_text"] == text_id
    page = _session_page(client, world)
    assert "recorded by Morgan Colleague (staff)" in page and "Outstanding" not in page
    again = client.post(_consent_url(world, booking), data={
        "consent_text_id": text_id, "consent_name": "Dana Whitfield", "consent_given": "y"})
    assert again.status_code == 400
    assert "Consent is already recorded for this booking." in again.get_data(as_text=True)


def test_the_session_page_tells_the_participant_s_own_consent_apart(client, world, login, db):
    invitation = world["offer"].invitations[0]
    book(invitation, world["session"].id, consent_name="Luis O.", consent_given=True,
         consent_text_id=world["offer"].consent_text_id)
    db.session.commit()
    login(world["coder"])  # coders see where consent stands, without the forms
    page = _session_page(client, world)
    assert "by the participant through their link" in page
    assert "Record consent" not in page


def test_coders_cannot_book_or_record_consent_and_other_studies_are_404(
        client, world, login, db, make):
    booking = staff_book(world["owner"], world["session"], world["dana"],
                         StaffConsent.AT_SESSION)
    other_study = make.study(make.user(Role.RESEARCHER))
    stranger = make.participant(other_study, "Sam Stranger")
    other_offer = make.offer(other_study, actor=None)
    other_booking = staff_book(db.session.get(type(world["owner"]), other_study.created_by_id),
                               other_offer.sessions[0], stranger, StaffConsent.AT_SESSION)
    db.session.commit()
    agreed = {"consent_text_id": world["offer"].consent_text_id, "consent_name": "Dana",
              "consent_given": "y"}
    login(world["coder"])
    assert client.get(_book_url(world)).status_code == 403
    assert client.post(_book_url(world), data={**agreed, "participant": world["luis"].id,
                                               "consent": "agreed"}).status_code == 403
    assert client.post(_consent_url(world, booking), data=agreed).status_code == 403
    client.post("/logout")
    login(world["owner"])
    study_id = world["study"].id
    # Another study's booking, under this study's session or under its own session.
    assert client.post(_consent_url(world, other_booking), data=agreed).status_code == 404
    assert client.post(f"/studies/{study_id}/sessions/{other_offer.sessions[0].id}/bookings/"
                       f"{other_booking.id}/consent", data=agreed).status_code == 404
    assert client.get(f"/studies/{study_id}/sessions/{other_offer.sessions[0].id}/bookings"
                      ).status_code == 404
    # Another study's participant cannot be booked here.
    refused = client.post(_book_url(world), data={"participant": stranger.id,
                                                  "consent": "at_session"})
    assert refused.status_code == 400
    assert "Choose a participant of this study." in refused.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.scalar(select(func.count(Booking.id))) == 2
    assert db.session.get(Booking, booking.id).consented_at is None
    assert db.session.get(Booking, other_booking.id).consented_at is None
