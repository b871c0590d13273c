"""The built book as a reader's browser shows it (headless Chromium through Selenium).

Needs a built book (`make book PROFILE=ci`), Chromium with its driver and the `selenium` package;
`make browser-test` installs them, builds the ci book and runs this file. Without them every
test here is skipped with the reason. Screenshots of every page go to build/screenshots/.
"""

import functools
import http.server
import shutil
import threading
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
HTML = ROOT / "book" / "_build" / "html"
SHOTS = ROOT / "build" / "screenshots"
CHAPTERS = sorted(p.stem for p in (ROOT / "book" / "notebooks").glob("*.md"))


def _missing() -> str | None:
    if not (HTML / "index.html").exists():
        return "no built book: run `make book PROFILE=ci` (or `make browser-test`)"
    if not (shutil.which("chromium") and shutil.which("chromedriver")):
        return "no Chromium and chromedriver: `make browser-test` installs them (Debian packages)"
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "no selenium package: `make browser-test` installs it"
    return None


pytestmark = pytest.mark.skipif(_missing() is not None, reason=_missing() or "")


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def server():
    """The built book over HTTP on a free loopback port (search needs http, not file://)."""
    handler = functools.partial(_QuietHandler, directory=str(HTML))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()


@pytest.fixture(scope="module")
def browser():
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--window-size=1300,1800"):
        options.add_argument(arg)
    options.binary_location = shutil.which("chromium")
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(shutil.which("chromedriver")), options=options)
    driver.set_page_load_timeout(60)
    yield driver
    driver.quit()


def _pages():
    return sorted(
        str(p.relative_to(HTML))
        for p in HTML.rglob("*.html")
        if not p.relative_to(HTML).parts[0].startswith(("_", "genindex"))
    )


def _open(browser, url):
    """Load ``url`` and wait until MathJax (when the page has it) has typeset."""
    from selenium.webdriver.support.ui import WebDriverWait

    browser.get(url)
    WebDriverWait(browser, 30).until(
        lambda d: d.execute_script(
            "return document.readyState === 'complete' && (!window.MathJax || !MathJax.startup "
            "|| MathJax.startup.promise.then(() => true) && true)"
        )
    )
    browser.execute_script("return window.MathJax && MathJax.startup && MathJax.startup.promise")


@pytest.mark.parametrize("page", _pages() if _missing() is None else ["-"])
def test_page_loads_with_images_and_typeset_math(page, server, browser):
    import urllib.request

    url = f"{server}/{page}"
    assert urllib.request.urlopen(url, timeout=10).status == 200
    browser.get_log("browser")  # drop what earlier pages logged
    _open(browser, url)
    errors = [
        e["message"] for e in browser.get_log("browser") if e["level"] == "SEVERE" and "favicon.ico" not in e["message"]
    ]  # the browser's own request, not the page's
    assert not errors, f"{page}: console errors {errors}"
    broken = browser.execute_script(
        "return [...document.images].filter(i => !(i.complete && i.naturalWidth > 0)).map(i => i.src)"
    )
    assert not broken, f"{page}: images that did not load: {broken}"
    text = browser.execute_script("return document.querySelector('main, article, body').innerText")
    assert "\\(" not in text and "$$" not in text, f"{page}: raw TeX left in the page"
    if page.startswith("chapters/"):
        typeset = browser.execute_script("return document.querySelectorAll('mjx-container').length")
        assert typeset > 0, f"{page}: no formula typeset by MathJax"
    SHOTS.mkdir(parents=True, exist_ok=True)
    browser.save_screenshot(str(SHOTS / (page.replace("/", "_").removesuffix(".html") + ".png")))


def test_scorecard_page_lists_every_chapter(server, browser):
    _open(browser, f"{server}/scorecard.html")
    text = browser.execute_script("return document.body.innerText")
    missing = [slug for slug in CHAPTERS if slug not in text]
    assert not missing, f"the scorecard page lacks {missing}"


def test_search_finds_a_chapter(server, browser):
    from selenium.webdriver.support.ui import WebDriverWait

    _open(browser, f"{server}/search.html?q=saturated")
    WebDriverWait(browser, 30).until(
        lambda d: d.execute_script(
            "const r = document.querySelector('#search-results'); return r && r.querySelectorAll('li').length > 0"
        )
    )
    links = browser.execute_script("return [...document.querySelectorAll('#search-results li a')].map(a => a.href)")
    assert any("saturating_networks" in href for href in links), links


def test_internal_links_resolve(server, browser):
    """Every link from one page of the book to another (and to its anchors) resolves."""
    import urllib.parse
    import urllib.request

    targets = {}
    for page in _pages():
        _open(browser, f"{server}/{page}")
        for href in browser.execute_script("return [...document.querySelectorAll('a[href]')].map(a => a.href)"):
            if href.startswith(server):
                targets.setdefault(href, page)
    assert len(targets) > 20
    broken = []
    for href, page in sorted(targets.items()):
        url, fragment = urllib.parse.urldefrag(href)
        try:
            body = urllib.request.urlopen(url, timeout=10).read().decode("utf-8", "replace")
        except OSError as error:
            broken.append(f"{page} -> {href}: {error}")
            continue
        if fragment and f'id="{urllib.parse.unquote(fragment)}"' not in body:
            broken.append(f"{page} -> {href}: no element with id {fragment!r}")
    assert not broken, "\n".join(broken)


# Every element of the scorecard page that holds text: a cell or block must show its text whole
# (nothing cut off at its right edge) and be at least as wide as its longest word.
_LAYOUT_PROBLEMS = """
const problems = [];
const els = document.querySelectorAll('main td, main th, main .claim, main .claim p, main .claim dd, main .claim blockquote');
for (const el of els) {
  const style = getComputedStyle(el);
  if (el.scrollWidth > el.clientWidth + 1 && style.overflowX !== 'auto' && style.overflowX !== 'scroll')
    problems.push('clipped: ' + el.innerText.slice(0, 60));
  const words = el.innerText.split(/\\s+/).filter(w => w.length > 2);
  if (words.length && el.getBoundingClientRect().width < 8 * Math.min(...words.map(w => Math.min(w.length, 12))))
    problems.push('narrower than a word (' + Math.round(el.getBoundingClientRect().width) + ' px): ' + el.innerText.slice(0, 40));
}
const main = document.querySelector('main');
if (main && main.scrollWidth > main.clientWidth + 1) problems.push('the page scrolls sideways');
return problems.slice(0, 20);
"""


@pytest.mark.parametrize("width", [1300, 390])
def test_scorecard_page_reads_at_desktop_and_phone_width(width, server, browser):
    browser.set_window_size(width, 1800)
    try:
        _open(browser, f"{server}/scorecard.html")
        quotes = browser.execute_script("return document.querySelectorAll('.claim-quote').length")
        assert quotes > 20, "the scorecard page shows too few of the papers' words"
        problems = browser.execute_script(_LAYOUT_PROBLEMS)
        SHOTS.mkdir(parents=True, exist_ok=True)
        browser.save_screenshot(str(SHOTS / f"scorecard_{width}px.png"))
        assert not problems, f"at {width} px: " + "; ".join(problems)
    finally:
        browser.set_window_size(1300, 1800)


# In a chapter: every code block and printed output shows its lines whole at the page's width
# (no sideways scrolling, nothing cut off), and every cell shows its printed text as one box.
_CELL_PROBLEMS = """
const problems = [];
for (const pre of document.querySelectorAll('div.cell div.cell_input pre, div.cell div.cell_output pre, div.cell div.cell_output div.output')) {
  if (pre.scrollWidth > pre.clientWidth + 1)
    problems.push('scrolls sideways (' + pre.scrollWidth + ' > ' + pre.clientWidth + ' px): '
                  + pre.innerText.split('\\n').sort((a, b) => b.length - a.length)[0].slice(0, 70));
}
for (const [k, cell] of [...document.querySelectorAll('div.cell')].entries()) {
  const streams = cell.querySelectorAll('div.cell_output .output.stream');
  if (streams.length > 1) problems.push('cell ' + (k + 1) + ' shows ' + streams.length + ' boxes of printed text');
}
return problems.slice(0, 20);
"""


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_chapter_cells_fit_the_page_in_one_box_each(chapter, server, browser):
    browser.set_window_size(1300, 1800)
    _open(browser, f"{server}/chapters/{chapter}.html")
    assert browser.execute_script("return document.querySelectorAll('div.cell').length") > 5
    problems = browser.execute_script(_CELL_PROBLEMS)
    assert not problems, f"{chapter} at 1300 px: " + "; ".join(problems)
