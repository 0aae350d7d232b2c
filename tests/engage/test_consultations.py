"""Researcher side: consultation setup, moderation queue, masking, publication."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from engage.consultations.moderation import comment_weights
from models import Campaign, CommentStatus, Consultation, IntakeRejection, Role, StudyRole

PHONE_COMMENT = ("Please call me at (919) 555-0142 about my mother's aide. "
                 "My name is Rosa Delgado and my email is rosa.d@example.org.")


@pytest.fixture
def team(make):
    owner = make.user(Role.RESEARCHER, name="Riley")
    study = make.study(owner)
    coder = make.user(Role.CODER)
    make.member(study, coder, StudyRole.CODER)
    return {"owner": owner, "coder": coder, "study": study}


def url(study, consultation=None, rest=""):
    base = f"/studies/{study.id}/consultations"
    return f"{base}/{consultation.id}{rest}" if consultation else base + rest


def test_create_public_consultation_with_local_dates_and_questions(client, login, db, team):
    login(team["owner"])
    study = team["study"]
    assert client.get(url(study, rest="/new")).status_code == 200
    response = client.post(url(study, rest="/new"), data={
        "title": "Integration strategy draft", "slug": "integration-2027",
        "summary": "Tell us what you think.", "draft": "# Draft\n\n## Vision\nOne plan.\n",
        "opens_at": "2027-03-01T09:00", "closes_at": "2027-04-01T17:00",
        "timezone": "America/Chicago", "languages": ["en", "es"],
        "questions": ["stakeholder_group", "dual_eligible"], "publish_comments": "y",
        "max_comment_length": "5000"})
    assert response.status_code == 302, response.get_data(as_text=True)
    c = db.session.scalar(select(Consultation))
    assert c.opens_at == datetime(2027, 3, 1, 15, 0, tzinfo=UTC)  # 09:00 CST
    assert c.closes_at == datetime(2027, 4, 1, 22, 0, tzinfo=UTC)  # 17:00 CDT
    assert [q["key"] for q in c.questions] == ["stakeholder_group", "dual_eligible"]
    groups = c.questions[0]["choices"]
    assert {"value": "Providers", "label": {"en": "Providers",
                                            "es": "Proveedor/a de servicios de salud"}} in groups
    page = client.get(url(study, c)).get_data(as_text=True)
    assert "Not open yet" in page and "/c/integration-2027" in page
    # The study navigation has the new entry.
    assert f'href="/studies/{study.id}/consultations"' in client.get(
        f"/studies/{study.id}").get_data(as_text=True)


@pytest.mark.parametrize(("data", "message"), [
    ({"slug": "Bad Slug!"}, "lower-case letters"),
    ({"slug": "ok-slug", "opens_at": ""}, "needs an opening and a closing date"),
    ({"closes_at": "2027-02-01T09:00"}, "closing date must be after"),
    ({"languages": []}, "at least one language"),
])
def test_setup_errors_are_shown_on_the_field(client, login, db, team, data, message):
    login(team["owner"])
    fields = {"title": "T", "slug": "", "opens_at": "2027-03-01T09:00",
              "closes_at": "2027-04-01T09:00", "timezone": "America/New_York",
              "languages": ["en"], "max_comment_length": "10000", **data}
    response = client.post(url(team["study"], rest="/new"), data=fields)
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert db.session.scalar(select(Consultation)) is None


def test_slug_must_be_unique_and_edit_keeps_asked_questions(client, login, db, team, make):
    make.consultation(team["study"], slug="taken")
    mine = make.consultation(team["study"], questions=[
        {"key": "county", "kind": "text", "label": {"en": "Old wording", "es": "Viejo"}}])
    login(team["owner"])
    form = {"title": mine.title, "slug": "taken", "opens_at": "2027-03-01T09:00",
            "closes_at": "2027-04-01T09:00", "timezone": "America/New_York",
            "languages": ["en"], "max_comment_length": "10000", "questions": ["county"]}
    response = client.post(url(team["study"], mine, "/edit"), data=form)
    assert "already uses this address" in response.get_data(as_text=True)
    form["slug"] = mine.slug
    form["questions"] = ["county", "dual_eligible"]
    assert client.post(url(team["study"], mine, "/edit"), data=form).status_code == 302
    db.session.refresh(mine)
    assert mine.questions[0]["label"]["en"] == "Old wording"  # unchanged once asked
    assert [q["key"] for q in mine.questions] == ["county", "dual_eligible"]


def test_queue_shows_personal_data_to_researchers_only(client, login, make, team):
    consultation = make.consultation(team["study"])
    make.comment(consultation, PHONE_COMMENT, author_name="Rosa Delgado",
                 email="rosa.d@example.org", tracking_number="ENG-AAAA-BBBB")
    login(team["owner"])
    page = client.get(url(team["study"], consultation, "/comments")).get_data(as_text=True)
    assert "(919) 555-0142" in page and 'name="ids"' in page
    client.post("/logout")
    login(team["coder"])
    page = client.get(url(team["study"], consultation, "/comments")).get_data(as_text=True)
    assert "ENG-AAAA-BBBB" in page
    assert "555-0142" not in page and "rosa.d@example.org" not in page and "[phone]" in page
    assert 'name="ids"' not in page  # no moderation controls
    comment = make.comment(consultation, "Plain words.", email="x@example.org",
                           author_name="Xavier")
    detail = client.get(url(team["study"], consultation, f"/comments/{comment.id}"))
    text = detail.get_data(as_text=True)
    assert "x@example.org" not in text and "Xavier" not in text and "Plain words." in text
    # Searching the original text is for researchers: coders search the public version.
    found = client.get(url(team["study"], consultation, "/comments?q=555-0142"))
    assert "0 comments match" in found.get_data(as_text=True)


def test_approve_masks_personal_data_and_publishes(client, login, db, make, team):
    consultation = make.consultation(team["study"], publish_comments=True)
    comment = make.comment(consultation, PHONE_COMMENT, author_name="Rosa Delgado",
                           consent_to_publish=True, language="es")
    login(team["owner"])
    page = client.get(url(team["study"], consultation, f"/comments/{comment.id}"))
    assert '<mark class="redacted" title="phone">(919) 555-0142</mark>' in page.get_data(
        as_text=True)
    response = client.post(url(team["study"], consultation, f"/comments/{comment.id}/moderate"),
                           data={"action": "approve"})
    assert response.status_code == 302
    db.session.refresh(comment)
    assert comment.status is CommentStatus.APPROVED and comment.moderated_by_id
    assert comment.body == PHONE_COMMENT  # the original is kept
    assert "[phone]" in comment.public_body and "555-0142" not in comment.public_body
    assert "[email]" in comment.public_body and "Rosa Delgado" not in comment.public_body
    public = client.get(f"/c/{consultation.slug}/comments?lang=es").get_data(as_text=True)
    assert "[phone]" in public and "555-0142" not in public and 'lang="es"' in public
    assert "1 comentarios publicados." in public
    assert client.get(f"/c/{consultation.slug}/comments?q=aide").get_data(
        as_text=True).count("comment-body") == 1
    assert "No comments have been published" not in client.get(
        f"/c/{consultation.slug}/comments").get_data(as_text=True)


def test_unpublished_comments_stay_off_the_public_page(client, login, db, make, team):
    consultation = make.consultation(team["study"], publish_comments=True)
    no_consent = make.comment(consultation, "Approved but private.")
    pending = make.comment(consultation, "Pending words.", consent_to_publish=True)
    login(team["owner"])
    client.post(url(team["study"], consultation, f"/comments/{no_consent.id}/moderate"),
                data={"action": "approve"})
    page = client.get(f"/c/{consultation.slug}/comments").get_data(as_text=True)
    assert "Approved but private." not in page and pending.body not in page
    assert "No comments have been published yet." in page
    hidden = make.consultation(team["study"], publish_comments=False)
    assert client.get(f"/c/{hidden.slug}/comments").status_code == 404


def test_reject_needs_a_reason_and_flag_and_reopen(client, login, db, make, team):
    consultation = make.consultation(team["study"])
    comment = make.comment(consultation, "Spam spam.")
    login(team["owner"])
    base = url(team["study"], consultation, f"/comments/{comment.id}/moderate")
    client.post(base, data={"action": "reject", "reason": ""})
    db.session.refresh(comment)
    assert comment.status is CommentStatus.PENDING
    client.post(base, data={"action": "reject", "reason": "Advertising"})
    db.session.refresh(comment)
    assert comment.status is CommentStatus.REJECTED and comment.reject_reason == "Advertising"
    client.post(base, data={"action": "flag"})
    db.session.refresh(comment)
    assert comment.status is CommentStatus.FLAGGED and comment.reject_reason is None
    client.post(base, data={"action": "reopen"})
    db.session.refresh(comment)
    assert comment.status is CommentStatus.PENDING


def test_bulk_actions_on_ticked_and_on_every_matching_comment(client, login, db, make, team):
    consultation = make.consultation(team["study"])
    other = make.consultation(team["study"])
    held = [make.comment(consultation, f"Bot text {i}", status=CommentStatus.HELD,
                         hold_reason="Honeypot") for i in range(3)]
    fine = [make.comment(consultation, f"Human text {i}") for i in range(2)]
    outsider = make.comment(other, "Other consultation")
    login(team["owner"])
    bulk = url(team["study"], consultation, "/comments/bulk")
    response = client.post(bulk, data={"action": "approve", "scope": "selected",
                                       "ids": [fine[0].id, fine[1].id, outsider.id],
                                       "filters": ""})
    assert response.status_code == 302
    db.session.expire_all()
    assert [c.status for c in fine] == [CommentStatus.APPROVED] * 2
    assert outsider.status is CommentStatus.PENDING  # not in this consultation: ignored
    client.post(bulk, data={"action": "reject", "reason": "Automated", "scope": "matching",
                            "filters": "status=held"})
    db.session.expire_all()
    assert all(c.status is CommentStatus.REJECTED for c in held)
    assert all(c.status is CommentStatus.APPROVED for c in fine)
    page = client.get(url(team["study"], consultation, "/comments?status=rejected"))
    assert "3 comments match" in page.get_data(as_text=True)


def test_researcher_adjusts_masking_and_edits_public_version(client, login, db, make, team):
    consultation = make.consultation(team["study"])
    comment = make.comment(consultation, "Call 919-555-0142. Dr. Patel at Duke helped us. "
                                         "PATEL knows.")
    login(team["owner"])
    base = url(team["study"], consultation, f"/comments/{comment.id}")
    client.post(f"{base}/redactions", data={"add_text": "patel", "add_kind": "name"})
    db.session.refresh(comment)
    kinds = [(r["original"], r["kind"]) for r in comment.redactions]
    assert ("919-555-0142", "phone") in kinds and ("PATEL", "name") in kinds
    assert "Patel" not in comment.public_body and "PATEL" not in comment.public_body
    phone_index = next(i for i, r in enumerate(comment.redactions) if r["kind"] == "phone")
    client.post(f"{base}/redactions", data={"remove": [phone_index], "add_kind": "name"})
    db.session.refresh(comment)
    assert "919-555-0142" in comment.public_body  # unmasked on purpose
    missing = client.post(f"{base}/redactions", data={"add_text": "Nobody", "add_kind": "name"},
                          follow_redirects=True)
    assert "does not occur" in missing.get_data(as_text=True)
    client.post(f"{base}/public-text", data={"public_body": "A shorter public version."})
    db.session.refresh(comment)
    assert comment.public_body == "A shorter public version."
    assert comment.body.startswith("Call 919-555-0142")
    assert "Edited by hand" in client.get(base).get_data(as_text=True)
    client.post(f"{base}/redactions", data={"redetect": "y", "add_kind": "name"})
    db.session.refresh(comment)
    assert "[phone]" in comment.public_body and "Edited by hand" not in client.get(
        base).get_data(as_text=True)


def test_attachment_download_is_for_researchers(client, login, db, make, team, app):
    from pathlib import Path

    consultation = make.consultation(team["study"])
    folder = Path(app.config["UPLOAD_FOLDER"]) / "comment-attachments"
    folder.mkdir(parents=True)
    (folder / "abc123").write_bytes(b"attached words")
    comment = make.comment(consultation, "See attached", attachment_name="carta.txt",
                           attachment_stored_name="abc123", attachment_text="attached words")
    login(team["owner"])
    response = client.get(url(team["study"], consultation, f"/comments/{comment.id}/attachment"))
    assert response.status_code == 200 and response.data == b"attached words"
    assert response.headers["Content-Disposition"].startswith("attachment;")
    client.post("/logout")
    login(team["coder"])
    assert client.get(url(team["study"], consultation,
                          f"/comments/{comment.id}/attachment")).status_code == 403


def test_refusals_are_counted_for_researchers(client, login, db, make, team):
    consultation = make.consultation(team["study"])
    for reason in ("rate_limited", "rate_limited", "closed"):
        db.session.add(IntakeRejection(consultation_id=consultation.id, reason=reason))
    db.session.commit()
    login(team["coder"])
    page = client.get(url(team["study"], consultation)).get_data(as_text=True)
    assert "Too many submissions in a short time (rate limit)</td><td>2</td>" in page
    assert "Sent after the comment period closed</td><td>1</td>" in page


def test_comment_weights_count_a_campaign_as_one_voice_or_n(db, make, team):
    consultation = make.consultation(team["study"])
    campaign = Campaign(consultation_id=consultation.id, template="Letter")
    db.session.add(campaign)
    db.session.commit()
    members = [make.comment(consultation, "Letter", campaign_id=campaign.id) for _ in range(4)]
    alone = make.comment(consultation, "My own words")
    make.comment(consultation, "spam", status=CommentStatus.REJECTED)
    one = comment_weights(consultation, "one")
    assert one == {**{m.id: 0.25 for m in members}, alone.id: 1.0}
    assert comment_weights(consultation, "n") == {**{m.id: 1.0 for m in members}, alone.id: 1.0}


def test_other_studys_comment_is_not_found_through_this_consultation(client, login, make, team):
    consultation = make.consultation(team["study"])
    elsewhere = make.consultation()
    foreign = make.comment(elsewhere, "Not yours")
    login(team["owner"])
    assert client.get(url(team["study"], consultation, f"/comments/{foreign.id}")
                      ).status_code == 404
    assert client.post(url(team["study"], consultation, f"/comments/{foreign.id}/moderate"),
                       data={"action": "approve"}).status_code == 404
