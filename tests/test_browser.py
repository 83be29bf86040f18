"""A headless Chromium against a real_site server: the landing page runs an example query into a table,
an entity page shows its neighbourhood SVG and a quote link that lands on the highlighted span of
the source page, and no script from the data ever runs. Screenshots go to artifacts/screenshots/."""
from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from _ldserver import EVIL
from conftest import ROOT

CHROMIUM, CHROMEDRIVER = Path("/usr/bin/chromium"), Path("/usr/bin/chromedriver")
SHOTS = ROOT / "artifacts" / "screenshots"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists() or not CHROMEDRIVER.exists(),
                       reason="needs Debian's chromium and chromium-driver (/usr/bin/chromium, /usr/bin/chromedriver)"),
]

webdriver = pytest.importorskip("selenium.webdriver")
from selenium.webdriver.chrome.service import Service  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support import expected_conditions as ec  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[webdriver.Chrome]:
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--window-size=1280,1600", f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}"):
        options.add_argument(arg)
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)   # no selenium-manager
    driver.set_page_load_timeout(30)
    SHOTS.mkdir(parents=True, exist_ok=True)
    yield driver
    driver.quit()


def wait(driver: webdriver.Chrome, seconds: float = 15) -> WebDriverWait:
    return WebDriverWait(driver, seconds)


def test_landing_page_runs_an_example_query(browser: webdriver.Chrome, real_site: str) -> None:
    browser.get(real_site + "/")
    assert "entities" in browser.find_element(By.CSS_SELECTOR, ".counts").text
    examples = browser.find_elements(By.CSS_SELECTOR, "button.example")
    assert examples, "no competency questions on the landing page"
    chosen = next((b for b in examples if b.get_attribute("data-name") == "10-ties-of-alexander-ionov"), examples[0])
    chosen.click()
    rows = wait(browser).until(lambda d: d.find_elements(By.CSS_SELECTOR, "#results table.results tbody tr"))
    assert len(rows) > 0
    assert browser.find_elements(By.CSS_SELECTOR, "#results table.results thead th")
    links = browser.find_elements(By.CSS_SELECTOR, "#results table.results a")
    assert links and all(a.get_attribute("href").startswith(real_site) for a in links[:20])  # our IRIs, our pages
    browser.save_screenshot(str(SHOTS / "landing-query.png"))


def test_entity_page_neighbourhood_and_quote_link(browser: webdriver.Chrome, real_site: str) -> None:
    browser.get(real_site + "/id/alexander-ionov")
    svg = browser.find_element(By.CSS_SELECTOR, "svg.neighbourhood")
    assert svg.size["width"] > 300 and svg.size["height"] > 200
    nodes = svg.find_elements(By.CSS_SELECTOR, "a.node")
    assert len(nodes) > 5
    browser.save_screenshot(str(SHOTS / "entity-alexander-ionov.png"))
    link = browser.find_element(By.CSS_SELECTOR, "a.quote-link")
    quote = browser.execute_script("return arguments[0].textContent", link).strip().strip("“”")
    target = link.get_attribute("href")
    browser.execute_script("arguments[0].scrollIntoView({block: 'center'})", link)
    link.click()
    wait(browser).until(ec.url_contains("/id/source/"))
    anchor = target.split("#", 1)[1]
    assert browser.current_url.endswith("#" + anchor)
    mark = browser.find_element(By.ID, anchor)
    assert mark.tag_name == "mark"
    lit = browser.find_elements(By.CSS_SELECTOR, "mark.current")
    assert "".join(browser.execute_script("return arguments[0].textContent", m) for m in lit) == quote
    top = browser.execute_script("return arguments[0].getBoundingClientRect().top", mark)
    assert 0 <= top < browser.execute_script("return window.innerHeight")       # scrolled into view
    browser.save_screenshot(str(SHOTS / "source-at-quote.png"))


def test_node_of_the_neighbourhood_is_a_link(browser: webdriver.Chrome, real_site: str) -> None:
    browser.get(real_site + "/id/matthew-heimbach")
    node = browser.find_element(By.CSS_SELECTOR, "svg.neighbourhood a.node:not(.center)")
    href = browser.execute_script("return arguments[0].getAttribute('href')", node)   # SVG <a>: no .href string
    assert href.startswith("/id/")
    browser.get(real_site + href)
    assert browser.find_element(By.CSS_SELECTOR, "svg.neighbourhood a.node.center")
    assert "/id/" in browser.current_url


def test_no_script_from_the_data_runs(browser: webdriver.Chrome, mini_site: str) -> None:
    for path in ("/id/carol", "/search?q=carol", "/id/source/mini_site", "/id/tie/bob-jones-met-carol", "/id/bob-jones"):
        browser.get(mini_site + path)
        assert browser.execute_script("return typeof window.__pwned") == "undefined", path
    browser.get(mini_site + "/id/carol")
    assert EVIL in browser.find_element(By.TAG_NAME, "h1").text            # shown as text
    assert not browser.find_elements(By.CSS_SELECTOR, "main img")         # the <img onerror> is not an element
    browser.save_screenshot(str(SHOTS / "escaped-label.png"))
