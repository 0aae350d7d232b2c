"""Campaign templates, personal additions, weights and boilerplate suggestions."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from coding.campaigns import group_campaigns
from coding.form_letters import (
    campaign_template,
    comment_weights,
    personal_addition,
    suggest_boilerplate,
)

CSV_PATH = Path(__file__).resolve().parents[2] / "engage/demo_data/usda-2017-0002-comments.csv"
SNAP_CLOSING = (
    "Re: Supplemental Nutrition Assistance Program: Requirements and Services for "
    "Able-Bodied Adults without Dependents (previously under Docket ID FNS-2018-0004-0001)"
)
LETTER = (
    "Dear Medicaid Director,\n\n"
    "As a family caregiver for a parent who is eligible for both Medicare and Medicaid, "
    "I urge the state to adopt a fully integrated care model. Please keep current doctors "
    "in network during a transition period of at least twelve months.\n\n"
    "Thank you for listening to the people this strategy is meant to serve.\n\nSincerely,\n"
)
PERSONAL = "My mother lost her home care aide last winter because of the paperwork."


def _members() -> list[str]:
    return [
        LETTER + "Jane Doe",
        LETTER + "Carlos Ruiz",
        LETTER.replace("twelve months", "six months") + "Bo Chen",
        LETTER.replace("Thank you", PERSONAL + " Thank you") + "Rita Gomez",
        LETTER.upper() + "ANN LEE",
    ]


def test_template_is_the_shared_letter_without_signatures_or_personal_lines():
    members = _members()
    template = campaign_template(members, representative=3)  # the one with a personal line
    assert PERSONAL not in template and "Rita" not in template
    assert template.startswith("Dear Medicaid Director,")
    assert "at least twelve months." in template
    assert "\n\nThank you for listening" in template  # paragraph breaks survive
    assert template.endswith("Sincerely,")


def test_personal_additions_in_the_members_own_words():
    members = _members()
    template = campaign_template(members, representative=0)
    additions = [personal_addition(text, template) for text in members]
    assert additions[3] == PERSONAL
    # A signature or one changed word is not a personal addition.
    assert additions[0] is None and additions[1] is None and additions[2] is None
    assert additions[4] is None  # case changes only
    assert personal_addition("", template) is None
    assert personal_addition("Completely different words about billing and aides here.",
                             template) == "Completely different words about billing and aides here."


def test_single_member_and_empty_text():
    assert campaign_template(["  One letter.  "]) == "One letter."
    assert campaign_template(["...", "..."]) == "..."


def test_weights_count_a_campaign_as_one_voice_or_n():
    pairs = [(1, None), (2, 10), (3, 10), (4, 10), (5, 11), (6, 11)]
    assert comment_weights(pairs, "n") == {i: 1.0 for i in range(1, 7)}
    one = comment_weights(pairs, "one")
    assert one[1] == 1.0 and one[2] == pytest.approx(1 / 3) and one[5] == 0.5
    assert sum(one.values()) == pytest.approx(3.0)  # one unaffiliated + two campaigns
    with pytest.raises(ValueError):
        comment_weights(pairs, "all")


def _real() -> list[tuple[str, str]]:
    with CSV_PATH.open(newline="", encoding="utf-8") as fh:
        return [(row["Document ID"], row["Text Comment"]) for row in csv.DictReader(fh)]


def test_boilerplate_suggestion_on_the_real_docket_finds_the_snap_line_only():
    real = _real()
    suggestions = suggest_boilerplate([t for _, t in real])
    assert suggestions == [(SNAP_CLOSING, 162)]


def test_boilerplate_suggestion_leaves_a_form_letter_alone():
    letters = [LETTER + f"Person {i}" for i in range(30)]
    assert all("Dear" not in line for line, _ in suggest_boilerplate(letters, min_words=3))
    one_liners = [f"I support integrated care for dual eligible people in our state\nPerson {i}"
                  for i in range(30)]
    assert suggest_boilerplate(one_liners) == []


def test_describe_real_campaigns_end_to_end():
    real = _real()
    text = dict(real)
    campaigns = group_campaigns(real, boilerplate=(SNAP_CLOSING,))
    biggest = campaigns[0]
    texts = [text[i] for i in biggest.ids]
    template = campaign_template(texts, biggest.ids.index(biggest.representative_id))
    assert "reinstate" in template.lower()
    additions = {i: personal_addition(text[i], template) for i in biggest.ids}
    assert additions[biggest.representative_id] is None
