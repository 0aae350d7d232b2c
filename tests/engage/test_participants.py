"""Participants: attributes, contact details by role, CSV import with preview, export,
withdrawal (erasing their data)."""

import io

from sqlalchemy import select

from models import (
    AttributeDefinition,
    AuditEvent,
    Booking,
    BookingStatus,
    Participant,
    Role,
    StakeholderGroup,
    StudyRole,
)


def _setup(make):
    owner = make.user(Role.RESEARCHER)
    study = make.study(owner)
    coder = make.user(Role.CODER)
    make.member(study, coder, StudyRole.CODER)
    return owner, study, coder


def test_researcher_adds_participant_with_typed_attributes(client, make, login, db):
    owner, study, _ = _setup(make)
    login(owner)
    assert client.post(f"/studies/{study.id}/participants/attributes",
                       data={"label": "Years in role", "kind": "number"}).status_code == 302
    client.post(f"/studies/{study.id}/participants/attributes",
                data={"label": "Dual eligible", "kind": "yes_no"})
    group = study.stakeholder_groups[1]
    data = {"name": "Luis Ortega", "organization": "Piedmont Health Plan",
            "stakeholder_group_id": group.id, "region": "Piedmont", "county": "Guilford",
            "email": "luis@example.org", "phone": "555-0101", "preferred_language": "es",
            "accessibility_needs": "Spanish interpreter", "attr_years_in_role": "many",
            "attr_dual_eligible": "yes"}
    refused = client.post(f"/studies/{study.id}/participants/new", data=data)
    assert refused.status_code == 400
    assert "“many” is not a number." in refused.get_data(as_text=True)
    assert db.session.scalar(select(Participant)) is None
    response = client.post(f"/studies/{study.id}/participants/new",
                           data={**data, "attr_years_in_role": "7"})
    person = db.session.scalar(select(Participant))
    assert response.headers["Location"].endswith(f"/participants/{person.id}")
    assert person.attributes == {"years_in_role": 7, "dual_eligible": True}
    assert person.preferred_language == "es" and person.stakeholder_group_id == group.id
    again = client.post(f"/studies/{study.id}/participants/new",
                        data={**data, "attr_years_in_role": "7", "email": "LUIS@example.org"})
    assert "already a participant" in again.get_data(as_text=True)
    page = client.get(f"/studies/{study.id}/participants/{person.id}").get_data(as_text=True)
    assert "Years in role" in page and "Spanish interpreter" in page
    edit = client.post(f"/studies/{study.id}/participants/{person.id}/edit",
                       data={**data, "name": "Luis M. Ortega", "attr_years_in_role": "8",
                             "attr_dual_eligible": ""})
    assert edit.status_code == 302
    db.session.refresh(person)
    assert person.name == "Luis M. Ortega" and person.attributes == {"years_in_role": 8}
    assert {a.key for a in db.session.scalars(select(AttributeDefinition))} == {
        "years_in_role", "dual_eligible"}


def test_coders_never_see_contact_details_and_researcher_views_are_audited(
        client, make, login, db):
    owner, study, coder = _setup(make)
    person = make.participant(study, "Dana Whitfield", email="dana@example.org",
                              phone="555-0142", notes="Prefers mornings")
    offer = make.offer(study, [person], actor=owner)
    session = offer.sessions[0]
    login(coder)
    for url in (f"/studies/{study.id}/participants", f"/studies/{study.id}/participants/"
                f"{person.id}", f"/studies/{study.id}/sessions/{session.id}"):
        page = client.get(url).get_data(as_text=True)
        assert "Dana Whitfield" in page or url.endswith(str(session.id))
        assert "dana@example.org" not in page and "555-0142" not in page, url
        assert "Prefers mornings" not in page
    for url in (f"/studies/{study.id}/participants/export.csv", f"/studies/{study.id}/outbox",
                f"/studies/{study.id}/offers/{offer.id}"):
        assert client.get(url).status_code == 403, url
    assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "contacts.view")) \
        is None
    client.post("/logout")
    login(owner)
    page = client.get(f"/studies/{study.id}/participants/{person.id}").get_data(as_text=True)
    assert "dana@example.org" in page and "555-0142" in page
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "contacts.view"))
    assert event.actor_id == owner.id and event.detail == {"participants": [person.id]}


def test_import_shows_row_errors_and_saves_nothing_until_the_file_is_clean(
        client, make, login, db):
    owner, study, _ = _setup(make)
    make.participant(study, "Existing", email="known@example.org")
    login(owner)
    bad = ("name,email,stakeholder_group,first_contact\n"
           "Dana,dana@example.org,State officials,\n"
           ",x@example.org,,\n"
           "Known,known@example.org,Astronauts,\n")
    response = client.post(f"/studies/{study.id}/participants/import",
                           data={"file": (io.BytesIO(bad.encode()), "people.csv")},
                           content_type="multipart/form-data")
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "nothing was imported" in page
    assert "Row 3, name: The name is empty." in page
    assert "known@example.org is already used by a participant of this study" in page
    assert "“Astronauts” is not a stakeholder group" in page
    assert "Import participants</" not in page and 'value="Import participants"' not in page
    assert db.session.scalar(select(db.func.count(Participant.id))) == 1

    missing = client.post(f"/studies/{study.id}/participants/import",
                          data={"file": (io.BytesIO(b"full name\nDana\n"), "x.csv")},
                          content_type="multipart/form-data")
    assert "no “name” column" in missing.get_data(as_text=True)

    good = ("name,email,stakeholder_group,preferred_language\n"
            "Dana,dana@example.org,State officials,en\n"
            "Rosa,rosa@example.org,Beneficiaries and care partners,es\n")
    preview = client.post(f"/studies/{study.id}/participants/import",
                          data={"file": (io.BytesIO(good.encode()), "people.csv")},
                          content_type="multipart/form-data")
    html = preview.get_data(as_text=True)
    assert preview.status_code == 200 and "2 participant(s) are ready to import" in html
    assert db.session.scalar(select(db.func.count(Participant.id))) == 1  # preview saves nothing
    stored = html.split('name="stored" type="hidden" value="')[1].split('"')[0]
    done = client.post(f"/studies/{study.id}/participants/import/confirm",
                       data={"stored": stored})
    assert done.status_code == 302
    rosa = db.session.scalar(select(Participant).where(Participant.name == "Rosa"))
    assert rosa.preferred_language == "es"
    assert rosa.stakeholder_group.name == "Beneficiaries and care partners"
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action ==
                                                        "participant.import"))
    assert event.detail["count"] == 2
    # The same file again is refused: the stored upload is gone.
    again = client.post(f"/studies/{study.id}/participants/import/confirm",
                        data={"stored": stored}, follow_redirects=True)
    assert "gone" in again.get_data(as_text=True)
    assert db.session.scalar(select(db.func.count(Participant.id))) == 3


def test_export_is_a_csv_that_imports_again(client, make, login, db):
    owner, study, _ = _setup(make)
    make.participant(study, "Dana", email="dana@example.org", phone="555-0100",
                     stakeholder_group_id=study.stakeholder_groups[0].id)
    login(owner)
    response = client.get(f"/studies/{study.id}/participants/export.csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    text = response.get_data().decode("utf-8-sig")
    assert text.splitlines()[0].startswith("name,organization,stakeholder_group")
    assert "dana@example.org" in text
    assert db.session.scalar(select(AuditEvent).where(AuditEvent.action ==
                                                      "participant.export"))
    other = make.study(owner)
    preview = client.post(f"/studies/{other.id}/participants/import",
                          data={"file": (io.BytesIO(text.encode()), "export.csv")},
                          content_type="multipart/form-data")
    assert "1 participant(s) are ready to import" in preview.get_data(as_text=True)


def test_erase_removes_personal_data_and_frees_future_seats(client, make, login, db):
    owner, study, _ = _setup(make)
    person = make.participant(study, "Dana", email="dana@example.org", phone="555-0100")
    offer = make.offer(study, [person], actor=owner)
    session = offer.sessions[0]
    from engage.scheduling.bookings import book

    book(offer.invitations[0], session.id, consent_name="Dana", consent_given=True,
         consent_text_id=offer.consent_text_id)
    db.session.commit()
    assert session.booked_count == 1
    login(owner)
    assert client.post(f"/studies/{study.id}/participants/{person.id}/withdraw",
                       data={"retention": "delete", "confirm_name": "Dana"}).status_code == 302
    db.session.expire_all()
    person = db.session.get(Participant, person.id)
    assert person.erased_at and person.name == f"Erased participant {person.id}"
    assert (person.email, person.phone) == ("", "")
    booking = db.session.scalar(select(Booking))
    assert booking.status is BookingStatus.CANCELLED and booking.consent_name == ""
    assert db.session.get(type(session), session.id).booked_count == 0
    assert offer.invitations[0].revoked_at is not None
    assert not list((client.application.instance_path and
                     __import__("pathlib").Path(client.application.instance_path) /
                     "outbox").glob("*.eml"))


def test_stakeholder_groups_are_editable_per_study(client, make, login, db):
    owner, study, coder = _setup(make)
    login(owner)
    group = study.stakeholder_groups[0]
    assert client.post(f"/studies/{study.id}/groups/{group.id}/edit",
                       data={"name": "Medicaid agency officials",
                             "description": "NC DHHS"}).status_code == 302
    assert client.post(f"/studies/{study.id}/groups",
                       data={"name": "Tribal health programs"}).status_code == 302
    dup = client.post(f"/studies/{study.id}/groups", data={"name": "tribal health programs"})
    assert "already has a group" in dup.get_data(as_text=True)
    names = [g.name for g in db.session.scalars(select(StakeholderGroup).where(
        StakeholderGroup.study_id == study.id))]
    assert "Medicaid agency officials" in names and "Tribal health programs" in names
    make.participant(study, "Dana", stakeholder_group_id=group.id)
    refused = client.post(f"/studies/{study.id}/groups/{group.id}/delete",
                          follow_redirects=True)
    assert "Move them to another group first" in refused.get_data(as_text=True)
    other = make.study(make.user(Role.RESEARCHER))
    assert client.get(f"/studies/{study.id}/groups/{other.stakeholder_groups[0].id}/edit"
                      ).status_code == 404
    client.post("/logout")
    login(coder)
    assert client.get(f"/studies/{study.id}/groups").status_code == 200
    assert client.post(f"/studies/{study.id}/groups", data={"name": "X"}).status_code == 403


def test_participant_of_another_study_is_404(client, make, login):
    owner, study, _ = _setup(make)
    other = make.study(make.user(Role.RESEARCHER))
    stranger = make.participant(other, "Stranger")
    login(owner)
    for url in (f"/studies/{study.id}/participants/{stranger.id}",
                f"/studies/{study.id}/participants/{stranger.id}/edit"):
        assert client.get(url).status_code == 404
    assert client.post(f"/studies/{study.id}/participants/{stranger.id}/withdraw"
                       ).status_code == 404
