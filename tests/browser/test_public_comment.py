"""Issue 5's "done when", in a browser against the real server and worker.

A member of the public, without JavaScript, comments in Spanish with a PDF
attached and gets a tracking number; the researcher approves it and sees the
phone number masked on the public page; imports the 199 real comments and
sees the form-letter campaigns grouped with counts.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.documents import make_pdf

DEMO_CSV = Path(__file__).resolve().parents[2] / "engage/demo_data/usda-2017-0002-comments.csv"
pytestmark = pytest.mark.browser


def test_public_comment_moderation_import_and_campaigns(browser, page, live_server, sign_in,
                                                        tmp_path):
    base = live_server["url"]
    public = browser.new_context(java_script_enabled=False, locale="es-MX")
    visitor = public.new_page()
    visitor.goto(f"{base}/c/draft-strategy")
    expect(visitor.locator("html")).to_have_attribute("lang", "es")  # from the browser
    visitor.get_by_role("link", name="Comentar este borrador").click()
    visitor.get_by_label("Su comentario", exact=True).fill(
        "Mi madre tiene Medicare y Medicaid. Necesitamos un solo plan. "
        "Llámeme al (919) 555-0142.")
    visitor.get_by_label("¿Sobre qué parte del borrador").select_option("Vision")
    visitor.get_by_label("Sí", exact=True).check()
    visitor.get_by_label("Adjuntar un documento (opcional)").set_input_files(
        make_pdf(tmp_path / "carta.pdf", "Necesitamos transporte a las citas."))
    visitor.get_by_label(re.compile("Pueden publicar mi comentario")).check()
    visitor.wait_for_timeout(5_200)  # a person takes longer than the minimum fill time
    visitor.get_by_role("button", name="Enviar comentario").click()
    expect(visitor.get_by_role("heading", level=1)).to_have_text(
        "Gracias. Recibimos su comentario.")
    tracking = visitor.locator(".tracking").inner_text().strip()
    assert re.fullmatch(r"ENG-[0-9A-Z]{4}-[0-9A-Z]{4}", tracking)
    public.close()

    sign_in(page, "researcher")
    page.get_by_role("link", name="Demo: Medicare-Medicaid integration strategy").click()
    page.get_by_role("navigation", name="Study").get_by_role("link", name="Consultations").click()
    page.get_by_role("link", name="Draft Medicare-Medicaid integration strategy").click()
    page.get_by_role("link", name=re.compile("Pending")).click()
    page.get_by_role("link", name=tracking).click()
    expect(page.locator("mark.redacted")).to_have_text("(919) 555-0142")
    expect(page.get_by_role("link", name="carta.pdf")).to_be_visible()
    expect(page.get_by_text("Necesitamos transporte a las citas.")).to_be_visible()
    page.get_by_label("Action").select_option("approve")
    page.get_by_role("button", name="Apply").click()
    expect(page.locator(".flash")).to_contain_text("is now approved")

    page.goto(f"{base}/c/draft-strategy/comments?lang=es")
    comment = page.locator("ol.comments li").first
    expect(comment).to_contain_text("Llámeme al [phone].")
    assert "555-0142" not in page.content()

    page.goto(base + "/")
    page.get_by_role("link", name="Demo: Medicare-Medicaid integration strategy").click()
    page.get_by_role("navigation", name="Study").get_by_role("link", name="Consultations").click()
    page.get_by_role("link", name="Draft Medicare-Medicaid integration strategy").click()
    overview = page.url
    page.get_by_role("link", name="Import comments from CSV").click()
    page.get_by_label("CSV file").set_input_files(DEMO_CSV)
    page.get_by_role("button", name="Preview").click()
    expect(page.get_by_text("199 rows and 2 columns")).to_be_visible()
    expect(page.get_by_label("Comment text")).to_have_value("Text Comment")
    page.get_by_role("button", name="Import comments").click()
    expect(page.locator("[data-job-field=status]")).to_have_text("succeeded", timeout=60_000)
    expect(page.get_by_text(re.compile("Imported 199 comments"))).to_be_visible()

    page.goto(overview)
    page.get_by_role("link", name="Group campaigns").click()
    boilerplate = page.get_by_label("Boilerplate to ignore (one line each)")
    expect(boilerplate).to_have_value(re.compile("^Re: Supplemental Nutrition Assistance"))
    page.get_by_role("button", name="Group campaigns").click()
    expect(page.locator("[data-job-field=status]")).to_have_text("succeeded", timeout=60_000)
    page.goto(overview)
    page.get_by_role("link", name=re.compile("Campaigns")).click()
    expect(page.get_by_text("3 campaigns, 16 comments in all")).to_be_visible()
    rows = page.locator("tbody tr")
    expect(rows.first.locator("td").nth(1)).to_have_text("11")
