"""The student's JupyterLab, from the course's environment, in a real browser with no internet.

The README tells a student to start `.venv/bin/jupyter lab`, open an exercise, press nbgrader's
Validate and open a chapter with «Открыть с помощью → Блокнот». This module does exactly that:
it starts the venv's JupyterLab on loopback with a token, in a temp root holding a copy of an
exercise and of a chapter, with temp HOME and Jupyter folders so that nothing of the user's own
configuration takes part (the environment's own settings do: that is what is tested). Headless
Chromium drives it as in test_book_html.py: Debian's package, every request that leaves
127.0.0.1 blocked and recorded. The tests share one page and run in order, like a student's
session; the last one reads what the whole session logged. The server is stopped at the end.
"""

import dataclasses
import json
import os
import re
import secrets
import shutil
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import jupytext
import nbformat
import pytest
from PIL import Image
from playwright.sync_api import sync_playwright
from test_book_html import _chromium, _is_local

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
STEM = "05_gradient_descent"
EXERCISE = ROOT / "exercises" / STEM / f"{STEM}.ipynb"
SOLUTION = ROOT / "solutions" / STEM / f"{STEM}.ipynb"
CHAPTER = ROOT / "book" / f"{STEM}.md"
COURSE_ID = "dlcourse"
# The answer the student types: first with the sign of the step wrong, then right.
ANSWER_CELL = "gd_step"
STUB = "raise NotImplementedError()"
WRONG_ANSWER = "return w + lr * grad"
RIGHT_ANSWER = "return w - lr * grad"
# What the visible test of gd_step says about the wrong sign (dlcourse.checks.assert_close).
FAILURE_MESSAGE = "gd_step(3.0, 6.0, 0.1): ожидалось 2.4, получено 3.6"
SUCCESS_MESSAGE = "Success! Your notebook passes all the tests."
# For the README (section «For students»); docs/jupyterlab-validate.png is a copy of it.
SCREENSHOT = ROOT / "_build" / "screenshots" / "jupyterlab-validate.png"
VIEWPORT = {"width": 1000, "height": 650}
SERVER_URL = re.compile(r"(http://127\.0\.0\.1:\d+/)lab\?token=")
SERVER_START_S = 120
READINESS_POLL_S = 0.1
# Validate runs the whole notebook in a fresh kernel, on a machine shared with other jobs.
VALIDATE_TIMEOUT_MS = 120_000
PAGE_TIMEOUT_MS = 60_000
# The version checks of Module Federation: extensions built against another JupyterLab.
VERSION_WARNING = re.compile(r"shared module|Unsatisfied version|No satisfying version")
CYRILLIC = re.compile("[а-яё]", re.IGNORECASE)
# Labels that JupyterLab takes from its settings schemas are translated by the server, which
# follows only the user's own choice of language (jupyterlab_server 2.28 reads the locale
# from user settings, not from the environment's defaults), so they may read either way.
OPEN_WITH = re.compile(r"^(Открыть с помощью|Open With)$")
NOTEBOOK_FACTORY = re.compile(r"^Блокнот$")
ASSIGNMENT_LIST = re.compile(r"^Assignment List$")


@dataclasses.dataclass
class Session:
    """What the browser did during the whole session."""

    remote_requests: list = dataclasses.field(default_factory=list)
    console_errors: list = dataclasses.field(default_factory=list)
    version_warnings: list = dataclasses.field(default_factory=list)
    bad_responses: list = dataclasses.field(default_factory=list)


def _answer(source, body):
    return source.replace(STUB, body)


def _student_copy(folder):
    """The exercise as a student has it who solved every task but gd_step, and the chapter."""
    exercise = nbformat.read(EXERCISE, as_version=4)
    solution = nbformat.read(SOLUTION, as_version=4)
    answers = {
        cell.metadata["nbgrader"]["grade_id"]: cell.source
        for cell in solution.cells
        if cell.metadata.get("nbgrader", {}).get("solution")
    }
    for cell in exercise.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if cell.metadata.get("nbgrader", {}).get("solution") and grade_id != ANSWER_CELL:
            cell.source = answers[grade_id]
    nbformat.write(exercise, folder / EXERCISE.name)
    shutil.copy(CHAPTER, folder / CHAPTER.name)
    # An exchange of its own where the instructor has released the exercise, for the
    # Assignment List to show (nbgrader's layout: <root>/<course>/outbound/<assignment>/).
    exchange = folder.parent / "exchange"
    released = exchange / COURSE_ID / "outbound" / STEM
    released.mkdir(parents=True)
    shutil.copy(EXERCISE, released)
    (folder / "nbgrader_config.py").write_text(
        f"c = get_config()\nc.CourseDirectory.course_id = {COURSE_ID!r}\nc.Exchange.root = {str(exchange)!r}\n",
        encoding="utf-8",
    )


def _private_env(base):
    """The environment with every per-user Jupyter and IPython folder moved into `base`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("JUPYTER", "IPYTHON"))}
    folders = {
        "HOME": "home",
        "XDG_CONFIG_HOME": "home/.config",
        "XDG_DATA_HOME": "home/.local/share",
        "XDG_CACHE_HOME": "home/.cache",
        "JUPYTER_CONFIG_DIR": "jupyter/config",
        "JUPYTER_DATA_DIR": "jupyter/data",
        "JUPYTER_RUNTIME_DIR": "jupyter/runtime",
        "IPYTHONDIR": "ipython",
    }
    for name, folder in folders.items():
        (base / folder).mkdir(parents=True, exist_ok=True)
        env[name] = str(base / folder)
    # The student's answer to «Would you like to get notified about official Jupyter news?»,
    # which would otherwise cover the screenshot.
    notification = base / "jupyter/config/lab/user-settings/@jupyterlab/apputils-extension"
    notification.mkdir(parents=True)
    (notification / "notification.jupyterlab-settings").write_text(
        json.dumps({"fetchNews": "false", "checkForUpdates": False}), encoding="utf-8"
    )
    return env


class _Server:
    """`jupyter lab` from this environment, on loopback, with its log kept."""

    def __init__(self, base):
        root = base / "course"
        root.mkdir()
        _student_copy(root)
        self.token = secrets.token_hex(16)
        self.log = []
        self._url_seen = threading.Event()
        self.url = None
        command = [
            sys.executable, "-m", "jupyter", "lab", "--no-browser",
            "--ServerApp.ip=127.0.0.1", "--ServerApp.port=0", "--ServerApp.port_retries=0",
            f"--IdentityProvider.token={self.token}", f"--ServerApp.root_dir={root}",
            # CI runs as root; the server refuses to start as root without this.
            "--ServerApp.allow_root=True",
        ]  # fmt: skip
        # nbgrader's server extensions read nbgrader_config.py from the working folder.
        self.process = subprocess.Popen(
            command, cwd=root, env=_private_env(base), stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        )  # fmt: skip
        threading.Thread(target=self._read_log, daemon=True).start()

    def _read_log(self):
        for line in self.process.stdout:
            self.log.append(line)
            if match := (not self.url and SERVER_URL.search(line)):
                self.url = match.group(1)
                self._url_seen.set()
        self._url_seen.set()  # the server exited

    def wait_ready(self):
        """Wait for the URL in the log, then for the server to answer on it."""
        self._url_seen.wait(SERVER_START_S)
        assert self.url, "JupyterLab did not start:\n" + "".join(self.log[-40:])
        # The server logs its URL before its event loop opens the port: poll until it answers.
        # No proxy: a loopback request must not go through one.
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        request = urllib.request.Request(
            self.url + "api/status", headers={"Authorization": f"token {self.token}"}
        )
        deadline = time.monotonic() + SERVER_START_S
        while True:
            try:
                with opener.open(request, timeout=10) as response:
                    assert response.status == 200, response.status
                    return
            except urllib.error.URLError:
                assert self.process.poll() is None, "JupyterLab exited:\n" + "".join(self.log[-40:])
                assert time.monotonic() < deadline, f"JupyterLab does not answer on {self.url}"
                time.sleep(READINESS_POLL_S)

    def stop(self):
        self.process.terminate()
        try:
            self.process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    lab = _Server(tmp_path_factory.mktemp("jupyterlab"))
    try:
        lab.wait_ready()
        yield lab
    finally:
        lab.stop()


@pytest.fixture(scope="module")
def session():
    return Session()


@pytest.fixture(scope="module")
def page(server, session):
    """JupyterLab open in one page for the whole module, cut off from everything but loopback."""

    def route(route):
        if _is_local(route.request.url):
            route.continue_()
        else:
            session.remote_requests.append(route.request.url)
            route.abort()

    def console(message):
        if message.type == "error":
            session.console_errors.append(message.text)
        elif VERSION_WARNING.search(message.text):
            session.version_warnings.append(message.text)

    with sync_playwright() as p:
        # As in test_book_html.py: Chromium's sandbox needs user namespaces that CI lacks.
        browser = p.chromium.launch(executable_path=_chromium(), args=["--no-sandbox"])
        context = browser.new_context(viewport=VIEWPORT)
        context.set_default_timeout(PAGE_TIMEOUT_MS)
        context.route("**/*", route)
        page = context.new_page()
        page.on("console", console)
        page.on("pageerror", lambda error: session.console_errors.append(str(error)))
        page.on("websocket", lambda ws: _is_local(ws.url) or session.remote_requests.append(ws.url))
        page.on("response", lambda r: r.status >= 400 and session.bad_responses.append(f"{r.status} {r.url}"))
        page.goto(f"{server.url}lab?token={server.token}")
        page.locator(".jp-DirListing-item", has_text=EXERCISE.name).wait_for()
        yield page
        browser.close()


def _menu_item(page, label):
    """The item of the open menus whose label reads `label` (a regular expression)."""
    return page.locator(".lm-Menu-item").filter(has=page.locator(".lm-Menu-itemLabel", has_text=label))


def _type_answer(page, source):
    """Replace the whole answer cell with `source`, as a student would by selecting it all."""
    editor = page.locator(".jp-CodeCell", has_text=f"def {ANSWER_CELL}(").locator(".cm-content")
    editor.click()
    page.keyboard.press("Control+a")
    # Typed key by key, the editor would indent each new line once more.
    page.keyboard.insert_text(source)


def _validate(page):
    """Press Validate and return nbgrader's result dialog once the notebook has run."""
    page.locator(".validate-button").click()
    dialog = page.locator(".jp-Dialog").filter(has=page.locator(".validation-failed, .validation-success"))
    dialog.wait_for(timeout=VALIDATE_TIMEOUT_MS)
    return dialog


def _close(dialog):
    dialog.locator(".jp-Dialog-button.jp-mod-accept").click()
    dialog.wait_for(state="detached")


def _save_screenshot(page):
    SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SCREENSHOT)
    # A palette of 64 colours keeps the UI's flat colours and text legible at a fraction of the size.
    with Image.open(SCREENSHOT) as image:
        small = image.convert("RGB").quantize(colors=64)
    small.save(SCREENSHOT, optimize=True)


def test_the_interface_is_russian(page):
    menus = page.locator("#jp-menu-panel .lm-MenuBar-itemLabel").all_inner_texts()
    assert "Файл" in menus and "Настройки" in menus, f"the menu bar is not in Russian: {menus}"
    # JupyterLab's own panels; nbgrader's (on the right) have no translations.
    tooltips = page.locator(".jp-SideBar.jp-mod-left [title]").evaluate_all("els => els.map((e) => e.title)")
    assert tooltips and all(CYRILLIC.search(t) for t in tooltips), f"side bar tooltips: {tooltips}"


def test_validate_shows_the_failing_test_then_success(page):
    page.locator(".jp-DirListing-item", has_text=EXERCISE.name).dblclick()
    exercise = nbformat.read(EXERCISE, as_version=4)
    (stub,) = [
        c.source for c in exercise.cells if c.metadata.get("nbgrader", {}).get("grade_id") == ANSWER_CELL
    ]

    _type_answer(page, _answer(stub, WRONG_ANSWER))
    dialog = _validate(page)
    failure = dialog.inner_text()
    assert dialog.locator(".validation-failed").count(), f"Validate passed a wrong answer:\n{failure}"
    assert FAILURE_MESSAGE in failure, f"Validate does not show the visible test's message:\n{failure}"
    # The message closes a long traceback: show it, as a student scrolls down to read it.
    dialog.locator("pre", has_text=FAILURE_MESSAGE).evaluate("e => e.scrollIntoView({block: 'end'})")
    _save_screenshot(page)
    _close(dialog)

    _type_answer(page, _answer(stub, RIGHT_ANSWER))
    dialog = _validate(page)
    success = dialog.inner_text()
    assert SUCCESS_MESSAGE in success, f"Validate failed the right answer:\n{success}"
    _close(dialog)


def test_a_chapter_opens_as_a_notebook(page):
    page.locator(".jp-DirListing-item", has_text=CHAPTER.name).click(button="right")
    _menu_item(page, OPEN_WITH).hover()
    _menu_item(page, NOTEBOOK_FACTORY).click()
    panel = page.locator(".jp-NotebookPanel:visible")
    cells = jupytext.read(CHAPTER).cells
    title = cells[0].source.splitlines()[0].lstrip("# ")
    panel.locator(".jp-MarkdownCell h1", has_text=title).wait_for()
    # The notebook renders only the cells in view: they must be the chapter's first ones.
    shown = panel.locator(".jp-Cell").evaluate_all(
        "els => els.map((e) => e.classList.contains('jp-CodeCell') ? 'code' : 'markdown')"
    )
    expected = [cell.cell_type for cell in cells[: len(shown)]]
    assert len(shown) >= 2 and shown == expected, f"cells shown: {shown}, the chapter's: {expected}"
    first_code = next(cell.source for cell in cells if cell.cell_type == "code")
    lines = panel.locator(".jp-CodeCell .cm-content").first.locator(".cm-line")
    code = "\n".join(lines.evaluate_all("els => els.map((e) => e.textContent)"))
    assert code == first_code, f"the first code cell reads:\n{code}\nthe chapter's:\n{first_code}"


def test_the_assignment_list_shows_a_released_assignment(page):
    page.locator(".lm-MenuBar-item", has_text="Nbgrader").click()
    _menu_item(page, ASSIGNMENT_LIST).click()
    released = page.locator("#released_assignments_list")
    row = released.locator(".list_item", has_text=STEM)
    row.wait_for()
    assert row.locator("button", has_text="Fetch").count(), f"no «Fetch» for {STEM}: {row.inner_text()}"


def test_no_console_errors_and_nothing_leaves_loopback(page, session):
    assert not session.console_errors, "JavaScript errors:\n  " + "\n  ".join(session.console_errors)
    assert not session.version_warnings, "lab extensions built for another JupyterLab:\n  " + "\n  ".join(
        session.version_warnings
    )
    assert not session.remote_requests, "requests to the internet:\n  " + "\n  ".join(session.remote_requests)
    assert not session.bad_responses, "failed requests:\n  " + "\n  ".join(session.bad_responses)
