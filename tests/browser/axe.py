"""Running axe-core (installed from npm into node_modules/) on a page."""

from __future__ import annotations

from pathlib import Path

AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
WCAG_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]


def serious_violations(page) -> list[str]:
    """WCAG 2.1 A/AA violations of impact serious or critical, described for a failure."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        # Evaluated through DevTools, so the page's CSP (script-src 'self') does not apply.
        page.evaluate(AXE.read_text())
    result = page.evaluate(
        "async (tags) => await axe.run(document, {runOnly: {type: 'tag', values: tags}})",
        WCAG_AA)
    return [
        f"{v['id']} ({v['impact']}): {v['help']} — "
        + "; ".join(node["target"][0] if isinstance(node["target"][0], str) else str(
            node["target"]) for node in v["nodes"][:5])
        for v in result["violations"] if v["impact"] in ("serious", "critical")
    ]


def fits_at_200_percent_zoom(page) -> bool:
    """At 200% zoom a 1280-px window is 640 CSS px wide: nothing may scroll sideways."""
    page.set_viewport_size({"width": 640, "height": 900})
    return page.evaluate(
        "document.documentElement.scrollWidth <= document.documentElement.clientWidth + 1")
