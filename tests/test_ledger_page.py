"""The real ledger as a reader meets it: its sentences, and the page in a real browser.

These tests read the ledger the last claims run wrote (``reports/ledger.json``
and ``ledger.html``, or the folder in ``$GDCUT_REPORTS``) and are skipped,
with the reason, where there is none.  ``scripts/test`` runs them once more
right after the claims run, so CI checks the ledger it just wrote.

The browser tests drive Debian's ``chromium`` with its ``chromedriver``
through Selenium (``apt-get install chromium chromium-driver``; ``scripts/test``
installs them when run as root) and are skipped where either is missing.
"""
from __future__ import annotations

import base64
import json
import os
import re
import shutil
import tempfile
from pathlib import Path

import pytest

REPORTS = Path(os.environ.get("GDCUT_REPORTS") or Path(__file__).resolve().parents[1] / "reports")
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"
# The machines running CI have no network and no display.
CHROMIUM_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync")
PHONE_WIDTH = 390

#: How the first sentence states both sides of each verdict that is not plain "holds" or "not-testable".
BOTH_SIDES = {
    "conditional": r"^Holds when \S.*, and fails when \S",
    "refuted": r"^Fails when \S.*; no tested condition supports it",
    "inconclusive": r"^Inconclusive because \S",
    "unexpected": r"^Unexpected: the suite's own expectation broke \(\S",
    "not-run": r"^Not run in this run: \S",
    "not-encoded": r"^Not encoded: no test is linked",
}


@pytest.fixture(scope="module")
def real_ledger() -> dict:
    path = REPORTS / "ledger.json"
    if not path.is_file():
        pytest.skip(f"no real ledger at {path}: run scripts/verify or scripts/test first")
    return json.loads(path.read_text(encoding="utf-8"))


def test_every_card_that_does_not_simply_hold_states_both_sides_first(real_ledger):
    unexplained = []
    for card in real_ledger["claims"]:
        if card["verdict"] in ("holds", "not-testable"):
            continue
        if not re.match(BOTH_SIDES[card["verdict"]], card["sentence"]):
            unexplained.append(f"{card['id']} ({card['verdict']}): {card['sentence']!r}")
        if card["verdict"] == "conditional":
            assert card["sides"]["supports"] and card["sides"]["refutes"], card["id"]
    assert not unexplained


def test_every_claim_of_the_registry_has_a_card_with_a_verdict(real_ledger):
    from gdcut.ledger.registry import registry

    assert [card["id"] for card in real_ledger["claims"]] == list(registry())
    assert all(card["verdict"] for card in real_ledger["claims"])


# --------------------------------------------------------------------------- browser
@pytest.fixture(scope="module")
def browser():
    webdriver = pytest.importorskip("selenium.webdriver", reason="selenium is not installed (pip install selenium)")
    for path, package in ((CHROMIUM, "chromium"), (CHROMEDRIVER, "chromium-driver")):
        if not Path(path).is_file():
            pytest.skip(f"{path} missing: apt-get install -y {package}")
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in CHROMIUM_FLAGS:
        options.add_argument(flag)
    with tempfile.TemporaryDirectory(prefix="gdcut-chromium-") as profile:
        options.add_argument(f"--user-data-dir={profile}")  # a fresh profile: nothing from earlier runs
        driver = webdriver.Chrome(options=options, service=Service(CHROMEDRIVER))
        try:
            yield driver
        finally:
            driver.quit()


@pytest.fixture
def page(browser, real_ledger):
    html = REPORTS / "ledger.html"
    if not html.is_file():
        pytest.skip(f"no real ledger page at {html}")
    browser.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": ""})
    browser.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
    browser.get(html.resolve().as_uri())
    return browser


def _visible_ids(driver) -> list[str]:
    return driver.execute_script(
        "return Array.from(document.querySelectorAll('.card')).filter(c => c.offsetParent !== null).map(c => c.id)")


def _click(driver, kind: str, value: str) -> None:
    driver.find_element("css selector", f'.controls button[data-filter="{kind}"][data-value="{value}"]').click()


def test_filters_combine_count_and_live_in_the_url(page, real_ledger):
    cards = real_ledger["claims"]
    verdict = max({c["verdict"] for c in cards}, key=lambda v: sum(c["verdict"] == v for c in cards))
    section = next(c["section"] for c in cards if c["verdict"] == verdict)
    _click(page, "verdict", verdict)
    _click(page, "section", section)
    expected = [c["id"] for c in cards if c["verdict"] == verdict and c["section"] == section]
    assert _visible_ids(page) == expected
    count = page.find_element("css selector", f'button[data-filter="section"][data-value="{section}"] .count')
    assert count.text == str(len(expected))
    assert f"verdict={verdict}" in page.current_url and f"section={section}" in page.current_url
    page.refresh()  # the state comes back from the URL
    assert _visible_ids(page) == expected
    search = page.find_element("id", "search")
    search.send_keys("no claim says this")
    assert _visible_ids(page) == [] and page.find_element("id", "empty").is_displayed()
    page.find_element("css selector", 'button[data-filter="reset"]').click()
    assert len(_visible_ids(page)) == len(cards)


# Elements wider than the viewport, outside the tables that scroll inside their card.
OVERFLOW = """
const width = document.documentElement.clientWidth;
return Array.from(document.body.querySelectorAll('*')).filter(el => {
  if (el.closest('.scroll')) { return false; }
  const box = el.getBoundingClientRect();
  return box.width > 0 && (box.right > width + 0.5 || box.left < -0.5);
}).map(el => el.tagName + (el.id ? '#' + el.id : '') + '.' + el.className);
"""


def test_nothing_overflows_a_phone_screen_and_the_top_is_saved(page):
    page.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                         {"width": PHONE_WIDTH, "height": 844, "deviceScaleFactor": 1, "mobile": True})
    page.refresh()
    assert page.execute_script("return document.documentElement.clientWidth") == PHONE_WIDTH
    overflowing = page.execute_script(OVERFLOW)
    assert overflowing == [], f"{len(overflowing)} elements wider than {PHONE_WIDTH} px: {overflowing[:10]}"
    assert page.execute_script("return document.documentElement.scrollWidth") <= PHONE_WIDTH
    (REPORTS / f"ledger-top-{PHONE_WIDTH}px.png").write_bytes(base64.b64decode(page.get_screenshot_as_base64()))
    page.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                         {"width": 1200, "height": 900, "deviceScaleFactor": 1, "mobile": False})
    page.refresh()
    (REPORTS / "ledger-top.png").write_bytes(base64.b64decode(page.get_screenshot_as_base64()))


def test_print_shows_every_section_and_hides_the_controls(page):
    page.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": "print"})
    hidden_sections = page.execute_script("""
        return Array.from(document.querySelectorAll('details > :not(summary)'))
            .filter(el => el.getClientRects().length === 0).length;""")
    assert hidden_sections == 0
    assert not page.find_element("css selector", ".controls").is_displayed()
    assert not any(link.is_displayed() for link in page.find_elements("css selector", ".downloads"))


def test_figures_download_as_svg_and_csv(page):
    links = page.execute_script("""
        return Array.from(document.querySelectorAll('figure .downloads a')).map(a => [a.download, a.href.slice(0, 30)]);""")
    if not links:
        pytest.skip("the real ledger has no figures (no run of a claim that draws one)")
    for name, href in links:
        kind = "image/svg+xml" if name.endswith(".svg") else "text/csv"
        assert href.startswith(f"data:{kind};base64,"), (name, href)
