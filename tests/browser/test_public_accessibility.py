"""Public comment pages and consultation pages against axe-core (WCAG 2.1 A/AA), and reflow.

The public pages are checked in each state a commenter meets them: the draft,
the form in English and Spanish, the form with errors, the receipt and the
published comments; the researcher's consultation pages too.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.axe import fits_at_200_percent_zoom, serious_violations

pytestmark = pytest.mark.browser
CONSULTATION = "/studies/1/consultations/1"
RESEARCHER = ["/studies/1/consultations", CONSULTATION, f"{CONSULTATION}/comments",
              f"{CONSULTATION}/campaigns", f"{CONSULTATION}/campaigns/group",
              f"{CONSULTATION}/import", f"{CONSULTATION}/edit", "/studies/1/consultations/new"]


def test_public_pages_in_every_state(page, live_server):
    base = live_server["url"]
    found = {}
    page.goto(f"{base}/c/draft-strategy")
    found["draft"] = serious_violations(page)
    page.goto(f"{base}/c/draft-strategy/comment")
    found["form"] = serious_violations(page)
    page.goto(f"{base}/c/draft-strategy/comment?lang=es")
    found["form es"] = serious_violations(page)
    page.get_by_label("Correo electrónico para recibir un comprobante (opcional)").fill("x")
    page.get_by_role("button", name="Enviar comentario").click()
    expect(page.get_by_role("alert")).to_contain_text("Hay un problema")
    found["form with errors"] = serious_violations(page)
    # An error summary link takes focus to its field.
    page.get_by_role("link", name="Escriba su comentario.").click()
    assert page.evaluate("document.activeElement.id") == "body"
    page.get_by_label("Su comentario", exact=True).fill("Necesitamos un solo plan.")
    page.get_by_label("Correo electrónico para recibir un comprobante (opcional)").fill("")
    page.get_by_role("button", name="Enviar comentario").click()
    expect(page.locator(".tracking")).to_be_visible()
    found["receipt"] = serious_violations(page)
    page.goto(f"{base}/c/draft-strategy/comments")
    found["published"] = serious_violations(page)
    assert {state: v for state, v in found.items() if v} == {}
    page.goto(f"{base}/c/draft-strategy/comment")
    assert fits_at_200_percent_zoom(page)


@pytest.mark.parametrize("path", RESEARCHER)
def test_consultation_pages(page, live_server, sign_in, path):
    sign_in(page, "researcher")
    page.goto(live_server["url"] + path)
    assert serious_violations(page) == []
    assert fits_at_200_percent_zoom(page), f"{path} scrolls sideways at 200% zoom"
