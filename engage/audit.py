"""Recording who did what. Call ``record`` from the operation that did it."""

from __future__ import annotations

from typing import Any

from flask import has_request_context, request

from models import AuditEvent, User, db


def record(action: str, actor: User | None, *, study_id: int | None = None,
           target: tuple[str, int] | None = None, **detail: Any) -> AuditEvent:
    event = AuditEvent(
        action=action,
        actor_id=actor.id if actor is not None and actor.is_authenticated else None,
        actor_email=getattr(actor, "email", "") or "",
        study_id=study_id,
        target_type=target[0] if target else None,
        target_id=target[1] if target else None,
        detail=detail,
        ip=request.remote_addr if has_request_context() else None,
    )
    db.session.add(event)
    return event
