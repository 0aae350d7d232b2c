"""The scheduling flow end to end in Chromium, without JavaScript on the booking pages.

A researcher offers slots to five demo participants; two book through their links
(one in Spanish), one of them moves to another time; reminders land in the outbox;
the researcher sees the calendar, marks attendance; a coder sees no contact details.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import expect

from tests.browser.axe import serious_violations

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.browser
INVITED = ["Dana Whitfield", "Luis Ortega", "Priya Raman", "Marcus Bell", "Ruth Alvarez"]


def _times() -> list[str]:
    """Three future times in New York: one within the reminder window, two later."""
    now = datetime.now(ZoneInfo("America/New_York")).replace(second=0, microsecond=0)
    soon = now + timedelta(hours=6, minutes=15 - now.minute % 15)
    later = (now + timedelta(days=6)).replace(hour=10, minute=0)
    return [t.strftime("%Y-%m-%d %H:%M") for t in (soon, later, later + timedelta(days=1))]


def test_offer_book_in_spanish_reschedule_remind_attend_and_hide_contacts(
        browser, page, live_server, sign_in):
    sign_in(page, "researcher")
    page.get_by_role("link", name="Demo: Medicare-Medicaid integration strategy").click()
    page.get_by_role("navigation", name="Study").get_by_role("link", name="Sessions").click()
    page.get_by_role("link", name="Offer slots to participants").click()
    assert serious_violations(page) == []
    page.get_by_label("Title").fill("Key-informant interviews")
    page.get_by_label(re.compile("^Times to offer")).fill("\n".join(_times()))
    page.get_by_label("Time zone (IANA name)").fill("America/New_York")
    page.get_by_label("Duration (minutes)").fill("45")
    page.get_by_label(re.compile("^Minimum notice")).fill("1")
    page.get_by_label("Location").fill("Video call")
    invite = page.get_by_role("group", name="Invite these participants")
    for name in INVITED:
        invite.get_by_label(re.compile("^" + name)).check()
    page.get_by_role("button", name="Offer slots and send invitations").click()
    expect(page.locator(".flash-success")).to_contain_text("Offered 3 time(s) to 5")

    links = {name: page.get_by_label(f"Booking link for {name}").input_value()
             for name in ("Dana Whitfield", "Ruth Alvarez")}

    # Participants have no account and need no JavaScript.
    guest = browser.new_context(java_script_enabled=False, locale="en-US")
    dana = guest.new_page()
    dana.goto(links["Dana Whitfield"])
    expect(dana.get_by_role("heading", level=1)).to_have_text("Hello Dana Whitfield")
    dana.get_by_role("button", name="Book this time").click()  # nothing chosen yet
    alert = dana.get_by_role("alert")
    expect(alert).to_contain_text("Choose one of the offered times.")
    expect(alert).to_contain_text("Type your name to give consent.")
    expect(alert).to_contain_text("Check the box to give consent.")
    dana.locator("input[name=slot]").nth(0).check()
    dana.get_by_label("Type your full name").fill("Dana Whitfield")
    dana.get_by_label("I have read the consent text and agree to take part.").check()
    dana.get_by_role("button", name="Book this time").click()
    expect(dana.get_by_role("status")).to_contain_text("You are booked.")

    ruth = guest.new_page()
    ruth.goto(links["Ruth Alvarez"])
    ruth.get_by_role("link", name="Español").click()
    expect(ruth.locator("html")).to_have_attribute("lang", "es")
    expect(ruth.locator("input[name=slot]").nth(0)).to_be_disabled()  # Dana took it
    ruth.locator("input[name=slot]").nth(1).check()
    ruth.get_by_label("Escriba su nombre completo").fill("Ruth Alvarez")
    ruth.get_by_label("He leído el texto de consentimiento y acepto participar.").check()
    ruth.get_by_role("button", name="Reservar este horario").click()
    expect(ruth.get_by_role("status")).to_contain_text("Su reserva está confirmada.")

    # Dana moves to the last time from the same link.
    dana.goto(links["Dana Whitfield"])
    dana.locator("input[name=slot]").nth(2).check()
    dana.get_by_role("button", name="Move my booking").click()
    expect(dana.get_by_role("status")).to_contain_text("Your booking was moved.")
    guest.close()

    # An accessibility scan of the booking page (axe needs JavaScript).
    checked = browser.new_context()
    scan = checked.new_page()
    scan.goto(links["Ruth Alvarez"])
    assert serious_violations(scan) == []
    checked.close()

    # Luis books the soon slot; the reminders run as cron (or beat) would run them.
    page.goto(page.url)
    luis_link = page.get_by_label("Booking link for Luis Ortega").input_value()
    luis = browser.new_context(java_script_enabled=False).new_page()
    luis.goto(luis_link)
    luis.locator("input[name=slot]").nth(0).check()
    luis.get_by_label("Type your full name").fill("Luis Ortega")
    luis.get_by_label("I have read the consent text and agree to take part.").check()
    luis.get_by_role("button", name="Book this time").click()
    expect(luis.get_by_role("status")).to_contain_text("You are booked.")
    luis.context.close()
    env = dict(os.environ, ENGAGE_INSTANCE_PATH=str(live_server["instance"]))
    sent = subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", "engage",
                           "send-reminders"], cwd=ROOT, env=env, capture_output=True,
                          text=True, check=True)
    assert "Sent 1 reminder(s)." in sent.stdout

    # The researcher's calendar and outbox.
    page.get_by_role("navigation", name="Study").get_by_role("link", name="Sessions").click()
    expect(page.locator("table").first).to_contain_text("Key-informant interviews")
    assert serious_violations(page) == []
    page.get_by_role("link", name="Week", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Week of")
    page.get_by_role("navigation", name="Scheduling").get_by_role("link", name="Outbox").click()
    outbox = page.locator("table")
    expect(outbox).to_contain_text("Reminder: Key-informant interviews")
    expect(outbox).to_contain_text("Confirmado: Key-informant interviews")
    expect(outbox).to_contain_text("Changed: Key-informant interviews")
    assert outbox.locator("tbody tr").count() >= 5 + 3 + 2 + 1

    # Attendance on Luis's session.
    page.get_by_role("navigation", name="Scheduling").get_by_role("link",
                                                                  name="Sessions").click()
    page.locator("table").first.get_by_role("link", name="Key-informant interviews").first \
        .click()
    page.get_by_label("Select Luis Ortega").check()
    page.get_by_label("Mark selected as").select_option("attended")
    page.get_by_role("button", name="Mark attendance").click()
    expect(page.locator(".flash-success")).to_contain_text("Marked 1 participant(s) Attended")
    expect(page.locator("table").first).to_contain_text("luis@example.org")
    session_url = page.url

    # A coder on the same study sees names but no email addresses or phone numbers.
    coder_context = browser.new_context()
    coder = coder_context.new_page()
    sign_in(coder, "coder")
    study_base = re.sub(r"/sessions/\d+$", "", session_url)
    for path in (session_url, study_base + "/participants", study_base + "/sessions"):
        coder.goto(path)
        text = coder.locator("main").inner_text()
        assert "@example.org" not in text and "555-0100" not in text, path
    coder.goto(session_url)
    expect(coder.locator("main")).to_contain_text("Luis Ortega")
    coder_context.close()
