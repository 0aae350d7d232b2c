"""Signed links: booking invitations, public registration and calendar feeds.

Tokens are signed with the app's secret key and a salt per purpose, so a token
made for one purpose never works for another. Each names a row and its nonce;
changing the nonce revokes every token made before.
"""

from __future__ import annotations

from flask import current_app
from itsdangerous import BadData, URLSafeSerializer, URLSafeTimedSerializer

INVITATION_SALT = "engage.booking.invitation"
PUBLIC_SESSION_SALT = "engage.booking.public-session"
FEED_SALT = "engage.calendar.feed"


class TokenError(ValueError):
    def __init__(self, message: str, expired: bool = False):
        super().__init__(message)
        self.expired = expired


def _timed(salt: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=salt)


def _plain(salt: str) -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=salt)


def make_invitation_token(invitation_id: int, nonce: str) -> str:
    return _timed(INVITATION_SALT).dumps([invitation_id, nonce])


def read_invitation_token(token: str, max_age_s: int) -> tuple[int, str]:
    from itsdangerous import SignatureExpired

    try:
        invitation_id, nonce = _timed(INVITATION_SALT).loads(token, max_age=max_age_s)
    except SignatureExpired as exc:
        raise TokenError("This booking link has expired.", expired=True) from exc
    except (BadData, TypeError, ValueError) as exc:
        raise TokenError("This booking link is not valid.") from exc
    return int(invitation_id), str(nonce)


def make_token(salt: str, row_id: int, nonce: str) -> str:
    return _plain(salt).dumps([row_id, nonce])


def read_token(salt: str, token: str) -> tuple[int, str]:
    try:
        row_id, nonce = _plain(salt).loads(token)
        return int(row_id), str(nonce)
    except (BadData, TypeError, ValueError) as exc:
        raise TokenError("This link is not valid.") from exc
