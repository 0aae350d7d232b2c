"""The structured questions a consultation can ask, besides the comment itself.

Researchers pick from this catalogue; the chosen questions are copied into the
consultation (``Consultation.questions``) with their labels in every language,
so that later changes here never change what a past form asked.
"""

from __future__ import annotations

from typing import Any

from models import Study

# Spanish names for the default stakeholder groups (coding.vocabulary), as a
# member of the public would read them.
GROUP_LABELS_ES = {
    "State officials": "Funcionario/a estatal",
    "Health plans": "Plan de salud",
    "Federal experts": "Experto/a federal",
    "Consumer groups": "Grupo de consumidores o defensa",
    "Other states": "Otro estado",
    "Community-based organizations": "Organización comunitaria",
    "Providers": "Proveedor/a de servicios de salud",
    "Beneficiaries and care partners": "Beneficiario/a o cuidador/a",
}

CATALOGUE: dict[str, dict[str, Any]] = {
    "stakeholder_group": {
        "kind": "choice",
        "label": {"en": "Which best describes you?", "es": "¿Qué le describe mejor?"},
    },
    "county": {
        "kind": "text",
        "label": {"en": "County where you live", "es": "Condado donde vive"},
    },
    "dual_eligible": {
        "kind": "yesno",
        "label": {
            "en": "Are you or a family member eligible for both Medicare and Medicaid?",
            "es": "¿Usted o un familiar tiene derecho a Medicare y a Medicaid a la vez?",
        },
    },
}
CATALOGUE_LABELS = [(key, spec["label"]["en"]) for key, spec in CATALOGUE.items()]


def build_questions(keys: list[str], study: Study) -> list[dict[str, Any]]:
    """The question specs for ``keys``, in catalogue order."""
    questions = []
    for key, spec in CATALOGUE.items():
        if key not in keys:
            continue
        question = {"key": key, **spec}
        if key == "stakeholder_group":
            question["choices"] = [
                {"value": g.name,
                 "label": {"en": g.name, "es": GROUP_LABELS_ES.get(g.name, g.name)}}
                for g in study.stakeholder_groups
            ] + [{"value": "Other", "label": {"en": "Other", "es": "Otro"}}]
        questions.append(question)
    return questions


def label(spec: dict[str, Any], lang: str) -> str:
    labels = spec.get("label") or {}
    return labels.get(lang) or labels.get("en") or spec.get("key", "")
