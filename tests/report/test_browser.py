"""End to end in a real headless browser (Debian's chromium + chromedriver, driven by selenium):
the pages load without console errors, highlights are visible, clicking one shows its fact,
hostile note text does not run, the index sorts and filters. Screenshots go to test-artifacts/report/."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from kgqa import PROJECT_ROOT
from kgqa.report import write_report

pytestmark = pytest.mark.integration

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")
if not (CHROMIUM and CHROMEDRIVER):
    pytest.skip("chromium and chromedriver are not installed (apt-get install -y chromium chromium-driver)",
                allow_module_level=True)
webdriver = pytest.importorskip("selenium.webdriver", reason="selenium is not installed (pip install selenium)")
from selenium.webdriver.common.by import By

ARTIFACTS = PROJECT_ROOT / "test-artifacts" / "report"
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-dev-shm-usage", "--window-size=1400,900")


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}")
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(30)
    try:
        yield driver
    finally:
        driver.quit()


@pytest.fixture
def report(tmp_path, notes, facts, concepts):
    return write_report(notes, facts, concepts, tmp_path / "report", run={"run_id": "browser-test"})


def open_page(browser, path: Path) -> None:
    browser.get_log("browser")  # drop what earlier pages logged
    browser.get(path.resolve().as_uri())


def console_errors(browser) -> list[dict]:
    return [e for e in browser.get_log("browser") if e["level"] in ("SEVERE", "ERROR")]


def screenshot(browser, name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / name
    assert browser.save_screenshot(str(path)), f"no screenshot written to {path}"
    return path


def visible_cards(browser) -> list:
    return [c for c in browser.find_elements(By.CSS_SELECTOR, "#details .fact-card") if c.is_displayed()]


def test_clicking_a_highlight_shows_its_fact(browser, report, notes, facts):
    note = next(n for n in notes if n.lang == "el")
    open_page(browser, report.notes[note.id])
    assert browser.title.startswith(note.id)
    details = browser.find_element(By.ID, "details")
    assert not details.is_displayed()

    thrombolysis = next(f for f in facts if f.note_id == note.id and f.concept_id == "thrombolysis")
    seg = browser.find_element(By.CSS_SELECTOR, f'.seg.hl[data-start="{thrombolysis.answer.start}"]')
    assert seg.is_displayed() and seg.size["width"] > 0 and seg.size["height"] > 0
    assert seg.text == thrombolysis.answer.text
    # the highlight is painted: the mark has its group's background, not transparent
    colour = browser.execute_script("return getComputedStyle(arguments[0].querySelector('mark')).backgroundColor", seg)
    assert colour not in ("rgba(0, 0, 0, 0)", "transparent")

    from selenium.webdriver.common.action_chains import ActionChains

    ActionChains(browser).move_to_element(seg).perform()  # hover previews the facts
    assert details.is_displayed()
    assert [c.get_attribute("data-concept") for c in visible_cards(browser)] == ["thrombolysis"]
    ActionChains(browser).move_to_element(browser.find_element(By.CSS_SELECTOR, "h1")).perform()
    assert not details.is_displayed()

    seg.click()
    assert details.is_displayed()
    cards = visible_cards(browser)
    assert [c.get_attribute("data-concept") for c in cards] == ["thrombolysis"]
    text = cards[0].text
    assert "yes" in text and "0.900" in text and "Q about thrombolysis?" in text and thrombolysis.answer.text in text
    assert "active" in seg.get_attribute("class")

    # a segment where two spans overlap shows both facts
    stroke = next(f for f in facts if f.note_id == note.id and f.concept_id == "stroke_type")
    browser.find_element(By.CSS_SELECTOR, f'.seg.hl[data-start="{stroke.answer.start}"]').click()
    assert sorted(c.get_attribute("data-concept") for c in visible_cards(browser)) == [
        "atrial_fibrillation", "stroke_type"]
    assert "http://snomed.info/id/422504002" in details.text
    path = screenshot(browser, "note-el-clicked.png")
    assert path.stat().st_size > 10_000
    browser.find_element(By.ID, "details-close").click()
    assert not details.is_displayed()
    seg.send_keys("\n")  # keyboard: a focused highlight opens like a click
    assert [c.get_attribute("data-concept") for c in visible_cards(browser)] == ["thrombolysis"]
    assert console_errors(browser) == []


def test_all_seven_scripts_render_with_every_span_visible(browser, report, notes, facts):
    for note in notes:
        open_page(browser, report.notes[note.id])
        # the DOM holds the note's exact code points (CRs and invisible characters included)
        assert browser.execute_script("return document.getElementById('note-text').textContent") == note.text
        for fact in (f for f in facts if f.note_id == note.id and f.answer is not None):
            segs = [s for s in browser.find_elements(By.CSS_SELECTOR, ".seg.hl")
                    if int(s.get_attribute("data-start")) >= fact.answer.start
                    and int(s.get_attribute("data-end")) <= fact.answer.end]
            assert segs and all(s.size["width"] > 0 and s.size["height"] > 0 for s in segs), (note.id, fact.concept_id)
        assert console_errors(browser) == [], note.id
    screenshot(browser, "note-last.png")


def test_questionnaire_value_jumps_to_its_span(browser, report, notes, facts):
    note = next(n for n in notes if n.lang == "bg")
    open_page(browser, report.notes[note.id])
    browser.find_element(By.CSS_SELECTOR, 'tr[data-concept="discharge_antiplatelet"] button.val').click()
    active = browser.find_elements(By.CSS_SELECTOR, ".seg.hl.active")
    drug = next(f for f in facts if f.note_id == note.id and f.concept_id == "discharge_antiplatelet")
    assert "".join(a.text for a in active) == drug.answer.text
    assert [c.get_attribute("data-concept") for c in visible_cards(browser)] == ["discharge_antiplatelet"]

    def row(concept):
        return browser.find_element(By.CSS_SELECTOR, f'tr[data-concept="{concept}"]')

    assert row("onset_time").is_displayed()
    browser.find_element(By.ID, "hide-not-found").click()
    assert not row("onset_time").is_displayed() and row("stroke_type").is_displayed()
    assert row("mrs_discharge").is_displayed()  # only a rejected value: still something to review
    assert console_errors(browser) == []


def test_hostile_note_is_shown_and_not_run(browser, report, notes):
    hostile = notes[-1]
    open_page(browser, report.notes[hostile.id])
    assert browser.execute_script("return window.__pwned === undefined")
    assert browser.title.startswith(hostile.id)
    assert not browser.find_elements(By.CSS_SELECTOR, "#note-text img, #note-text script")
    shown = browser.find_element(By.ID, "note-text").text
    assert '<script>document.title="pwned";window.__pwned=1</script>' in shown
    assert browser.execute_script(
        "return document.getElementById('note-text').textContent") == hostile.text
    screenshot(browser, "note-hostile.png")
    assert console_errors(browser) == []


def test_index_sorts_and_filters(browser, report, notes):
    open_page(browser, report.index)
    img = browser.find_element(By.ID, "summary-figure")
    assert browser.execute_script("return arguments[0].complete && arguments[0].naturalWidth", img) > 300

    def shown_ids():
        return [r.get_attribute("data-id") for r in browser.find_elements(By.CSS_SELECTOR, "tr.note-row")
                if r.is_displayed()]

    length = {n.id: len(n.text) for n in notes}
    browser.find_element(By.CSS_SELECTOR, 'th[data-key="chars"]').click()
    assert [length[i] for i in shown_ids()] == sorted(length.values())
    browser.find_element(By.CSS_SELECTOR, 'th[data-key="chars"]').click()
    assert [length[i] for i in shown_ids()] == sorted(length.values(), reverse=True)
    browser.find_element(By.CSS_SELECTOR, 'th[data-key="id"]').click()  # text keys sort too
    assert shown_ids() == sorted(length, key=lambda i: (i.lower(), i))

    from selenium.webdriver.support.ui import Select

    Select(browser.find_element(By.ID, "filter-lang")).select_by_value("en")
    assert sorted(shown_ids()) == sorted(n.id for n in notes if n.lang == "en")
    browser.find_element(By.ID, "filter-flagged").click()
    assert sorted(shown_ids()) == sorted(["note-en", notes[-1].id])  # not "clean-en": nothing to flag there
    browser.find_element(By.ID, "filter-flagged").click()
    browser.find_element(By.ID, "filter-text").send_keys("CLEAN")
    assert shown_ids() == ["clean-en"]
    assert browser.find_element(By.ID, "shown-count").text == "1 shown"
    screenshot(browser, "index.png")
    assert console_errors(browser) == []
