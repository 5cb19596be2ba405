"""The PDF of the book (`make pdf`, scripts/build_pdf.py): every chapter, rendered math, Cyrillic.

The slow test prints the real built book (``make book`` first); the fast ones print a
two-page stand-in with the book's own MathJax, so that a broken printer shows up in seconds.
"""

import importlib.util
import re
import shutil
from pathlib import Path

import pytest
from pypdf import PdfReader

ROOT = Path(__file__).resolve().parents[1]
HTML = ROOT / "_build" / "html"
# TeX that MathJax should have replaced. Inside a string literal of printed code
# (`xlabel="$w_1$"`) it is a matplotlib label, not prose: see raw_math.
RAW_MATH = re.compile(r"\$\$|\$[^$\s][^$\n]*\$|\\begin\{")
CYRILLIC = re.compile("[а-яё]", re.IGNORECASE)

spec = importlib.util.spec_from_file_location("build_pdf", ROOT / "scripts" / "build_pdf.py")
build_pdf = importlib.util.module_from_spec(spec)
spec.loader.exec_module(build_pdf)


def _need_chromium():
    if build_pdf._chromium() is None:
        pytest.fail("No Chromium for the PDF: sudo apt-get install chromium, or run scripts/ensure_system_tools.sh.")


def raw_math(text):
    """Raw TeX outside string literals, line by line (an odd number of quotes before = inside)."""
    found = []
    for line in text.splitlines():
        for match in RAW_MATH.finditer(line):
            before = line[:match.start()]
            if before.count('"') % 2 == 0 and before.count("'") % 2 == 0:
                found.append(match.group(0))
    return found


def chapters(pdf):
    """{bookmark title: text of its pages} from the merged PDF."""
    reader = PdfReader(pdf)
    starts = [(item.title, reader.get_destination_page_number(item)) for item in reader.outline]
    ends = [start for _, start in starts[1:]] + [len(reader.pages)]
    return {title: "\n".join(reader.pages[i].extract_text() for i in range(start, end))
            for (title, start), end in zip(starts, ends)}, reader


def heading(markdown_file):
    """The first `# ` heading of a chapter's source: its title."""
    text = markdown_file.read_text(encoding="utf-8")
    return next(line[2:].strip() for line in text.splitlines() if line.startswith("# "))


def test_raw_math_skips_string_literals_of_code():
    assert raw_math('ax.plot(x, label="потеря $L_D$")') == []
    assert raw_math("умножает на $\\sigma'(z)$ и") == ["$\\sigma'(z)$"]


def test_toc_pages_follow_the_table_of_contents():
    pages = build_pdf.toc_pages(ROOT / "_toc.yml")
    assert pages[0] == "book/index.html" and pages[-1] == "book/glossary.html"
    assert "book/05_gradient_descent.html" in pages and len(pages) == len(set(pages))


def test_missing_build_is_a_clear_error(tmp_path, capsys):
    code = build_pdf.main(["--html", str(tmp_path), "--out", str(tmp_path / "book.pdf")])
    assert code == 2 and not (tmp_path / "book.pdf").exists()
    assert "make book" in capsys.readouterr().err


@pytest.fixture
def stand_in(tmp_path):
    """Two pages in the book's layout, loading the book's vendored MathJax."""
    html = tmp_path / "html"
    (html / "book").mkdir(parents=True)
    shutil.copytree(ROOT / "_assets" / "vendor" / "mathjax", html / "vendor" / "mathjax")
    for name, title in [("index", "Введение"), ("ch", "Градиентный спуск")]:
        (html / "book" / f"{name}.html").write_text(
            f'<!DOCTYPE html><html lang="ru"><head><meta charset="utf-8">'
            f'<script defer src="../vendor/mathjax/tex-chtml.js"></script></head><body><main>'
            f"<h1>{title}</h1><p>Правило \\(w_{{\\text{{new}}}} = w - \\eta \\nabla L\\).</p>"
            f'<details class="sd-dropdown"><summary>Вопрос</summary>Ответ спрятан</details>'
            f"<details><summary>Код</summary>print(1)</details></main></body></html>",
            encoding="utf-8")
    toc = tmp_path / "toc.yml"
    toc.write_text("format: jb-book\nroot: book/index\nchapters:\n  - file: book/ch\n", encoding="utf-8")
    return html, toc


def test_stand_in_prints_with_math_bookmarks_and_open_answers(stand_in, tmp_path):
    _need_chromium()
    html, toc = stand_in
    out = tmp_path / "out" / "book.pdf"
    assert build_pdf.main(["--html", str(html), "--toc", str(toc), "--out", str(out)]) == 0
    texts, _ = chapters(out)
    assert list(texts) == ["Введение", "Градиентный спуск"]
    for text in texts.values():
        assert not raw_math(text), text
        assert "∇" in text and "Ответ спрятан" in text and "print(1)" not in text


@pytest.mark.slow
def test_book_pdf_has_every_chapter_rendered(tmp_path):
    _need_chromium()
    if not (HTML / "index.html").is_file():
        pytest.fail(f"No built book in {HTML}: run `make book` first.")
    out = tmp_path / "book.pdf"
    assert build_pdf.main(["--html", str(HTML), "--out", str(out)]) == 0
    texts, reader = chapters(out)
    pages = build_pdf.toc_pages(ROOT / "_toc.yml")
    assert len(texts) == len(pages), list(texts)
    for page, (title, text) in zip(pages, texts.items()):
        source = ROOT / page.replace(".html", ".md")
        assert " ".join(heading(source).split()) in title, (page, title)
        assert CYRILLIC.search(text), f"{page}: no Cyrillic text in the PDF"
        assert not raw_math(text), f"{page}: raw TeX left: {raw_math(text)}"
    assert sum(len(page.images) for page in reader.pages) >= 20, "the chapters' figures are missing"
