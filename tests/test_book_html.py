"""The built HTML book holds up in a real browser with no internet.

`make test` builds the book first; this module opens every page of `_build/html` in
headless Chromium (Debian's package, driven by Playwright) twice: served on loopback, and
from disk as the README tells readers to open it. Every request that leaves 127.0.0.1 is
blocked and recorded. Each page is visited once per way; the tests read what the visits
recorded.
"""

import dataclasses
import functools
import http.server
import re
import shutil
import sys
import threading
import urllib.parse
from pathlib import Path

import pytest
from bs4 import BeautifulSoup
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parents[1]
HTML = ROOT / "_build" / "html"
VENDOR_MATHJAX = "_static/vendor/mathjax/tex-chtml.js"
WIDGET_SCRIPTS = (
    "_static/vendor/require.min.js",
    "_static/widgets-offline.js",
    "_static/vendor/embed-amd.js",
)
# Inflected on purpose: only the Russian stemmer (language: ru) matches «Градиентный».
SEARCH_WORD = "градиентного"
# Hard-coded in sphinx-book-theme 1.3.0's templates and myst-nb 1.4.0's HTML writer, so no
# catalog or setting can translate them (screen readers read them; nobody sees them).
UNTRANSLATABLE = {
    "Toggle primary sidebar",
    "Toggle secondary sidebar",
    "Main",
    "Page",
    "Toggle hidden content",
}
# File types in the download menu (.md, .pdf) read the same in any language.
FILE_TYPE = re.compile(r"\.[a-z]+")
PAGE_TIMEOUT_MS = 30_000
CYRILLIC = re.compile("[а-яё]", re.IGNORECASE)
LATIN_WORD = re.compile("[A-Za-z]{3,}")
# TeX that MathJax should have replaced: $...$, $$...$$, \(...\), \[...\], environments.
RAW_MATH = re.compile(r"\$\$|\$[^$\s][^$\n]*\$|\\\(|\\\[|\\begin\{")

# Collected in the page, once it and MathJax have settled.
PAGE_STATE_JS = r"""() => {
  const visible = (root) => {
    const copy = root.cloneNode(true);
    copy.querySelectorAll("pre, code, script, style, mjx-container, .visually-hidden").forEach((e) => e.remove());
    return copy.innerText;
  };
  const article = document.querySelector("article") || document.body;
  const controls = [...document.querySelectorAll("button, summary, input, a.btn, nav, [role=button]")];
  const words = (e) => [
    ...["title", "aria-label", "placeholder", "data-tooltip"].map((a) => e.getAttribute(a)),
    e.matches("button, summary") ? e.textContent : null,
  ];
  return {
    lang: document.documentElement.lang,
    scripts: [...document.scripts].map((s) => s.src).filter(Boolean),
    mathElements: document.querySelectorAll(".math").length,
    mathRendered: document.querySelectorAll(".math mjx-container").length,
    mathErrors: [...document.querySelectorAll("mjx-merror")].map((e) => e.textContent),
    mathjaxVersion: window.MathJax && window.MathJax.version ? window.MathJax.version : null,
    widgetViews: document.querySelectorAll('script[type="application/vnd.jupyter.widget-view+json"]').length,
    brokenImages: [...document.images].filter((i) => !i.complete || i.naturalWidth === 0).map((i) => i.src),
    images: document.images.length,
    text: visible(article),
    links: [...document.querySelectorAll("a[href]")].map((a) => a.href),
    ids: [...document.querySelectorAll("[id]")].map((e) => e.id),
    labels: controls.flatMap(words).filter((v) => v && v.trim()).map((v) => v.trim().replace(/\s+/g, " ")),
    placeholder: (document.querySelector("input[name=q]") || {}).placeholder || null,
    backToTop: (document.querySelector("#pst-back-to-top") || {}).textContent || null,
  };
}"""

# Images may be lazy; make them load now and wait until each has loaded or failed.
LOAD_IMAGES_JS = """() => Promise.all([...document.images].map((i) => {
  i.loading = "eager";
  return i.decode().catch(() => null);
}))"""

# MathJax 3 typesets after `load`; its startup promise settles when it is done.
MATHJAX_DONE_JS = """() => window.MathJax && window.MathJax.startup
  ? window.MathJax.startup.promise.then(() => true) : false"""

# The widget manager renders each view into a .widget-subarea before its script tag.
WIDGETS_DONE_JS = """() => document.querySelectorAll(".widget-subarea").length >=
  document.querySelectorAll('script[type="application/vnd.jupyter.widget-view+json"]').length"""

SEARCH_SUMMARY_JS = (
    "() => (document.querySelector('#search-results .search-summary') || {}).textContent || ''"
)
# Sphinx lists the results one by one and writes the summary last.
SEARCH_DONE_JS = f"() => ({SEARCH_SUMMARY_JS})().trim() !== ''"


@dataclasses.dataclass
class Visit:
    """What one page did in the browser."""

    remote_requests: list = dataclasses.field(default_factory=list)
    console_errors: list = dataclasses.field(default_factory=list)
    page_errors: list = dataclasses.field(default_factory=list)
    bad_responses: list = dataclasses.field(default_factory=list)
    state: dict = dataclasses.field(default_factory=dict)


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


class _Server(http.server.ThreadingHTTPServer):
    def handle_error(self, request, client_address):
        # The browser drops connections it no longer needs when a page closes.
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


def _pages():
    """Every page of the build, as paths relative to its root."""
    return sorted(
        p.relative_to(HTML).as_posix()
        for p in HTML.rglob("*.html")
        # Theme macros that Sphinx copies along; no page links to them.
        if p.relative_to(HTML).parts[0] != "_static"
    )


def _redirect_target(page):
    """Where a meta-refresh page (the root index.html) sends the reader, or None."""
    html = (HTML / page).read_text(encoding="utf-8")
    match = re.search(r'http-equiv="refresh"[^>]*url=([^"]+)"', html, re.IGNORECASE)
    return match and match.group(1)


def _chromium():
    for name in ("chromium", "chromium-browser"):
        if path := shutil.which(name):
            return path
    pytest.fail(
        "No Chromium found for the browser test: install Debian's package "
        "(sudo apt-get install chromium, or run scripts/ensure_system_tools.sh)."
    )


@pytest.fixture(scope="module")
def built():
    if not (HTML / "index.html").is_file():
        pytest.fail(f"No built book in {HTML}: run `make book` first (`make test` does it).")


@pytest.fixture(scope="module")
def server(built):
    handler = functools.partial(_QuietHandler, directory=str(HTML))
    httpd = _Server(("127.0.0.1", 0), handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_port}/"
    httpd.shutdown()
    httpd.server_close()


def _is_local(url):
    """Whether a request stays on this machine: the loopback server, files, inline data."""
    parts = urllib.parse.urlsplit(url)
    return parts.scheme in ("data", "blob", "file") or parts.hostname == "127.0.0.1"


@pytest.fixture(scope="module")
def browser_context():
    """One browser for the module, cut off from everything but loopback and files."""

    def route(route):
        if _is_local(route.request.url):
            route.continue_()
        else:
            route.abort()

    # Chromium's sandbox needs user namespaces, which containers (CI, root) often lack;
    # the browser only ever sees our own pages.
    args = ["--no-sandbox"]
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=_chromium(), args=args)
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        context.set_default_timeout(PAGE_TIMEOUT_MS)
        context.route("**/*", route)
        yield context
        browser.close()


def _visit(context, site, page_path):
    page = context.new_page()
    visit = Visit()
    page.on("request", lambda r: _is_local(r.url) or visit.remote_requests.append(r.url))
    page.on("console", lambda m: m.type == "error" and visit.console_errors.append(m.text))
    page.on("pageerror", lambda e: visit.page_errors.append(str(e)))
    page.on("response", lambda r: r.status >= 400 and visit.bad_responses.append(f"{r.status} {r.url}"))
    page.on(
        "requestfailed",
        lambda r: r.url.startswith(site) and visit.bad_responses.append(f"{r.failure} {r.url}"),
    )
    try:
        page.goto(site + page_path, wait_until="load")
        page.evaluate(LOAD_IMAGES_JS)
        page.evaluate(MATHJAX_DONE_JS)
        page.wait_for_function(WIDGETS_DONE_JS)
        # Fonts and late scripts: let the network go quiet before reading the page.
        page.wait_for_load_state("networkidle")
        visit.state = page.evaluate(PAGE_STATE_JS)
    except PlaywrightError as error:
        visit.page_errors.append(f"the page did not settle: {error.message.splitlines()[0]}")
    finally:
        page.close()
    return visit


@pytest.fixture(scope="module", params=["served", "from disk"])
def site(request, server):
    """Where the browser finds the book: the loopback server, or the files themselves."""
    return server if request.param == "served" else HTML.as_uri() + "/"


@pytest.fixture(scope="module")
def visits(site, browser_context):
    """Every content page, visited once, in sequence, in the same browser."""
    return {page: _visit(browser_context, site, page) for page in _pages() if not _redirect_target(page)}


def _report(problems):
    return "\n".join(f"  {page}: {problem}" for page, problem in problems)


@pytest.mark.slow
def test_the_book_has_its_pages(visits, toc_files):
    missing = [f + ".html" for f in toc_files if f + ".html" not in visits]
    assert not missing, f"pages of _toc.yml missing from the build: {missing}"
    assert "search.html" in visits


@pytest.mark.slow
def test_the_root_redirects_to_the_first_page(site, browser_context):
    target = _redirect_target("index.html")
    assert target and (HTML / target).is_file(), f"index.html should redirect to a page, not {target!r}"
    page = browser_context.new_page()
    try:
        page.goto(site + "index.html")
        page.wait_for_url(f"**/{target}")
    finally:
        page.close()


@pytest.mark.slow
def test_nothing_is_requested_from_the_internet(visits):
    problems = sorted({(page, url) for page, visit in visits.items() for url in visit.remote_requests})
    assert not problems, "the book asked the internet for (a CDN, fonts, analytics?):\n" + _report(problems)


@pytest.mark.slow
def test_no_javascript_errors(visits):
    # Failed resources are reported with their URLs by the tests above and below.
    problems = [
        (page, message)
        for page, visit in visits.items()
        for message in visit.page_errors
        + [m for m in visit.console_errors if not m.startswith("Failed to load resource")]
    ]
    assert not problems, "JavaScript errors:\n" + _report(problems)


@pytest.mark.slow
def test_no_broken_local_resources(visits):
    problems = [(page, bad) for page, visit in visits.items() for bad in visit.bad_responses]
    assert not problems, "local requests that failed:\n" + _report(problems)


@pytest.mark.slow
def test_images_load(visits):
    assert any(v.state.get("images") for v in visits.values()), "no page has an image: is the book built?"
    problems = [(page, src) for page, visit in visits.items() for src in visit.state.get("brokenImages", [])]
    assert not problems, "images that did not load:\n" + _report(problems)


@pytest.mark.slow
def test_links_and_anchors_resolve(visits, site):
    ids = {page: set(visit.state.get("ids", [])) for page, visit in visits.items()}
    problems = []
    for page, visit in visits.items():
        for link in visit.state.get("links", []):
            if not link.startswith(site):
                continue
            url = urllib.parse.urlsplit(link.removeprefix(site))
            target = urllib.parse.unquote(url.path) or "index.html"
            if target.endswith("/"):
                target += "index.html"
            if not (HTML / target).is_file():
                problems.append((page, f"{link} (no such file)"))
            elif url.fragment and target in ids and urllib.parse.unquote(url.fragment) not in ids[target]:
                problems.append((page, f"{link} (no such anchor)"))
    assert not problems, "broken links:\n" + _report(sorted(set(problems)))


@pytest.mark.slow
def test_math_is_rendered(visits):
    assert any(v.state.get("mathElements") for v in visits.values()), "no page has math: is the book built?"
    problems = []
    for page, visit in visits.items():
        state = visit.state
        if state.get("mathRendered", 0) < state.get("mathElements", 0):
            problems.append((page, f"{state['mathRendered']} of {state['mathElements']} formulas typeset"))
        problems += [(page, f"MathJax error: {e}") for e in state.get("mathErrors", [])]
        problems += [(page, f"raw TeX in the text: {m!r}") for m in RAW_MATH.findall(state.get("text", ""))]
    assert not problems, "math not rendered:\n" + _report(problems)


@pytest.mark.slow
def test_vendored_scripts_load_only_where_needed(visits, site):
    problems = []
    for page, visit in visits.items():
        scripts = {urllib.parse.urlsplit(s.removeprefix(site)).path for s in visit.state.get("scripts", [])}
        if visit.state.get("mathElements") and VENDOR_MATHJAX not in scripts:
            problems.append((page, f"has math but does not load {VENDOR_MATHJAX}"))
        if visit.state.get("mathElements") and not str(visit.state.get("mathjaxVersion")).startswith("3."):
            problems.append((page, f"MathJax 3 did not start (version {visit.state.get('mathjaxVersion')})"))
        has_widgets = bool(visit.state.get("widgetViews"))
        for script in WIDGET_SCRIPTS:
            if (script in scripts) != has_widgets:
                problems.append((page, f"{'lacks' if has_widgets else 'loads'} {script}"))
    assert not problems, "vendored scripts:\n" + _report(problems)


@pytest.mark.slow
def test_interface_is_russian(visits):
    problems = []
    for page, visit in visits.items():
        state = visit.state
        if state.get("lang") != "ru":
            problems.append((page, f'<html lang="{state.get("lang")}">, expected "ru"'))
        for name in ("placeholder", "backToTop"):
            value = (state.get(name) or "").strip()
            if not CYRILLIC.search(value) or LATIN_WORD.search(value):
                problems.append((page, f"{name} is not Russian: {value!r}"))
        for label in set(state.get("labels", [])) - UNTRANSLATABLE:
            if LATIN_WORD.search(label) and not CYRILLIC.search(label) and not FILE_TYPE.fullmatch(label):
                problems.append((page, f"English label: {label!r}"))
    assert not problems, "interface strings that are not Russian:\n" + _report(problems)


@pytest.mark.slow
def test_search_finds_a_russian_word(server, browser_context):
    page = browser_context.new_page()
    try:
        page.goto(f"{server}search.html?q={urllib.parse.quote(SEARCH_WORD)}")
        try:
            page.wait_for_function(SEARCH_DONE_JS, timeout=10_000)
        except PlaywrightError:
            pass  # the assertions below say what the page shows
        found = page.eval_on_selector_all("#search-results ul.search li a", "links => links.map(a => a.href)")
        summary = page.evaluate(SEARCH_SUMMARY_JS)
    finally:
        page.close()
    assert found, f"search for {SEARCH_WORD!r} found nothing ({summary!r}): is `language: ru` set?"
    assert CYRILLIC.search(summary) and str(len(found)) in summary, (
        f"the search summary should say in Russian that {len(found)} pages were found: {summary!r}"
    )
    missing = [url for url in found if not (HTML / urllib.parse.urlsplit(url).path.lstrip("/")).is_file()]
    assert not missing, f"search results point to missing pages: {missing}"


@pytest.mark.slow
def test_pages_reference_no_remote_assets(built):
    """Catches remote assets that a default page view never requests (print, dark mode, clicks)."""
    assets = {"script": "src", "img": "src", "iframe": "src", "source": "src", "link": "href"}
    problems = []
    for path in HTML.rglob("*.html"):
        soup = BeautifulSoup(path.read_text(encoding="utf-8"), "html.parser")
        for tag in soup.find_all(list(assets)):
            url = tag.get(assets[tag.name]) or ""
            # <link rel="search|prev|next|canonical"> are links, not assets.
            is_asset = tag.name != "link" or {"stylesheet", "preload", "icon", "modulepreload"} & set(
                tag.get("rel", [])
            )
            if is_asset and re.match(r"(https?:)?//", url):
                problems.append((path.relative_to(HTML).as_posix(), f"<{tag.name}> {url}"))
    css_remote = re.compile(r"""(?:@import\s+|url\()["']?(?:https?:)?//[^"')\s]+""", re.IGNORECASE)
    for path in HTML.rglob("*.css"):
        for match in css_remote.finditer(path.read_text(encoding="utf-8", errors="replace")):
            problems.append((path.relative_to(HTML).as_posix(), match.group(0)))
    assert not problems, "remote assets:\n" + _report(problems)


@pytest.mark.slow
def test_every_directive_is_parsed(built):
    """A directive MyST did not parse shows as raw text (a backtick fence's title may not hold backticks)."""
    raw = [(page, directive) for page in _pages()
           for directive in re.findall(r"\{(?:dropdown|admonition|note|tip|warning|glue:?\w*)\}",
                                       (HTML / page).read_text(encoding="utf-8"))]
    assert not raw, "unparsed directives:\n" + _report(raw)
