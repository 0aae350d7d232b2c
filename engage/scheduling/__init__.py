"""Participants, sessions, slot offers, bookings and the study calendar (researchers' side).

The participant's side (booking links, public registration, calendar feeds) is the
``booking`` blueprint. Reminders are a job kind (``tasks``) that Celery beat starts
every few minutes; ``flask --app wsgi engage send-reminders`` runs them by hand.
"""

from flask import Blueprint

bp = Blueprint("scheduling", __name__, url_prefix="/studies")
bp.study_nav = [
    (30, "scheduling.participants", "Participants"),
    (35, "scheduling.sessions", "Sessions"),
]

# Reminders: every REMINDER_TICK_SECONDS, beat asks the worker to look for due ones.
REMINDER_TICK_TASK = "engage.scheduling.reminder_tick"


@bp.record_once
def _schedule_reminders(state) -> None:
    celery = state.app.extensions.get("celery")
    if celery is not None:
        schedule = dict(celery.conf.beat_schedule or {})
        schedule["engage-send-reminders"] = {
            "task": REMINDER_TICK_TASK,
            "schedule": float(state.app.config["REMINDER_TICK_SECONDS"]),
        }
        celery.conf.beat_schedule = schedule


from engage.scheduling import (  # noqa: E402,F401
    booking_routes,
    cli,
    group_routes,
    message_routes,
    offer_routes,
    participant_routes,
    routes,
    session_routes,
    withdrawal_routes,
)
