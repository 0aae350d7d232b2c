"""Themes: built from topics, codes and quotes; counted by stakeholder group; statuses."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from engage.themes.operations import (
    ThemeError,
    add_coding_evidence,
    add_evidence,
    create_theme,
    group_counts,
    set_codes,
)
from models import Theme, ThemeStatus
from tests.analysis_world import build


@pytest.fixture
def world(make, db):
    return build(make, db)


def test_researcher_builds_a_theme_in_the_browser(client, login, world, db):
    login(world["owner"])
    sid = world["study"].id
    response = client.post(f"/studies/{sid}/themes", data={"name": "Getting to care",
                                                           "summary": "Rides fail."})
    assert response.status_code == 302
    theme = db.session.scalars(select(Theme)).one()
    base = f"/studies/{sid}/themes/{theme.id}"
    code = world["codes"][0]
    assert client.post(f"{base}/codes", data={"codes": [code.id]}).status_code == 302
    page = client.get(base).get_data(as_text=True)
    assert "Add as quote" in page  # the code's coded spans are offered
    segment = world["transcript"].segments[1]
    response = client.post(f"{base}/evidence", data={
        "unit": f"segment:{segment.id}", "quote": "van to   dialysis", "note": "vivid"})
    assert response.status_code == 302
    coding = world["codings"][1]  # the comment's coded words
    client.post(f"{base}/evidence", data={"unit": str(coding.unit_ref),
                                          "coding_id": coding.id})
    client.post(base, data={"name": "Getting to care", "summary": "Rides fail people.",
                            "status": "reviewed"})
    db.session.expire_all()
    theme = db.session.get(Theme, theme.id)
    assert theme.status is ThemeStatus.REVIEWED and theme.summary == "Rides fail people."
    assert [e.quote for e in theme.evidence] == ["van to dialysis",
                                                 "The dialysis van is always late"]
    assert theme.evidence[1].coding_id == coding.id and theme.evidence[1].comment_id
    page = client.get(base).get_data(as_text=True)
    assert "Providers" in page and "Consumer groups" in page  # who it comes from
    assert "Dana Whitfield" not in page  # attributed by group, not by name
    listing = client.get(f"/studies/{sid}/themes").get_data(as_text=True)
    assert "Getting to care" in listing and "Reviewed" in listing


def test_coders_read_themes_but_cannot_change_them(client, login, world, db):
    theme = create_theme(world["owner"], world["study"], "A theme")
    db.session.commit()
    login(world["coder"])
    sid = world["study"].id
    assert client.get(f"/studies/{sid}/themes/{theme.id}").status_code == 200
    assert client.post(f"/studies/{sid}/themes", data={"name": "x"}).status_code == 403
    assert client.post(f"/studies/{sid}/themes/{theme.id}/delete").status_code == 403


def test_counts_by_group_cover_quotes_codes_and_distinct_documents(world, db):
    theme = create_theme(world["owner"], world["study"], "Transport")
    set_codes(world["owner"], theme, [world["codes"][0]])
    # The same segment quoted again counts once.
    add_coding_evidence(world["owner"], theme, world["codings"][0])
    add_evidence(world["owner"], theme, str(world["codings"][0].unit_ref))
    counts = group_counts(theme)
    assert counts == {"Providers": 1, "Consumer groups": 1}


def test_quotes_must_come_from_the_study_and_match_the_text(world, db, make):
    theme = create_theme(world["owner"], world["study"], "T")
    segment = world["transcript"].segments[1]
    with pytest.raises(ThemeError, match="not in that document"):
        add_evidence(world["owner"], theme, f"segment:{segment.id}", quote="never said")
    other = make.transcript(make.study(), ["Elsewhere entirely."])
    with pytest.raises(ThemeError, match="no transcript segment or comment"):
        add_evidence(world["owner"], theme, f"segment:{other.segments[0].id}")
    with pytest.raises(ThemeError, match="no transcript segment or comment"):
        add_evidence(world["owner"], theme, "nonsense")
    with pytest.raises(ThemeError, match="name"):
        create_theme(world["owner"], world["study"], "   ")
