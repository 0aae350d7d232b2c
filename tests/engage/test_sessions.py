"""Sessions: time zones across DST, bad input, facilitator double-booking, ICS, attendance."""

from datetime import UTC, date, datetime, time, timedelta

import pytest
from icalendar import Calendar
from sqlalchemy import select

from engage.scheduling.timezones import TimeError, parse_local, to_utc
from models import (
    Attendance,
    AuditEvent,
    BookingStatus,
    MessageKind,
    OutboxMessage,
    Recording,
    Role,
    SessionStatus,
    StudyRole,
    StudySession,
)

NEXT_YEAR = datetime.now(UTC).year + 1


def test_new_york_across_the_march_and_november_changes():
    # Before and after the second Sunday of March: EST (-5) then EDT (-4).
    march = date(2027, 3, 14)
    assert to_utc(march - timedelta(days=1), time(10), "America/New_York") == datetime(
        2027, 3, 13, 15, tzinfo=UTC)
    assert to_utc(march, time(10), "America/New_York") == datetime(2027, 3, 14, 14, tzinfo=UTC)
    with pytest.raises(TimeError, match="does not exist in America/New_York"):
        to_utc(march, time(2, 30), "America/New_York")  # the hour the clocks skip
    # First Sunday of November: 1:30 happens twice; the first (EDT) is meant.
    assert to_utc(date(2027, 11, 7), time(1, 30), "America/New_York") == datetime(
        2027, 11, 7, 5, 30, tzinfo=UTC)
    assert to_utc(date(2027, 11, 8), time(10), "America/New_York") == datetime(
        2027, 11, 8, 15, tzinfo=UTC)
    with pytest.raises(TimeError, match="not a time zone"):
        to_utc(march, time(10), "Mars/Olympus_Mons")
    with pytest.raises(TimeError, match="not a time zone"):
        to_utc(march, time(10), "../../etc/passwd")
    with pytest.raises(TimeError, match="not a date and time"):
        parse_local("next tuesday", "UTC")


@pytest.fixture
def team(make):
    owner = make.user(Role.RESEARCHER, name="Riley Researcher")
    study = make.study(owner)
    coder = make.user(Role.CODER, name="Casey Coder")
    make.member(study, coder, StudyRole.CODER)
    return owner, study, coder


def _form(owner, **overrides):
    data = {"kind": "focus_group", "title": "Providers focus group",
            "start_date": f"{NEXT_YEAR}-03-15", "start_time": "10:00", "end_time": "11:30",
            "timezone": "America/New_York", "location": "Room 104", "video_url": "",
            "capacity": 8, "facilitators": [owner.id], "status": "planned", "notes": ""}
    data.update(overrides)
    return data


def test_plan_session_stores_utc_and_shows_both_zones(client, team, login, db):
    owner, study, _ = team
    login(owner)
    domains = [c.id for c in db.session.scalars(select(StudySession.__table__.c.id))]
    assert domains == []
    from models import Code

    guide = db.session.scalars(select(Code).where(Code.study_id == study.id,
                                                  Code.key == "integration-mechanisms")).all()
    response = client.post(f"/studies/{study.id}/sessions/new",
                           data=_form(owner, guide_codes=[guide[0].id]))
    assert response.status_code == 302, response.get_data(as_text=True)
    session = db.session.scalar(select(StudySession))
    # March 15 is after the change: EDT, UTC-4.
    assert session.starts_at == datetime(NEXT_YEAR, 3, 15, 14, tzinfo=UTC)
    assert session.duration_minutes == 90 and session.guide_codes == guide
    page = client.get(f"/studies/{study.id}/sessions/{session.id}?tz=America/Los_Angeles")
    html = page.get_data(as_text=True)
    assert "10:00 EDT (America/New_York)" in html and "07:00 PDT (America/Los_Angeles)" in html
    assert "Integration mechanisms" in html


@pytest.mark.parametrize(("overrides", "message"), [
    ({"start_date": "2020-01-06"}, "The start is in the past"),
    ({"end_time": "09:00"}, "The end must be after the start"),
    ({"timezone": "Eastern"}, "“Eastern” is not a time zone"),
    ({"start_time": "02:30", "end_time": "03:30", "start_date": f"{NEXT_YEAR + 1}-03-14"},
     None),  # checked below: depends on the year's change date
    ({"capacity": 0}, "Number must be between 1 and 1000"),
    ({"kind": "interview", "is_public": "y"}, "Only a listening session can be open"),
])
def test_bad_session_input_is_explained_at_the_field(client, team, login, db, overrides,
                                                     message):
    owner, study, _ = team
    login(owner)
    if message is None:
        # The second Sunday of March in that year.
        year = NEXT_YEAR + 1
        day = next(date(year, 3, d) for d in range(8, 15) if date(year, 3, d).weekday() == 6)
        overrides = {**overrides, "start_date": day.isoformat()}
        message = "does not exist in America/New_York"
    response = client.post(f"/studies/{study.id}/sessions/new", data=_form(owner, **overrides))
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert db.session.scalar(select(StudySession)) is None


def test_facilitator_double_booking_is_refused_naming_the_session(client, team, login, db,
                                                                  make):
    owner, study, _ = team
    login(owner)
    assert client.post(f"/studies/{study.id}/sessions/new",
                       data=_form(owner, title="Health plans roundtable")).status_code == 302
    clash = client.post(f"/studies/{study.id}/sessions/new",
                        data=_form(owner, title="Second", start_time="11:00",
                                   end_time="12:00"))
    html = clash.get_data(as_text=True)
    assert clash.status_code == 400
    assert "Riley Researcher is already facilitating “Health plans roundtable”" in html
    # Another study's session is named only as such.
    other = make.study(owner)
    elsewhere = client.post(f"/studies/{other.id}/sessions/new",
                            data=_form(owner, title="X", start_time="10:30", end_time="11:00"))
    assert "a session in another study" in elsewhere.get_data(as_text=True)
    # Back to back is fine; a cancelled session blocks no one.
    assert client.post(f"/studies/{study.id}/sessions/new",
                       data=_form(owner, title="Next", start_time="11:30",
                                  end_time="12:00")).status_code == 302
    first = db.session.scalar(select(StudySession).where(
        StudySession.title == "Health plans roundtable"))
    client.post(f"/studies/{study.id}/sessions/{first.id}/cancel")
    assert client.post(f"/studies/{study.id}/sessions/new",
                       data=_form(owner, title="Instead")).status_code == 302


def test_offer_buffers_keep_facilitators_free_between_slots(make, team, db):
    from engage.scheduling.operations import SchedulingError

    owner, study, _ = team
    with pytest.raises(SchedulingError, match="Time 2 .* already facilitating"):
        make.offer(study, starts_in=(timedelta(days=3), timedelta(days=3, minutes=70)),
                   facilitator_ids=[owner.id], buffer_minutes=15, actor=owner)
    db.session.rollback()
    offer = make.offer(study, starts_in=(timedelta(days=3), timedelta(days=3, minutes=75)),
                       facilitator_ids=[owner.id], buffer_minutes=15, actor=owner)
    assert len(offer.sessions) == 2


def _ics(message: OutboxMessage) -> Calendar:
    return Calendar.from_ical(message.ics)


def test_ics_keeps_uid_and_increments_sequence_on_change_and_cancel(client, team, login, db,
                                                                    make):
    owner, study, _ = team
    person = make.participant(study, "Dana", email="dana@example.org")
    offer = make.offer(study, [person], actor=owner, starts_in=(timedelta(days=30),),
                       location="Room 1")
    session = offer.sessions[0]
    from engage.scheduling.bookings import book

    book(offer.invitations[0], session.id, consent_name="Dana", consent_given=True,
         consent_text_id=offer.consent_text_id)
    db.session.commit()
    login(owner)
    local = session.local_start
    edit = _form(owner, kind="interview", title=session.title,
                 start_date=(local.date() + timedelta(days=1)).isoformat(),
                 start_time="10:00", end_time="11:00", capacity=1, location="Room 2")
    assert client.post(f"/studies/{study.id}/sessions/{session.id}/edit",
                       data=edit).status_code == 302
    assert client.post(f"/studies/{study.id}/sessions/{session.id}/cancel").status_code == 302
    messages = db.session.scalars(select(OutboxMessage).where(
        OutboxMessage.ics.is_not(None)).order_by(OutboxMessage.id)).all()
    assert [m.kind for m in messages] == [MessageKind.CONFIRMATION, MessageKind.CHANGE,
                                          MessageKind.CANCELLATION]
    calendars = [_ics(m) for m in messages]
    events = [c.walk("VEVENT")[0] for c in calendars]
    assert {str(e["UID"]) for e in events} == {session.uid}
    assert [int(e["SEQUENCE"]) for e in events] == [0, 1, 2]
    assert [str(c["METHOD"]) for c in calendars] == ["REQUEST", "REQUEST", "CANCEL"]
    assert str(events[2]["STATUS"]) == "CANCELLED"
    assert str(events[1]["LOCATION"]) == "Room 2"
    db.session.expire_all()
    moved = db.session.get(StudySession, session.id)
    assert events[1]["DTSTART"].dt == moved.starts_at and events[0]["DTSTART"].dt == local
    assert events[1]["DTSTART"].dt.strftime("%H:%M") == "10:00"
    for calendar, event in zip(calendars, events, strict=True):
        (tz,) = calendar.walk("VTIMEZONE")
        assert str(tz["TZID"]) == "America/New_York"
        assert event["DTSTART"].params["TZID"] == "America/New_York"
        assert "mailto:dana@example.org" in str(event["ATTENDEE"]).lower()
    db.session.expire_all()
    assert db.session.get(StudySession, session.id).status is SessionStatus.CANCELLED
    assert db.session.get(StudySession, session.id).booked_count == 0


def test_study_calendar_feed_is_secret_revocable_and_has_no_contacts(client, team, login, db,
                                                                     make):
    owner, study, coder = team
    person = make.participant(study, "Dana", email="dana@example.org")
    make.offer(study, [person], actor=owner, title="Listening tour")
    login(owner)
    page = client.get(f"/studies/{study.id}/calendar-feed").get_data(as_text=True)
    url = page.split('id="feed-url" readonly value="')[1].split('"')[0]
    path = url.split("localhost", 1)[1]
    client.post("/logout")
    response = client.get(path)  # no sign-in: calendar programs cannot sign in
    assert response.status_code == 200 and response.mimetype == "text/calendar"
    calendar = Calendar.from_ical(response.data)
    (event,) = calendar.walk("VEVENT")
    assert str(event["SUMMARY"]) == "Listening tour"
    assert b"dana@example.org" not in response.data and b"Dana" not in response.data
    assert client.get(path.replace(".ics", "x.ics")).status_code == 404
    login(owner)
    client.post(f"/studies/{study.id}/calendar-feed")
    client.post("/logout")
    assert client.get(path).status_code == 404  # renewed: the old address stops working


def test_attendance_in_bulk_and_recordings_linked(client, team, login, db, make):
    owner, study, _ = team
    people = [make.participant(study, name) for name in ("Ann", "Ben", "Cy")]
    login(owner)
    client.post(f"/studies/{study.id}/sessions/new", data=_form(owner))
    session = db.session.scalar(select(StudySession))
    for person in people:
        assert client.post(f"/studies/{study.id}/sessions/{session.id}/bookings",
                           data={"participant": person.id,
                                 "consent": "at_session"}).status_code == 302
    full = db.session.get(StudySession, session.id)
    assert full.booked_count == 3
    ids = [b.id for b in full.bookings]
    client.post(f"/studies/{study.id}/sessions/{session.id}/attendance",
                data={"bookings": ids[:2], "attendance": "attended"})
    client.post(f"/studies/{study.id}/sessions/{session.id}/attendance",
                data={"bookings": ids[2:], "attendance": "no_show"})
    db.session.expire_all()
    assert [b.attendance for b in db.session.get(StudySession, session.id).bookings] == [
        Attendance.ATTENDED, Attendance.ATTENDED, Attendance.NO_SHOW]
    event = db.session.scalar(select(AuditEvent).where(
        AuditEvent.action == "booking.attendance").order_by(AuditEvent.id))
    assert event.detail["bookings"] == ids[:2]
    client.post(f"/studies/{study.id}/sessions/{session.id}/status", data={"status": "held"})
    recording = Recording(study_id=study.id, title="Focus group audio", stored_name="abc",
                          sha256="0" * 64, size_bytes=1, duration_ms=1000)
    db.session.add(recording)
    db.session.commit()
    client.post(f"/studies/{study.id}/sessions/{session.id}/recordings",
                data={"recording": recording.id})
    page = client.get(f"/studies/{study.id}/sessions/{session.id}").get_data(as_text=True)
    assert "Focus group audio" in page and f"/recordings/{recording.id}" in page
    summary = client.get(f"/studies/{study.id}/engagement").get_data(as_text=True)
    assert "Not heard from yet" in summary
    other = make.study(make.user(Role.RESEARCHER))
    assert client.get(f"/studies/{other.id}/sessions/{session.id}").status_code == 404
    assert client.get(f"/studies/{study.id}/sessions/{session.id}.ics").status_code == 200


def test_engagement_counts_sessions_by_group_and_status(team, make, db):
    from engage.scheduling.bookings import staff_book
    from engage.scheduling.consent import StaffConsent
    from engage.scheduling.sessions import engagement_summary

    owner, study, _ = team
    officials, plans = study.stakeholder_groups[0], study.stakeholder_groups[1]
    dana = make.participant(study, "Dana", stakeholder_group_id=officials.id)
    make.participant(study, "Luis", stakeholder_group_id=plans.id)
    offer = make.offer(study, actor=owner, starts_in=(timedelta(days=2), timedelta(days=3)))
    for session in offer.sessions:
        staff_book(owner, session, dana, StaffConsent.AT_SESSION)
    offer.sessions[0].status = SessionStatus.CONFIRMED
    offer.sessions[0].bookings[0].attendance = Attendance.ATTENDED
    db.session.commit()
    summary = engagement_summary(study)
    rows = {r["name"]: r for r in summary["rows"]}
    assert rows[officials.name]["sessions"][SessionStatus.CONFIRMED] == 1
    assert rows[officials.name]["sessions"][SessionStatus.PLANNED] == 1
    assert rows[officials.name]["attended"] == 1
    assert rows[plans.name]["participants"] == 1 and rows[plans.name]["attended"] == 0
    assert plans.name in summary["unheard_groups"] and officials.name not in summary[
        "unheard_groups"]
    assert [p.name for p in summary["unheard"]] == ["Luis"]
    assert all(b.status is BookingStatus.BOOKED for b in offer.sessions[1].bookings)


def test_week_and_list_views(client, team, login, db, make):
    owner, study, coder = team
    offer = make.offer(study, actor=owner, title="Week view check",
                       starts_in=(timedelta(days=1),))
    session = offer.sessions[0]
    login(coder)
    week = session.starts_at.astimezone(session.zone).date().isoformat()
    page = client.get(f"/studies/{study.id}/sessions?view=week&week={week}&tz=America/New_York")
    assert "Week view check" in page.get_data(as_text=True)
    listing = client.get(f"/studies/{study.id}/sessions").get_data(as_text=True)
    assert "Week view check" in listing and "Offer slots" not in listing
