"""The environment and the project's tooling are what the README promises."""

import importlib.metadata
import importlib.util
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from jupyterlab_server.translation_utils import get_language_packs
from packaging.requirements import Requirement
from packaging.version import Version
from sphinx.util.matching import Matcher

ROOT = Path(__file__).resolve().parents[1]
ANSI = re.compile(r"\x1b\[[0-9;]*m")
# The versions the course is written against (see the issue that set up the project).
KEY_PINS = {"torch": "2.13.0", "jupyter-book": "1.0.4.post1", "nbgrader": "0.9.6", "jupyterlab": "4.6.6"}
COURSE_FOLDERS = ("book", "solutions", "exercises")
MAKE_TARGETS = ("book", "test", "exercises", "grade", "lint", "clean")
PIP_INSTALL = re.compile(r"(?:^|[\s!%])(?:pip|pip3|conda|mamba)\s+install\b", re.MULTILINE)


def _requirements():
    lines = (ROOT / "requirements.txt").read_text(encoding="utf-8").splitlines()
    return [line.strip() for line in lines if line.strip() and not line.lstrip().startswith("#")]


def _pins():
    return {Requirement(line).name.lower(): Requirement(line) for line in _requirements()}


def _jupyter(*args):
    """Run the venv's `jupyter` and return what it printed, without colours."""
    result = subprocess.run(
        [sys.executable, "-m", "jupyter", *args], capture_output=True, text=True, timeout=120, check=True
    )
    return ANSI.sub("", result.stdout + result.stderr)


def test_every_requirement_is_an_exact_pin():
    loose = [line for line in _requirements() if not re.fullmatch(r"[A-Za-z0-9._-]+==[A-Za-z0-9.+!-]+", line)]
    assert not loose, f"requirements.txt must pin every package with ==, these do not: {loose}"
    names = [Requirement(line).name.lower() for line in _requirements()]
    duplicates = sorted({name for name in names if names.count(name) > 1})
    assert not duplicates, f"pinned twice: {duplicates}"


def test_key_versions_are_pinned():
    pins = _pins()
    for name, version in KEY_PINS.items():
        assert name in pins, f"{name} is not pinned in requirements.txt"
        assert str(pins[name].specifier) == f"=={version}", f"{name}: expected =={version}, got {pins[name]}"
    # torchvision does not import here, and pulls its own torch.
    assert "torchvision" not in pins


def test_installed_packages_match_the_pins():
    wrong = []
    for name, requirement in _pins().items():
        try:
            installed = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            installed = None
        # `torch==2.13.0` accepts the CPU wheel's local label, 2.13.0+cpu.
        if installed is None or not requirement.specifier.contains(Version(installed)):
            wrong.append(f"{requirement} (installed: {installed})")
    assert not wrong, "the environment differs from requirements.txt (run `make venv`):\n  " + "\n  ".join(
        wrong
    )
    assert importlib.util.find_spec("torchvision") is None, (
        "torchvision is installed, but it does not import here"
    )


def test_python_is_3_11():
    assert sys.version_info[:2] == (3, 11), f"the course pins Python 3.11, this is {sys.version.split()[0]}"


def test_conda_environment_installs_the_pip_pins():
    env = yaml.safe_load((ROOT / "environment.yml").read_text(encoding="utf-8"))
    dependencies = env["dependencies"]
    assert "python=3.11" in dependencies, f"environment.yml must pin python=3.11: {dependencies}"
    pip = [d["pip"] for d in dependencies if isinstance(d, dict) and "pip" in d]
    assert pip == [["-r requirements.txt"]], (
        f"environment.yml must install exactly `-r requirements.txt`: {pip}"
    )
    # Anything else conda installs could shadow a pin.
    others = [d for d in dependencies if isinstance(d, str) and d.split("=")[0] not in ("python", "pip")]
    assert not others, f"environment.yml installs packages outside requirements.txt: {others}"


def test_makefile_targets_are_phony():
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    phony = {
        target for line in re.findall(r"^\.PHONY:(.*)$", makefile, re.MULTILINE) for target in line.split()
    }
    # `book/` and `exercises/` are folders: without .PHONY, make would call those targets up to date.
    missing = [target for target in MAKE_TARGETS if target not in phony]
    assert not missing, f"Makefile: declare {missing} as .PHONY"
    undefined = [target for target in MAKE_TARGETS if not re.search(rf"^{target}:", makefile, re.MULTILINE)]
    assert not undefined, f"Makefile lacks the targets {undefined}"


def test_make_book_builds_strictly_and_make_test_runs_pytest():
    def plan(target):
        return subprocess.run(
            ["make", "-n", target], cwd=ROOT, capture_output=True, text=True, check=True, timeout=60
        ).stdout

    book = plan("book")
    assert re.search(r"jupyter-book build .*-W", book) and "-n" in book and "--keep-going" in book, book
    assert "pytest" in plan("test")


def test_ci_runs_make_test():
    ci = ROOT / ".ci" / "run"
    assert ci.stat().st_mode & 0o111, ".ci/run must be executable"
    commands = [line.strip() for line in ci.read_text(encoding="utf-8").splitlines()]
    assert "make test" in commands, f".ci/run must run `make test`: {commands}"


def test_book_config():
    config = yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))
    execute = config["execute"]
    assert execute["execute_notebooks"] == "cache"
    assert isinstance(execute.get("timeout"), int) and execute["timeout"] > 0, "set a per-cell timeout"
    assert config["only_build_toc_files"] is True
    # Sphinx skips a folder that a pattern matches, with its own glob rules.
    excluded = Matcher(config.get("exclude_patterns", []))
    assert excluded("solutions") or excluded("solutions/05_gradient_descent"), (
        "exclude solutions/ from the book"
    )
    assert config["sphinx"]["config"]["language"] == "ru"


def test_toc_and_chapters_agree(toc_files):
    missing = [
        f for f in toc_files if not any((ROOT / f"{f}{suffix}").is_file() for suffix in (".md", ".ipynb"))
    ]
    assert not missing, f"_toc.yml lists files that do not exist: {missing}"
    # `_name.md` files are fragments that chapters {include}, not pages.
    chapters = {
        p.relative_to(ROOT).with_suffix("").as_posix()
        for p in (ROOT / "book").glob("*.md")
        if not p.name.startswith("_")
    }
    orphans = sorted(chapters - set(toc_files))
    assert not orphans, f"chapters missing from _toc.yml (they would not be built): {orphans}"


def test_chapters_are_markdown_and_notebooks_have_no_outputs():
    assert not list((ROOT / "book").rglob("*.ipynb")), "chapters are MyST Markdown, not .ipynb"
    # The course's own notebooks; the grader's sample submissions are students' files, as handed in.
    tracked = subprocess.run(
        ["git", "ls-files", "-z", "--", *(f"{folder}/*.ipynb" for folder in COURSE_FOLDERS)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    with_outputs = []
    for name in filter(None, tracked.split("\0")):
        cells = json.loads((ROOT / name).read_text(encoding="utf-8"))["cells"]
        if any(
            c.get("outputs") or c.get("execution_count") is not None
            for c in cells
            if c["cell_type"] == "code"
        ):
            with_outputs.append(name)
    assert not with_outputs, f"committed notebooks with outputs (clear them): {with_outputs}"


def test_nothing_installs_packages_at_run_time():
    sources = [
        p
        for folder in COURSE_FOLDERS
        for p in (ROOT / folder).rglob("*")
        if p.suffix in (".md", ".ipynb", ".py") and ".ipynb_checkpoints" not in p.parts
    ]
    offenders = [
        p.relative_to(ROOT).as_posix() for p in sources if PIP_INSTALL.search(p.read_text(encoding="utf-8"))
    ]
    assert not offenders, f"packages come from requirements.txt only, not from pip install in: {offenders}"


def test_jupyterlab_loads_the_nbgrader_and_jupytext_extensions(lab_extensions):
    # nbgrader 0.9.6's and jupytext's lab extensions are built against JupyterLab 4.6.
    assert "JupyterLab v4.6" in lab_extensions, f"the lab extensions need JupyterLab 4.6:\n{lab_extensions}"
    assert re.search(r"@jupyter/nbgrader v0\.9\.6 enabled\s+OK", lab_extensions), lab_extensions
    # «Open With → Notebook» for the chapters' .md files.
    assert re.search(r"jupyterlab-jupytext v\S+ enabled\s+OK", lab_extensions), lab_extensions


def test_jupyterlab_has_the_russian_language_pack():
    packs, message = get_language_packs()
    assert "ru_RU" in packs, f"no Russian language pack for JupyterLab: {sorted(packs)} {message}"


@pytest.mark.parametrize("extension", ["validate_assignment", "assignment_list", "formgrader"])
def test_nbgrader_server_extensions_are_enabled(extension, server_extensions):
    # validate_assignment answers the «Validate» button.
    assert re.search(rf"nbgrader\.server_extensions\.{extension} enabled", server_extensions), (
        server_extensions
    )
    assert re.search(rf"nbgrader\.server_extensions\.{extension}\s+OK", server_extensions), server_extensions


@pytest.fixture(scope="module")
def lab_extensions():
    return _jupyter("labextension", "list")


@pytest.fixture(scope="module")
def server_extensions():
    return _jupyter("server", "extension", "list")
