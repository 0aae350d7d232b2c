"""Consent texts: the standard one, versions a study saves, and checking a consent given."""

from __future__ import annotations

from enum import StrEnum

from sqlalchemy import func, select

from engage.audit import record
from engage.i18n import translate
from engage.scheduling.operations import BookingError, SchedulingError
from models import ConsentText, Study, StudySession, User, db

# The text new studies start from (researchers edit it on the consent page).
DEFAULT_CONSENT_TITLE = "Consent to take part"
DEFAULT_CONSENT = """\
You are invited to take part in a conversation about how Medicare and Medicaid could work \
better together for people who have both.

- Taking part is voluntary. You can skip any question and stop at any time.
- The conversation is recorded and transcribed so we can study what was said. Recordings are \
kept on the agency's own servers.
- Reports describe what groups of people said (for example "health plans"). Your name is not \
published.
- You can withdraw by contacting the research team; we then stop using what you said.
"""
DEFAULT_CONSENT_ES = """\
Le invitamos a participar en una conversación sobre cómo Medicare y Medicaid podrían funcionar \
mejor juntos para las personas que tienen ambos.

- Participar es voluntario. Puede saltar cualquier pregunta y parar en cualquier momento.
- La conversación se graba y se transcribe para estudiar lo que se dijo. Las grabaciones se \
guardan en los servidores de la agencia.
- Los informes describen lo que dijeron grupos de personas (por ejemplo, "planes de salud"). \
Su nombre no se publica.
- Puede retirarse comunicándose con el equipo de investigación; entonces dejamos de usar lo \
que usted dijo.
"""


class StaffConsent(StrEnum):
    """How a researcher booking a participant says their consent stands."""

    AGREED = "agreed"
    AT_SESSION = "at_session"

    @property
    def label(self) -> str:
        return {StaffConsent.AGREED: "Record the participant's consent now",
                StaffConsent.AT_SESSION: "Consent to be collected at the session"}[self]


def latest_consent(study: Study) -> ConsentText | None:
    return db.session.scalar(select(ConsentText).where(ConsentText.study_id == study.id)
                             .order_by(ConsentText.version.desc()).limit(1))


def consent_text_for(session: StudySession) -> ConsentText | None:
    """The text a participant of this session consents to: its offer's, else the study's latest."""
    if session.offer is not None:
        return session.offer.consent_text
    return latest_consent(db.session.get(Study, session.study_id))


def add_consent_text(actor: User | None, study: Study, title: str, body: str,
                     body_es: str = "") -> ConsentText:
    if not body.strip():
        raise SchedulingError("Enter the consent text.", "body")
    version = (db.session.scalar(select(func.max(ConsentText.version)).where(
        ConsentText.study_id == study.id)) or 0) + 1
    text = ConsentText(study_id=study.id, version=version, title=title.strip() or
                       DEFAULT_CONSENT_TITLE, body=body.strip(), body_es=body_es.strip(),
                       created_by_id=actor.id if actor else None)
    db.session.add(text)
    db.session.flush()
    record("consent.version", actor, study_id=study.id, target=("consent_text", text.id),
           version=version)
    return text


def check_consent(expected: ConsentText | None, consent_text_id: int | None,
                  consent_name: str, consent_given: bool, lang: str, *,
                  on_behalf: bool = False) -> None:
    """Refuse a booking without consent, or with consent to another version of the text.

    ``on_behalf``: a researcher records the consent the participant gave them (by phone,
    in person), so the refusals speak to the researcher.
    """
    if expected is None and on_behalf:
        raise BookingError("This study has no consent text yet: save one on the consent page "
                           "first.", "consent", "consent_given")
    if expected is None or consent_text_id != expected.id:
        raise BookingError("The consent text changed. Read it again below.", "consent",
                           "consent_name")
    if not consent_name.strip():
        raise BookingError("Type the participant's name as they gave it." if on_behalf else
                           translate(lang, "Type your name to give consent."), "consent",
                           "consent_name")
    if not consent_given:
        raise BookingError("Check the box to confirm that the participant agreed." if on_behalf
                           else translate(lang, "Check the box to give consent."), "consent",
                           "consent_given")
