"""Researchers' and coders' pages: participants, sessions, offers, consent, outbox, calendar.

Views load and authorize (``study_view``), validate the form, call one operation,
commit once and redirect. Contact details are shown to researchers only, and each
page that shows them records a ``contacts.view`` audit event.

The views, by subject: ``participant_routes`` (participants, their import and export),
``group_routes`` (stakeholder groups, attributes), ``session_routes`` (sessions, the
week calendar, engagement), ``offer_routes`` (slot offers, invitations),
``booking_routes`` (staff bookings, attendance, calendar files and feed) and
``message_routes`` (the consent text, the outbox). This module holds what they share.
"""

from __future__ import annotations

from flask import current_app, g, request
from flask import session as flask_session

from engage.scheduling import bp
from engage.scheduling.timezones import COMMON_ZONES, TimeError, all_zones, describe
from models import StudyRole


def sees_contacts() -> bool:
    return g.study_role is StudyRole.RESEARCHER


def viewer_zone() -> str:
    """The zone this viewer reads times in: ``?tz=``, remembered in the session."""
    asked = request.args.get("tz")
    if asked and asked in all_zones():
        flask_session["tz"] = asked
    zone = flask_session.get("tz") or current_app.config.get("DISPLAY_TIMEZONE", "America/New_York")
    return zone if zone in all_zones() else "UTC"


@bp.context_processor
def _scheduling_context() -> dict:
    return {"zone_names": COMMON_ZONES, "all_zone_names": all_zones}


def field_error(form, error) -> None:
    name = getattr(error, "field", None)
    field = form[name] if name and name in form else None
    if field is None and isinstance(error, TimeError):
        name = "timezone" if "time zone" in str(error) else "start_time"
        field = getattr(form, name, None)
    if field is None:
        field = next(iter(form))  # the first field: the summary still links somewhere
    field.errors = [*field.errors, str(error)]
    if hasattr(form, "_errors"):
        form._errors = None


@bp.app_template_filter("in_zone")
def in_zone(moment, zone_name: str, with_zone: bool = True) -> str:
    """``{{ session.starts_at|in_zone(zone) }}``: a UTC time read in a zone."""
    return describe(moment, zone_name, with_zone) if moment else ""
