"""Print the built HTML book into one PDF, `_build/pdf/book.pdf`, offline.

Each page of the table of contents is opened in headless Chromium from a loopback server,
printed once its images are decoded, MathJax has typeset the formulas and the widgets are
drawn, and the pages are merged in the order of `_toc.yml` with one bookmark per chapter.
Self-check answers (dropdowns) are opened before printing, so that the PDF has them too.

    python scripts/build_pdf.py [--html _build/html] [--out _build/pdf/book.pdf]
"""

import argparse
import functools
import http.server
import shutil
import sys
import tempfile
import threading
import urllib.parse
from pathlib import Path

import yaml
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import sync_playwright
from pypdf import PdfReader, PdfWriter

ROOT = Path(__file__).resolve().parents[1]
PAGE_TIMEOUT_MS = 60_000
EXIT_USAGE = 2

# MathJax 3 typesets after `load`; its startup promise settles when it is done.
MATHJAX_DONE_JS = """() => window.MathJax && window.MathJax.startup
  ? window.MathJax.startup.promise.then(() => true) : true"""
LOAD_IMAGES_JS = """() => Promise.all([...document.images].map((i) => {
  i.loading = "eager";
  return i.decode().catch(() => null);
}))"""
WIDGETS_DONE_JS = """() => document.querySelectorAll(".widget-subarea").length >=
  document.querySelectorAll('script[type="application/vnd.jupyter.widget-view+json"]').length"""
# Self-check answers (sphinx-design dropdowns) open; code that the page hides stays hidden.
OPEN_DROPDOWNS_JS = """() => document.querySelectorAll("details.sd-dropdown").forEach((d) => { d.open = true; })"""
TITLE_JS = """() => (document.querySelector("main h1") || document.querySelector("h1") || {})
  .textContent || document.title"""


def toc_pages(toc_file):
    """The book's pages in reading order, as HTML paths relative to the build root."""
    toc = yaml.safe_load(toc_file.read_text(encoding="utf-8"))
    files = [toc["root"]] + [entry["file"] for entry in toc.get("chapters", [])]
    return [f"{name}.html" for name in files]


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


def _serve(directory):
    handler = functools.partial(_QuietHandler, directory=str(directory))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    return httpd


def _offline(route):
    # The book must print from itself: anything but the loopback server is refused.
    host = urllib.parse.urlsplit(route.request.url).hostname
    if route.request.url.startswith(("data:", "blob:")) or host == "127.0.0.1":
        route.continue_()
    else:
        route.abort()


def _chromium():
    for name in ("chromium", "chromium-browser"):
        if path := shutil.which(name):
            return path
    return None


def print_pages(site, pages, folder, chromium):
    """Print every page to its own PDF in ``folder``; return [(title, path)]."""
    printed = []
    with sync_playwright() as p:
        # Chromium's sandbox needs user namespaces, which containers often lack.
        browser = p.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
        context = browser.new_context(viewport={"width": 1100, "height": 1400})
        context.set_default_timeout(PAGE_TIMEOUT_MS)
        context.route("**/*", _offline)
        for number, page_path in enumerate(pages):
            page = context.new_page()
            page.goto(site + page_path, wait_until="load")
            page.evaluate(LOAD_IMAGES_JS)
            page.evaluate(MATHJAX_DONE_JS)
            page.wait_for_function(WIDGETS_DONE_JS)
            page.evaluate(OPEN_DROPDOWNS_JS)
            page.emulate_media(media="print")
            title = " ".join(page.evaluate(TITLE_JS).replace("#", "").split())
            target = folder / f"{number:02d}.pdf"
            page.pdf(path=str(target), format="A4", print_background=True,
                     margin={"top": "15mm", "bottom": "15mm", "left": "12mm", "right": "12mm"})
            page.close()
            printed.append((title, target))
            print(f"  {page_path}: {title}")
        browser.close()
    return printed


def merge(printed, out):
    writer = PdfWriter()
    for title, path in printed:
        first_page = len(writer.pages)
        writer.append(PdfReader(path), import_outline=False)
        writer.add_outline_item(title=title, page_number=first_page)
    writer.add_metadata({"/Title": "Глубокое обучение и нейросети"})
    out.parent.mkdir(parents=True, exist_ok=True)
    with open(out, "wb") as stream:
        writer.write(stream)


def main(argv=None):
    parser = argparse.ArgumentParser(description="Собирает PDF книги из готового HTML.")
    parser.add_argument("--html", type=Path, default=ROOT / "_build" / "html", help="папка HTML-сборки книги")
    parser.add_argument("--out", type=Path, default=ROOT / "_build" / "pdf" / "book.pdf", help="куда записать PDF")
    parser.add_argument("--toc", type=Path, default=ROOT / "_toc.yml", help="оглавление книги")
    args = parser.parse_args(argv)

    pages = toc_pages(args.toc)
    missing = [page for page in pages if not (args.html / page).is_file()]
    if missing:
        print(f"Нет собранных страниц книги в {args.html}: {', '.join(missing)}. "
              "Сначала соберите книгу: make book.", file=sys.stderr)
        return EXIT_USAGE
    chromium = _chromium()
    if chromium is None:
        print("Не найден Chromium: установите пакет chromium (sudo apt-get install chromium "
              "или scripts/ensure_system_tools.sh).", file=sys.stderr)
        return EXIT_USAGE

    httpd = _serve(args.html)
    try:
        with tempfile.TemporaryDirectory() as folder:
            print(f"Печать {len(pages)} страниц в PDF:")
            printed = print_pages(f"http://127.0.0.1:{httpd.server_port}/", pages, Path(folder), chromium)
            merge(printed, args.out)
    except PlaywrightError as error:
        print(f"Страница не напечаталась: {error.message.splitlines()[0]}", file=sys.stderr)
        return 1
    finally:
        httpd.shutdown()
        httpd.server_close()
    print(f"Готово: {args.out} ({len(PdfReader(args.out).pages)} стр.)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
