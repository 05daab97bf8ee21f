"""The real ledger as a reader meets it: its sentences, and the page in a real browser.

These tests read the ledger the last claims run wrote (``reports/ledger.json``
and ``ledger.html``, or the folder in ``$GDCUT_REPORTS``) and are skipped,
with the reason, where there is none. Besides the page's behaviour they check
its labels: every sentence and side reads for a reader, origins that name the
paper's values match the registry, no claim ID names a loss, the cost adds up,
the provenance names only what applies to the device, every row with a paper
value says how it compares, every rule is registered, and every link resolves
(the README's and the docs' too).  ``scripts/test`` runs them once more
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
ROOT = Path(__file__).resolve().parents[1]

#: How the first sentence states both sides of each verdict that is not plain "holds" or "not-testable".
BOTH_SIDES = {
    "conditional": r"^Holds when \S.*, and fails when \S",
    "refuted": r"^Fails when \S.*; no tested condition supports it",
    "inconclusive": r"^Inconclusive because \S",
    "unexpected": r"^Unexpected: the suite's own expectation broke \(\S",
    "not-run": r"^Not run in this run: \S",
    "not-encoded": r"^Not encoded: no test is linked",
}


def _count_words() -> tuple[str, ...]:
    from gdcut.ledger.verdict import COUNTS

    return tuple(COUNTS) + ("caveat",)


COUNT_WORDS = _count_words()


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


def test_every_card_reads_for_a_reader(real_ledger):
    """First sentences and sides in the paper reader's words: no test metadata (explain.reader_problems)."""
    from gdcut.ledger.explain import card_reading_problems

    problems = [p for card in real_ledger["claims"] for p in card_reading_problems(card)]
    assert not problems, f"{len(problems)} reading problems:\n" + "\n".join(problems)


def _card_texts(card: dict) -> list[str]:
    texts = [card.get("sentence", "")] + [t for side in card.get("sides", {}).values() for t in side]
    texts += card.get("conditions", []) + card.get("notes", [])
    for row in card.get("evidence", []) + card.get("caveat_evidence", []):
        texts += [row["name"], row.get("condition", "")]
    texts += [t["caption"] for t in card.get("tables", [])] + [f["caption"] for f in card.get("figures", [])]
    texts += [o["detail"] for o in card.get("origins", [])]
    return texts


def test_origins_that_name_the_papers_values_match_the_registry(real_ledger):
    """An origin that says it uses the paper's own numbers uses numbers the registry holds (L2's β0 once did not)."""
    from gdcut.ledger.registry import registry

    def numbers(value) -> set[str]:
        return set(re.findall(r"\d+\.\d+", str(value)))

    known = set()
    for claim in registry().values():
        known |= numbers(claim.summary) | {n for v in claim.paper_values for n in numbers(v.value)}
    wrong = [f"{card['id']}: {origin['detail']!r} names {sorted(numbers(origin['detail']) - known)}"
             for card in real_ledger["claims"] for origin in card.get("origins", [])
             if "the paper's" in origin["detail"] and numbers(origin["detail"]) - known]
    assert not wrong


# "RMSProp on L3", "autograd of L4", "L7(β0)": a claim ID read as the name of a loss.
CLAIM_ID_AS_LOSS = re.compile(r"\bon\s+[SCLEGX]\d{1,2}\b(?!'s|-)|"
                              r"\b(?:autograd|gradient|loss|Hessian)\s+of\s+[SCLEGX]\d{1,2}\b|"
                              r"\b[SCLEGX]\d{1,2}\((?:β|x|w)")


def test_no_claim_id_is_used_as_a_loss_name(real_ledger):
    misuses = [f"{card['id']}: {text!r}" for card in real_ledger["claims"] for text in _card_texts(card)
               if CLAIM_ID_AS_LOSS.search(text)]
    assert not misuses, "name a loss by its equation (\"the loss of eq. 7\"), not by a claim ID:\n" + "\n".join(misuses)


def test_the_compute_cost_adds_up(real_ledger):
    """Cards' tests, each counted once, and their training sum to the summary's; training is attributed to claims;
    the work fits in the wall clock."""
    for cost in real_ledger["summary"]["report"]["cost"]:
        own = [c for c in real_ledger["claims"] if c["run"] == cost["run"] and c["tests"]]
        once = {t["nodeid"]: t["duration_s"] for c in own for t in c["tests"]}  # a test on two cards ran once
        assert sum(once.values()) == pytest.approx(cost["claim_tests_s"], abs=0.5)
        assert sum(c["training_s"] for c in own) == pytest.approx(cost["training_s"], abs=0.5)
        assert all(c["time_s"] == pytest.approx(c["test_time_s"] + c["training_s"], abs=0.01) for c in own)
        parts = cost["claim_tests_s"] + cost["training_s"] + cost["other_tests_s"] + cost["unattributed_training_s"]
        assert cost["work_s"] == pytest.approx(parts, abs=0.5)
        if cost["wall_s"] is not None:  # the work of the run's processes fits in its wall clock
            assert cost["per_process_s"] <= cost["wall_s"] * 1.05 + 1


CUDA_WORDS = re.compile(r"cuDNN|cudnn|TF32|tf32")


def test_the_provenance_names_only_what_applies_to_the_device(real_ledger):
    for key, run in real_ledger["runs"].items():
        if "no CUDA" not in str(run.get("device", "")):
            continue
        provenance = real_ledger["provenance"] if key == real_ledger["run"] else {}
        named = [f"provenance {k}: {v}" for k, v in provenance.items() if CUDA_WORDS.search(f"{k} {v}")]
        named += [f"{card['id']}: {text!r}" for card in real_ledger["claims"] if card["run"] == key
                  for text in _card_texts(card) if CUDA_WORDS.search(text)]
        assert not named, "CUDA settings named on a machine without CUDA:\n" + "\n".join(named)


def test_every_row_says_what_it_counts_as_and_how_it_compares(real_ledger):
    rows = [(card["id"], row, place) for card in real_ledger["claims"]
            for place in ("evidence", "caveat_evidence") for row in card.get(place, [])]
    assert all(row["counts_as"] in COUNT_WORDS for _, row, _ in rows if row["counts_as"])
    assert not [(i, row["name"]) for i, row, place in rows
                if place == "evidence" and row["counts_as"] in ("void", "caveat")], "caveat rows in a verdict's table"
    from gdcut.ledger.explain import criterion

    uncompared = [f"{i}: {row['name']} {row['measured']!r} vs {row['paper']!r}" for i, row, _ in rows
                  if row["paper"] is not None and not row["agreement"] and criterion(row["paper"]) is not None
                  and row["counts_as"] in ("supports", "refutes", "decides")]
    assert not uncompared, "a number, bound or range left without agrees/disagrees:\n" + "\n".join(uncompared)
    spoke = [f"{i}: {row['name']}" for i, row, _ in rows
             if row["agreement"] in ("agrees", "disagrees") and row["counts_as"] in ("inconclusive", "void")]
    assert not spoke, "a row whose run cannot speak agrees or disagrees:\n" + "\n".join(spoke)


def test_every_decision_rule_is_registered(real_ledger):
    groups = [(card["id"], group) for card in real_ledger["claims"] for group in card["decisions"]]
    assert all(re.fullmatch(r"[0-9a-f]{16}", g["rule_digest"]) for _, g in groups)
    registered = re.compile(r"[0-9a-f]{10} \d{4}-\d\d-\d\dT|unverified|uncommitted")
    assert all(registered.match(g["rule_commit"]) for _, g in groups)
    tests = [t for card in real_ledger["claims"] for t in card["tests"]]
    assert all(re.fullmatch(r"[0-9a-f]{16}", t["code_digest"]) and registered.match(t["code_commit"]) for t in tests)
    assert registered.match(real_ledger["rulebook"]["rule_commit"])


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
    # the page's script sets each SVG link once the page has loaded; an earlier test may have just reloaded it
    from selenium.webdriver.support.ui import WebDriverWait

    WebDriverWait(page, 60).until(lambda driver: driver.execute_script("return document.readyState") == "complete")
    links = page.execute_script("""
        return Array.from(document.querySelectorAll('figure .downloads a')).map(a => [a.download, a.href.slice(0, 30)]);""")
    if not links:
        pytest.skip("the real ledger has no figures (no run of a claim that draws one)")
    for name, href in links:
        kind = "image/svg+xml" if name.endswith(".svg") else "text/csv"
        assert href.startswith(f"data:{kind};base64,"), (name, href)


# What the summary is made of, each part an element of the page (ledger.html.j2).
SUMMARY_PARTS = ("scope", "reproduces", "fails", "counterexamples", "conditional", "unsettled", "registered", "cost")
READ_CARDS = """
return Array.from(document.querySelectorAll('.card')).map(card => [card.id,
  (card.querySelector('.sentence') || {textContent: ''}).textContent,
  Array.from(card.querySelectorAll('.sides li')).map(li => li.textContent)]);
"""
READ_ROWS = """
return Array.from(document.querySelectorAll('table.evidence tr'))
  .filter(tr => tr.cells.length === 6 && tr.cells[0].tagName === 'TD')
  .map(tr => [tr.closest('.card').id, tr.cells[0].textContent, tr.cells[1].textContent, tr.cells[5].textContent]);
"""


def _at_width(page, width: int):
    page.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                         {"width": width, "height": 900, "deviceScaleFactor": 1, "mobile": width < 720})
    page.refresh()
    return page


@pytest.mark.parametrize("width", [1280, PHONE_WIDTH])
def test_the_summary_on_the_page(page, real_ledger, width):
    page = _at_width(page, width)
    for part in SUMMARY_PARTS:
        element = page.find_element("id", part)
        assert element.is_displayed() and element.text.strip(), part
    report = real_ledger["summary"]["report"]
    for part in ("fails", "counterexamples", "conditional", "unsettled"):  # one entry per claim, each linking to its card
        listed = page.execute_script(f"return Array.from(document.getElementById('{part}').nextElementSibling"
                                     ".querySelectorAll('li > a:first-child')).map(a => a.getAttribute('href'));")
        assert listed == [f"#{c['id']}" for c in report[part]], part


@pytest.mark.parametrize("width", [1280, PHONE_WIDTH])
def test_the_reading_check_on_every_card_of_the_page(page, width):
    from gdcut.ledger.explain import reader_problems

    problems = [f"{card_id}: {p}" for card_id, sentence, sides in _at_width(page, width).execute_script(READ_CARDS)
                for text in [sentence, *sides] for p in reader_problems(text)]
    assert not problems, "\n".join(problems[:20])


@pytest.mark.parametrize("width", [1280, PHONE_WIDTH])
def test_every_row_with_a_paper_value_says_how_it_compares_on_the_page(page, width):
    rows = _at_width(page, width).execute_script(READ_ROWS)
    unread = [row for row in rows if row[2].split("(")[0].strip() not in ("—", "")
              and not re.match(r"(agrees|disagrees|cannot speak|not compared)", row[3].strip())]
    assert rows and not unread, f"rows with a paper value and no comparison: {unread[:10]}"


def _markdown_links(path: Path) -> list[str]:
    text = re.sub(r"```.*?```", "", path.read_text(encoding="utf-8"), flags=re.S)
    return re.findall(r"\[[^\]]*\]\(([^)\s]+)\)", text)


def test_every_link_from_the_readme_and_the_docs_resolves():
    documents = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
    broken = []
    for document in documents:
        for link in _markdown_links(document):
            if re.match(r"[a-z]+://", link):
                continue
            target = (document.parent / link.split("#")[0]).resolve()
            if not target.exists():
                broken.append(f"{document.relative_to(ROOT)}: {link}")
    assert not broken
    assert len((ROOT / "README.md").read_text(encoding="utf-8").splitlines()) <= 150


def test_every_link_on_the_ledger_page_resolves(page):
    from urllib.parse import unquote, urlparse

    links = page.execute_script("return Array.from(document.querySelectorAll('a[href]')).map(a => a.href);")
    ids = set(page.execute_script("return Array.from(document.querySelectorAll('[id]')).map(e => e.id);"))
    broken = []
    for link in links:
        parsed = urlparse(link)
        if parsed.scheme == "data":
            continue
        if parsed.scheme != "file":
            broken.append(link)
        elif parsed.fragment and Path(unquote(parsed.path)) == (REPORTS / "ledger.html").resolve():
            if parsed.fragment not in ids:
                broken.append(link)
        elif not Path(unquote(parsed.path)).exists():
            broken.append(link)
    assert not broken, broken[:10]
