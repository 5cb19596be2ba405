"""Fixtures shared by several test modules."""

from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]


def _files(entries):
    for entry in entries:
        if "file" in entry:
            yield entry["file"]
        for key in ("parts", "chapters", "sections"):
            yield from _files(entry.get(key, []))


@pytest.fixture(scope="session")
def toc_files():
    """The pages that _toc.yml lists (root first), without suffix, as Jupyter Book names them."""
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text(encoding="utf-8"))
    return [toc["root"], *_files([toc])]
