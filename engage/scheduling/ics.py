"""RFC 5545 calendar files for sessions, written with the ``icalendar`` package.

Each session has one stable UID. SEQUENCE grows with every change: the session's
own counter plus, in a participant's copy, the booking's counter (cancelling and
rebooking change only that person's copy). Cancellations are METHOD:CANCEL with
STATUS:CANCELLED. Start and end carry the session's IANA zone with its VTIMEZONE,
so calendar programs show the right local time across daylight-saving changes.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from icalendar import Calendar, Event, vCalAddress, vText

PRODID = "-//Engage//Scheduling//EN"


@dataclass(frozen=True)
class EventData:
    uid: str
    sequence: int
    title: str
    starts_at: datetime  # aware, any zone
    ends_at: datetime
    timezone: str
    location: str = ""
    url: str = ""
    description: str = ""
    cancelled: bool = False
    confirmed: bool = False
    organizer_email: str = ""
    organizer_name: str = ""
    attendee_email: str = ""
    attendee_name: str = ""
    updated_at: datetime | None = None


def build_event(data: EventData, stamp: datetime | None = None) -> Event:
    zone = ZoneInfo(data.timezone)
    event = Event()
    event.add("uid", data.uid)
    event.add("dtstamp", (stamp or datetime.now(UTC)).astimezone(UTC))
    event.add("sequence", data.sequence)
    event.add("summary", data.title)
    event.add("dtstart", data.starts_at.astimezone(zone))
    event.add("dtend", data.ends_at.astimezone(zone))
    if data.updated_at:
        event.add("last-modified", data.updated_at.astimezone(UTC))
    if data.location:
        event.add("location", data.location)
    if data.url:
        event.add("url", data.url)
    if data.description:
        event.add("description", data.description)
    status = "CANCELLED" if data.cancelled else "CONFIRMED" if data.confirmed else "TENTATIVE"
    event.add("status", status)
    if data.organizer_email:
        organizer = vCalAddress(f"mailto:{data.organizer_email}")
        if data.organizer_name:
            organizer.params["cn"] = vText(data.organizer_name)
        event.add("organizer", organizer)
    if data.attendee_email:
        attendee = vCalAddress(f"mailto:{data.attendee_email}")
        if data.attendee_name:
            attendee.params["cn"] = vText(data.attendee_name)
        attendee.params["role"] = vText("REQ-PARTICIPANT")
        attendee.params["partstat"] = vText("DECLINED" if data.cancelled else "ACCEPTED")
        event.add("attendee", attendee)
    return event


def calendar_bytes(events: Iterable[EventData], *, method: str | None = None,
                   name: str | None = None, stamp: datetime | None = None) -> bytes:
    """A VCALENDAR with the events and a VTIMEZONE for each zone they use."""
    events = list(events)
    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    if method:
        cal.add("method", method)
    if name:
        cal.add("x-wr-calname", name)
    for data in events:
        cal.add_component(build_event(data, stamp))
    if events:
        first = min(e.starts_at for e in events).date() - timedelta(days=366)
        last = max(e.ends_at for e in events).date() + timedelta(days=366)
        cal.add_missing_timezones(first_date=first, last_date=last)
    return cal.to_ical()
