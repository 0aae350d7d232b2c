"""Local wall-clock times in IANA zones, to and from UTC. No Flask in here.

Times are entered as the people in the session see them: a date, a time and a
zone. A wall-clock time that does not exist (clocks jumping forward in March) is
refused; one that happens twice (clocks falling back in November) means the
first, as calendar programs do.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from functools import cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

# Offered first in lists; any IANA zone is accepted.
COMMON_ZONES = (
    "America/New_York", "America/Chicago", "America/Denver", "America/Phoenix",
    "America/Los_Angeles", "America/Anchorage", "Pacific/Honolulu", "America/Puerto_Rico",
    "UTC",
)


class TimeError(ValueError):
    """A time or zone that cannot be used, with a message for the person who gave it."""


@cache
def all_zones() -> tuple[str, ...]:
    return tuple(sorted(available_timezones()))


def zone(name: str) -> ZoneInfo:
    name = (name or "").strip()
    if not name or name not in all_zones():
        # ZoneInfo would also open file paths; only the IANA names are allowed.
        raise TimeError(f"“{name}” is not a time zone. Use an IANA name such as "
                        "America/New_York.")
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:  # pragma: no cover (listed above)
        raise TimeError(f"“{name}” is not a time zone.") from exc


def to_utc(day: date, at: time, zone_name: str) -> datetime:
    """The UTC instant of a wall-clock time in a zone."""
    tz = zone(zone_name)
    local = datetime.combine(day, at).replace(tzinfo=tz, fold=0)
    instant = local.astimezone(UTC)
    back = instant.astimezone(tz)
    if (back.date(), back.time().replace(tzinfo=None)) != (day, at.replace(tzinfo=None)):
        raise TimeError(f"{at:%H:%M} on {day:%B %-d, %Y} does not exist in {zone_name}: the "
                        "clocks move forward then. Choose another time.")
    return instant


def parse_local(text: str, zone_name: str) -> datetime:
    """``YYYY-MM-DD HH:MM`` (or with a ``T``) in ``zone_name`` → UTC."""
    cleaned = text.strip().replace("T", " ")
    try:
        naive = datetime.strptime(cleaned, "%Y-%m-%d %H:%M")
    except ValueError as exc:
        raise TimeError(f"“{text.strip()}” is not a date and time like 2027-03-15 10:00.") from exc
    return to_utc(naive.date(), naive.time(), zone_name)


def local(moment: datetime, zone_name: str) -> datetime:
    return moment.astimezone(zone(zone_name))


def describe(moment: datetime, zone_name: str, with_zone: bool = True) -> str:
    """``Mon, Mar 15, 2027, 10:00 EDT (America/New_York)``."""
    when = local(moment, zone_name)
    text = f"{when:%a, %b} {when.day}, {when:%Y, %H:%M} {when.tzname()}"
    return f"{text} ({zone_name})" if with_zone else text
