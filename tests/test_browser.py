"""A headless Chromium against a real_site server: the query UI at /sparql (YASGUI) runs an example
query into a table whose IRIs link to our pages, an entity page shows its neighbourhood SVG and a
quote link that lands on the highlighted span of the source page, no script from the data ever runs,
and no page breaks its Content-Security-Policy (a listener installed before any page script records
every `securitypolicyviolation`). Screenshots go to artifacts/screenshots/."""
from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote as quote_url

import pytest

from _ldserver import EVIL
from conftest import ROOT
from tieslod.querying.store import open_read_only, run_query

QUERIES_DIR = ROOT / "queries"

CHROMIUM, CHROMEDRIVER = Path("/usr/bin/chromium"), Path("/usr/bin/chromedriver")
SHOTS = ROOT / "artifacts" / "screenshots"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists() or not CHROMEDRIVER.exists(),
                       reason="needs Debian's chromium and chromium-driver (/usr/bin/chromium, /usr/bin/chromedriver)"),
]

webdriver = pytest.importorskip("selenium.webdriver")
from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import WebDriverWait


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
    # runs before every page's own scripts (DevTools injects it; the page's CSP does not apply to it)
    driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": CSP_WATCH})
    SHOTS.mkdir(parents=True, exist_ok=True)
    yield driver
    driver.quit()


CSP_WATCH = """window.__csp = []; document.addEventListener('securitypolicyviolation', function (e) {
  window.__csp.push([e.violatedDirective, e.blockedURI, e.sourceFile, e.lineNumber]); });"""


def wait(driver: webdriver.Chrome, seconds: float = 15) -> WebDriverWait:
    # YASR redraws its table: an element found a moment ago may be gone (then look again)
    return WebDriverWait(driver, seconds, ignored_exceptions=(StaleElementReferenceException,))


def violations(driver: webdriver.Chrome) -> list:
    return driver.execute_script("return window.__csp || []")


RESULT_ROWS = ".yasr_results table tbody tr"


def test_sparql_ui_runs_an_example_into_a_table(browser: webdriver.Chrome, real_site: str, real_settings) -> None:
    browser.get(real_site + "/sparql")
    assert browser.find_element(By.CSS_SELECTOR, "header.site")                  # the site's layout
    wait(browser).until(lambda d: d.find_elements(By.CSS_SELECTOR, ".yasgui .CodeMirror"))
    examples = browser.find_elements(By.CSS_SELECTOR, "a.example")
    questions = len(list((Path(__file__).resolve().parents[1] / "queries").glob("*.rq")))   # 22 (was 20)
    assert len(examples) == questions, "the competency questions are the examples"
    chosen = next(a for a in examples if a.get_attribute("data-name") == "10-ties-of-alexander-ionov")
    browser.execute_script("arguments[0].scrollIntoView({block: 'center'})", chosen)
    chosen.click()
    rows = wait(browser).until(lambda d: d.find_elements(By.CSS_SELECTOR, RESULT_ROWS))
    expected = run_query(open_read_only(real_settings.out_dir / "current"),
                         ((Path(__file__).resolve().parents[1] / "queries") / "10-ties-of-alexander-ionov.rq").read_text(encoding="utf-8"),
                         base_iri=real_settings.base_uri)
    assert len(rows) == len(json.loads(expected.body)["results"]["bindings"]) > 10   # the store's own answer
    heads = [th.text for th in browser.find_elements(By.CSS_SELECTOR, ".yasr_results table thead th")]
    assert {"tie", "stance", "speaker", "claim", "quote"} <= set(heads)
    links = [a.get_attribute("href") for a in browser.find_elements(By.CSS_SELECTOR, ".yasr_results a.iri")]
    ours = [h for h in links if "/id/claim/" in h]
    assert ours and all(h.startswith(real_site + "/id/claim/") for h in ours)   # our IRIs, our pages
    assert "/sparql#query=" in browser.current_url and "Ionov" in browser.current_url.replace("%20", " ")
    csv = browser.find_element(By.ID, "download-csv").get_attribute("href")
    assert "format=csv" in csv and browser.find_element(By.ID, "download-json").get_attribute("href")
    browser.save_screenshot(str(SHOTS / "sparql-example.png"))
    assert violations(browser) == []


def test_a_shared_sparql_link_runs_its_query(browser: webdriver.Chrome, real_site: str) -> None:
    browser.get("about:blank")
    browser.get(real_site + "/sparql#query=" + quote_url("SELECT ?name WHERE { <id/alexander-ionov> rdfs:label ?name }"))
    rows = wait(browser).until(lambda d: d.find_elements(By.CSS_SELECTOR, RESULT_ROWS))
    assert len(rows) == 1 and "Alexander Ionov" in rows[0].text
    # a second shared link opened on the same page changes only the part after '#'
    browser.get(real_site + "/sparql#query=" + quote_url("SELECT ?n WHERE { <id/rodina> rdfs:label ?n }"))
    wait(browser).until(lambda d: "Rodina" in d.find_element(By.CSS_SELECTOR, RESULT_ROWS).text)
    assert violations(browser) == []


def test_typing_a_prefix_declares_ours_and_asks_no_one_else(browser: webdriver.Chrome, real_site: str) -> None:
    """YASQE declares a prefix as soon as it is typed; its bundled list has another `tl:` (a timeline
    vocabulary) that would make the query answer nothing, and its property completer asks an outside
    service (which the CSP would block, as a violation)."""
    browser.get("about:blank")
    browser.get(real_site + "/sparql")
    wait(browser).until(lambda d: d.execute_script("return !!window.tieslodYasgui"))
    browser.execute_script("const y = window.tieslodYasgui.getTab().getYasqe();"
                           "y.setValue('SELECT ?x WHERE {\\n  ?x '); y.focus(); y.setCursor(y.lineCount(), 0);")
    browser.find_element(By.CSS_SELECTOR, ".yasqe textarea").send_keys("tl:")
    value = lambda d: d.execute_script("return window.tieslodYasgui.getTab().getYasqe().getValue()")
    wait(browser).until(lambda d: "PREFIX tl:" in value(d))
    assert "PREFIX tl: <https://w3id.org/tieslod/ontology#>" in value(browser)
    browser.find_element(By.CSS_SELECTOR, ".yasqe textarea").send_keys("subject ?y }")
    import time
    time.sleep(1.0)   # the property completer, were it on, would have asked by now
    assert violations(browser) == []


@pytest.mark.parametrize("path", ["/", "/sparql", "/id/alexander-ionov", "/id/source/texas-flag-moscow",
                                  "/id/claim/texas-flag-moscow-08", "/search?q=ionov", "/dumps/", "/ontology",
                                  "/path?from=matthew-heimbach&to=rodina", "/path", "/id/no-such-thing"])
def test_no_page_breaks_its_content_security_policy(browser: webdriver.Chrome, real_site: str, path: str) -> None:
    browser.get(real_site + path)
    wait(browser, 5).until(lambda d: d.execute_script("return document.readyState") == "complete")
    assert violations(browser) == [], path


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
        for link in browser.find_elements(By.CSS_SELECTOR, "a[href]"):   # clicking any link runs nothing either
            assert not (link.get_attribute("href") or "").lower().startswith(("javascript:", "data:")), path
    browser.get(mini_site + "/id/carol")
    assert EVIL in browser.find_element(By.TAG_NAME, "h1").text            # shown as text
    assert not browser.find_elements(By.CSS_SELECTOR, "main img")         # the <img onerror> is not an element
    browser.save_screenshot(str(SHOTS / "escaped-label.png"))


# ------------------------------------------------------------------ accessibility and small screens
AXE = ROOT / ".cache" / "node" / "node_modules" / "axe-core" / "axe.min.js"   # installed by scripts/test
PAGE_KINDS = {   # one of every kind of page the site serves
    "landing": "/", "sparql": "/sparql", "entity": "/id/alexander-ionov", "source": "/id/source/texas-flag-moscow",
    "tie": "/id/tie/alexander-ionov-leads-anti-globalization-movement-of-russia", "claim": "/id/claim/texas-flag-moscow-08",
    "search": "/search?q=ionov", "dumps": "/dumps/", "ontology": "/ontology", "path": "/path?from=matthew-heimbach&to=rodina",
    "path-form": "/path", "not-found": "/id/no-such-thing",
}
SMALL_TEXT = """
const small = [];
const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
while (walker.nextNode()) {
  const node = walker.currentNode, el = node.parentElement;
  if (!node.textContent.trim() || !el || !el.getClientRects().length) continue;
  const style = getComputedStyle(el);
  if (style.visibility === "hidden") continue;
  let size = parseFloat(style.fontSize);
  if (el.closest("svg")) {                 // drawn in the SVG's units: scale by what the viewBox does
    const m = el.getScreenCTM();
    size *= Math.hypot(m.a, m.b);
  }
  if (size < 10) small.push([el.tagName, node.textContent.trim().slice(0, 40), Math.round(size * 10) / 10]);
}
return small;"""


def axe_violations(driver: webdriver.Chrome) -> list[dict]:
    driver.execute_script(AXE.read_text(encoding="utf-8"))   # WebDriver runs it outside the page's CSP
    result = driver.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "axe.run(document, {resultTypes: ['violations']}).then(r => done(r.violations), e => done([{id: 'axe-error', impact: 'critical', help: String(e), nodes: []}]));")
    return [{"id": v["id"], "impact": v["impact"], "help": v["help"],
             "nodes": [n["target"] for n in v["nodes"]][:5]} for v in result]


@pytest.mark.skipif(not AXE.exists(), reason="axe-core not installed (scripts/test installs it from npm)")
@pytest.mark.parametrize("kind", sorted(PAGE_KINDS))
def test_every_page_kind_passes_axe(browser: webdriver.Chrome, real_site: str, kind: str) -> None:
    """Issue 14 item 10: no serious or critical axe-core violation on any kind of page."""
    browser.set_window_size(1280, 1600)
    browser.get(real_site + PAGE_KINDS[kind])
    if kind == "sparql":   # with a result table drawn, which is most of that page
        browser.get(real_site + "/sparql#query=" + quote_url("SELECT ?tie ?claim WHERE { ?claim tl:tie ?tie } LIMIT 5"))
        wait(browser).until(lambda d: d.find_elements(By.CSS_SELECTOR, RESULT_ROWS))
    grave = [v for v in axe_violations(browser) if v["impact"] in ("serious", "critical")]
    assert grave == [], grave


@pytest.mark.parametrize("width", [390, 1280])
@pytest.mark.parametrize("kind", ["entity", "path", "sparql"])
def test_screenshots_have_no_text_under_10px(browser: webdriver.Chrome, real_site: str, kind: str, width: int) -> None:
    """Issue 14 items 6 and 10: the pages people share, on a phone and a desktop, saved under
    artifacts/screenshots/; every visible piece of text (SVG labels scaled by their viewBox) is 10 px or more."""
    browser.set_window_size(width, 1000)
    browser.get("about:blank")
    browser.get(real_site + PAGE_KINDS[kind])
    if kind == "sparql":
        wait(browser).until(lambda d: d.find_elements(By.CSS_SELECTOR, ".yasgui .CodeMirror"))
        browser.find_element(By.CSS_SELECTOR, "a.example[data-name='10-ties-of-alexander-ionov']").click()
        wait(browser).until(lambda d: d.find_elements(By.CSS_SELECTOR, RESULT_ROWS))
    inner = browser.execute_script("return window.innerWidth")
    assert inner == width or abs(inner - width) < 20, inner
    height = browser.execute_script("return document.documentElement.scrollHeight")
    browser.set_window_size(width, min(height, 8000))
    browser.save_screenshot(str(SHOTS / f"{kind}-{width}.png"))
    assert browser.execute_script("return document.documentElement.scrollWidth") <= width + 1, "sideways scrolling"
    assert browser.execute_script(SMALL_TEXT) == []
    if kind == "entity":   # the picture on a desktop, the list of ties on a phone: one of them is shown
        shown = browser.execute_script("return [document.querySelector('svg.neighbourhood').getClientRects().length > 0,"
                                       " document.querySelector('.nb-list').getClientRects().length > 0]")
        assert shown == ([False, True] if width == 390 else [True, False])


def _tab_until(driver: webdriver.Chrome, css: str, presses: int = 250) -> bool:
    """Press Tab from the top of the page until the focused element matches css (bounded)."""
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.keys import Keys
    driver.execute_script("document.activeElement && document.activeElement.blur(); window.scrollTo(0, 0)")
    for _ in range(presses):
        ActionChains(driver).send_keys(Keys.TAB).perform()
        if driver.execute_script("return document.activeElement.matches(arguments[0])", css):
            return True
    return False


@pytest.mark.parametrize("path, target", [
    ("/id/alexander-ionov", "svg.neighbourhood a.node"),       # the picture's dots are links one can reach
    ("/path?from=matthew-heimbach&to=rodina", "svg.chain a.entity"),
    ("/path?from=matthew-heimbach&to=rodina", "a.quote-link"),
    ("/sparql", ".yasqe textarea"),                             # the editor itself
    ("/sparql", "a.example"),
])
def test_keyboard_reaches_pictures_editor_and_examples(browser: webdriver.Chrome, real_site: str, path: str,
                                                        target: str) -> None:
    browser.set_window_size(1280, 1000)
    browser.get(real_site + path)
    wait(browser, 5).until(lambda d: d.execute_script("return document.readyState") == "complete")
    assert _tab_until(browser, target), f"Tab never reached {target} on {path}"
    outline = browser.execute_script(   # CodeMirror shows focus with its cursor, on its wrapper
        "const el = document.activeElement, s = getComputedStyle(el);"
        "return s.outlineStyle !== 'none' || s.boxShadow !== 'none' || !!el.closest('.CodeMirror-focused')")
    assert outline, "the focused element shows no focus"
