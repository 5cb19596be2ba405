"""One vocabulary: no variant that book/glossary.md rejects appears where a student reads.

The rejected variants live in one place, the table between the ``rejected-variants``
markers in book/glossary.md; this test parses it. One test per file, so that a failure
names the file, the line and the word to write instead.
"""

import json
import re
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
GLOSSARY = ROOT / "book" / "glossary.md"
START, END = "<!-- rejected-variants: start -->", "<!-- rejected-variants: end -->"
CONTEXT = 30  # characters either side of a match that may make it acceptable


@dataclass(frozen=True)
class Rule:
    rejected: re.Pattern
    instead: str
    allowed_near: re.Pattern | None


def _cell_code(cell):
    code = re.fullmatch(r"\s*`(.*)`\s*", cell)
    return code.group(1).replace(r"\|", "|") if code else None


def parse_rules(text):
    table = text.split(START, 1)[1].split(END, 1)[0]
    rules = []
    for line in table.strip().splitlines()[2:]:  # after the header and the |---| row
        cells = re.split(r"(?<!\\)\|", line.strip())[1:-1]
        rejected, instead, allowed = (c.strip() for c in cells)
        allowed_code = _cell_code(allowed)
        rules.append(Rule(re.compile(_cell_code(rejected), re.IGNORECASE), instead,
                          re.compile(allowed_code, re.IGNORECASE) if allowed_code else None))
    return rules


RULES = parse_rules(GLOSSARY.read_text(encoding="utf-8"))


def reader_text(path):
    """What a student or instructor reads in the file (the glossary's own table left out)."""
    text = path.read_text(encoding="utf-8")
    if path.suffix == ".ipynb":
        # Code comments are English; Russian in code cells is messages and printed output.
        return "\n".join("".join(cell["source"]) for cell in json.loads(text)["cells"])
    if path == GLOSSARY:
        head, rest = text.split(START, 1)
        return head + "\n" * rest.split(END, 1)[0].count("\n") + rest.split(END, 1)[1]
    return text


def violations(text, rules=RULES):
    found = []
    for rule in rules:
        for match in rule.rejected.finditer(text):
            near = text[max(match.start() - CONTEXT, 0):match.end() + CONTEXT]
            if rule.allowed_near and rule.allowed_near.search(near):
                continue
            line = text.count("\n", 0, match.start()) + 1
            found.append(f"строка {line}: «{match.group(0)}» → {rule.instead}")
    return found


def prose(markdown):
    """Markdown without code blocks, inline code and math, where a decimal comma would be prose."""
    markdown = re.sub(r"^(```|~~~).*?^\1", "", markdown, flags=re.DOTALL | re.MULTILINE)
    markdown = re.sub(r"\$\$.*?\$\$", "", markdown, flags=re.DOTALL)
    return re.sub(r"`[^`\n]*`|\$[^$\n]*\$", "", markdown)


DECIMAL_COMMA = re.compile(r"(?<![\w.,])\d+,\d+(?![\w,])")

FILES = sorted(
    [*ROOT.glob("book/*.md"), *ROOT.glob("solutions/*/*.ipynb"), *ROOT.glob("dlcourse/*.py"),
     ROOT / "autograder" / "feedback.py"]
)


@pytest.mark.parametrize("path", FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_file_uses_the_glossary_terms(path):
    found = violations(reader_text(path))
    assert not found, f"{path.relative_to(ROOT)}: варианты, которые словарь отвергает:\n" + "\n".join(found)


@pytest.mark.parametrize("path", sorted(ROOT.glob("book/*.md")), ids=lambda p: p.name)
def test_decimal_mark_is_a_point(path):
    commas = DECIMAL_COMMA.findall(prose(path.read_text(encoding="utf-8")))
    assert not commas, f"{path.name}: десятичная запятая вместо точки: {commas}"


def test_the_rules_catch_inflected_variants_and_spare_allowed_uses():
    text = ("мини-пакетами по 32; пакетный спуск; размер пакета; моментума нет; "
            "кросс-энтропией; шагом обучения")
    assert len(violations(text)) == 6
    assert violations("установите пакет torch через pip") == []
    assert violations("функция из пакета курса") == []
    assert violations("свёртка `torch.nn.functional.conv2d` работает с пакетами")
    assert violations("точность вычислений float32") == []
    assert violations("точностью 0.9 на тестовой выборке")


def test_every_rule_has_a_replacement_and_compiles():
    assert len(RULES) >= 10
    assert all(rule.instead for rule in RULES)


def test_decimal_comma_is_found_in_prose_only():
    assert DECIMAL_COMMA.findall(prose("ошибка 0,25 на выборке")) == ["0,25"]
    assert DECIMAL_COMMA.findall(prose("точка $(0, 0)$ и `f(1,2)` и 0.25")) == []
