"""One real reviewer's path in a real headless browser (Debian's chromium + chromedriver, selenium):
open a note, accept one fact (keyboard), reject another with a reason (the reason list and button),
correct a third by selecting text in the note (then the `c` key), reload, and see the three
decisions; they are in the store too. A screenshot is kept under the test's tmp dir on failure."""

from __future__ import annotations

import shutil
import threading
import time

import pytest
from conftest import keys_of, make_client

from kgqa.review.server import ReviewSettings, create_app
from kgqa.stores.testing import free_port

pytestmark = pytest.mark.integration

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")
if not (CHROMIUM and CHROMEDRIVER):
    pytest.skip("chromium and chromedriver are not installed (apt-get install -y chromium chromium-driver)",
                allow_module_level=True)
webdriver = pytest.importorskip("selenium.webdriver", reason="selenium is not installed (pip install selenium)")
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select, WebDriverWait

FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-dev-shm-usage",
         "--window-size=1400,1000")

#: select [start, end) of the note (code points) in the rendered text, as a reviewer's drag would
SELECT_JS = """
const [start, end] = [arguments[0], arguments[1]];
const root = document.getElementById('note-text');
const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
let seen = 0, range = document.createRange(), node;
function place(target, setter) {
  // the text node and UTF-16 index holding code point number `target`
  const walk = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
  let count = 0, n;
  while ((n = walk.nextNode())) {
    const points = Array.from(n.data);
    if (count + points.length >= target) {
      setter(n, points.slice(0, target - count).join('').length);
      return;
    }
    count += points.length;
  }
}
place(start, (n, i) => range.setStart(n, i));
place(end, (n, i) => range.setEnd(n, i));
const sel = window.getSelection();
sel.removeAllRanges();
sel.addRange(range);
return sel.toString();
"""


@pytest.fixture
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
def server(review, cat):
    """The review app served by uvicorn on a free loopback port, in this process (same store)."""
    import uvicorn

    port = free_port()
    app = create_app(review, cat, ReviewSettings(reviewer="rev-b", port=port))
    srv = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not srv.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        srv.should_exit = True
        thread.join(timeout=10)


def console_errors(browser) -> list[dict]:
    return [e for e in browser.get_log("browser") if e["level"] in ("SEVERE", "ERROR")]


def row(browser, concept: str):
    return browser.find_element(By.CSS_SELECTOR, f'li.fact[data-concept="{concept}"]')


def wait_state(browser, concept: str, state: str) -> None:
    # read in one script, not find-then-get_attribute: the page re-renders the row on every decision, and a
    # row replaced between the two WebDriver calls is a stale (or, in Chrome, "does not belong to the
    # document") error rather than a wrong answer
    def ready(driver):
        return driver.execute_script(
            "const r = document.querySelector(`li.fact[data-concept='${arguments[0]}']`);"
            "return r ? r.dataset.state : null;", concept) == state  # fmt: skip

    WebDriverWait(browser, 20).until(ready)


def test_accept_reject_and_correct_in_the_browser(browser, server, review, cat, notes, tmp_path):
    note = notes[0]
    try:
        browser.get(server + "/notes/0")
        assert browser.title.startswith("note-en")
        # the first fact is current; the text shows its evidence highlighted
        assert "current" in row(browser, "age").get_attribute("class")
        age = note.text.index("71")
        seg = browser.find_element(By.CSS_SELECTOR, f'.seg.hl[data-start="{age}"]')
        assert "active" in seg.get_attribute("class") and seg.text == "71"
        assert browser.execute_script("return document.getElementById('note-text').textContent") == note.text

        # 1. accept, from the keyboard
        ActionChains(browser).send_keys("a").perform()
        wait_state(browser, "age", "accept")

        # 2. reject another, with a reason chosen from the list
        nihss = row(browser, "nihss_score")
        Select(nihss.find_element(By.CSS_SELECTOR, "select.reason")).select_by_value("historical")
        row(browser, "nihss_score").find_element(By.CSS_SELECTOR, "button.reject").click()
        wait_state(browser, "nihss_score", "reject")

        # 3. correct a third by selecting the right text in the note, then `c`
        assert "current" in row(browser, "systolic_pressure").get_attribute("class")  # the next pending fact
        start = note.text.index("185")
        assert browser.execute_script(SELECT_JS, start, start + 3) == "185"
        ActionChains(browser).send_keys("c").perform()
        wait_state(browser, "systolic_pressure", "correct")

        browser.refresh()
        wait_state(browser, "systolic_pressure", "correct")
        badges = {c: row(browser, c).find_element(By.CSS_SELECTOR, ".decision").text
                  for c in ("age", "nihss_score", "systolic_pressure")}
        assert badges["age"].startswith("accepted by rev-b")
        assert badges["nihss_score"].startswith("rejected: historical by rev-b")
        assert badges["systolic_pressure"].startswith(f"corrected → 185 mmHg 185 [{start}, {start + 3})")
        assert row(browser, "thrombolysis").get_attribute("data-state") == "pending"
        assert browser.find_element(By.ID, "note-progress").text == "3 / 6"
        assert console_errors(browser) == []
    except BaseException:
        shot = tmp_path / "review-browser-failure.png"
        browser.save_screenshot(str(shot))
        print(f"screenshot of the failure: {shot}")
        raise

    # the three decisions are in the store, not only on the page
    with make_client(review, cat) as client:
        state = {f["concept"]: f for f in client.get("/api/notes/0/state").json()["facts"]}
        assert {c: state[c]["state"] for c in ("age", "nihss_score", "systolic_pressure")} == {
            "age": "accept", "nihss_score": "reject", "systolic_pressure": "correct"}
        assert state["nihss_score"]["reason"] == "historical" and state["age"]["reviewer"] == "rev-b"
        assert keys_of(client)  # the app over the same store still answers
