"""perform: the commit-or-refuse step shared by POST views."""

from __future__ import annotations

import pytest
from flask import get_flashed_messages
from sqlalchemy import text

from engage.forms import perform
from models import User


def _committed_name(db, user_id: int) -> str | None:
    """The user's name as another connection sees it: only what was committed."""
    with db.engine.connect() as connection:
        return connection.execute(text('SELECT name FROM "user" WHERE id = :id'),
                                  {"id": user_id}).scalar()


def _rename(db, user: User, name: str) -> User:
    user.name = name
    db.session.flush()
    return user


def test_success_commits_and_flashes(app, db, make):
    user = make.user(name="Before")
    with app.test_request_context():
        result = perform(lambda: _rename(db, user, "After"),
                         lambda renamed: f"Renamed to {renamed.name}.")
        assert get_flashed_messages(with_categories=True) == [
            ("success", "Renamed to After.")]
    assert result is user
    assert _committed_name(db, user.id) == "After"


def test_success_message_may_be_omitted(app, db, make):
    user = make.user(name="Before")
    with app.test_request_context():
        assert perform(lambda: _rename(db, user, "After")) is user
        assert get_flashed_messages() == []
    assert _committed_name(db, user.id) == "After"


def test_refusal_flashes_and_rolls_back(app, db, make):
    user = make.user(name="Before")

    class Refused(ValueError):
        pass

    def refused():
        _rename(db, user, "Half-done")
        raise Refused("Not allowed.")

    with app.test_request_context():
        assert perform(refused, "Done.", errors=Refused) is None
        assert get_flashed_messages(with_categories=True) == [("error", "Not allowed.")]
    assert _committed_name(db, user.id) == "Before"
    assert not db.session.dirty and not db.session.new
    assert db.session.get(User, user.id).name == "Before"  # the flushed change is gone


def test_errors_default_to_value_error(app, db, make):
    with app.test_request_context():
        assert perform(lambda: int("not a number"), "Done.") is None
        [(category, _)] = get_flashed_messages(with_categories=True)
    assert category == "error"


def test_unexpected_exception_propagates(app, db, make):
    user = make.user(name="Before")

    def broken():
        _rename(db, user, "Half-done")
        raise KeyError("bug")

    with app.test_request_context():
        with pytest.raises(KeyError):
            perform(broken, "Done.", errors=ValueError)
        assert get_flashed_messages() == []
    db.session.rollback()
    assert _committed_name(db, user.id) == "Before"
