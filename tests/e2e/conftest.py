"""End-to-end fixtures: the real service under gunicorn, driven by Chromium on a tablet.

* ``server`` (session, one per database backend): a fresh database, migrations and
  demo data loaded through the CLI, then gunicorn started exactly as in production
  (``deploy/gunicorn.conf.py``), CSRF on.
* ``tablet`` (a factory) and ``context``/``page``: iPad-sized touch contexts in Danish
  that record Content-Security-Policy violations and uncaught page errors; a test
  that caused any of them fails at teardown.
* ``axe``: axe-core run against a page, failing on WCAG 2.1 A/AA violations.
* ``database``: read what the server stored, straight from the database.
"""

from __future__ import annotations

import os
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path

import pytest
import sqlalchemy as sa
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import expect
from sqlalchemy.orm import Session

from tests.conftest import FROZEN_NOW, fresh_database

ROOT = Path(__file__).resolve().parents[2]
VENV_BIN = ROOT / ".venv" / "bin"
E2E_DIR = Path(__file__).resolve().parent

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]
#: iPad in landscape, touch, Danish.
TABLET = {"viewport": {"width": 1024, "height": 768}, "has_touch": True, "locale": "da-DK"}

SECRET_KEY = "e2e-secret-key-not-for-production"
PSEUDONYM_KEY = "e2e-pseudonym-key"
STARTUP_TIMEOUT = 20.0

# The default 5 s is tight for a page round trip on a busy CI machine (two gunicorn
# workers, PostgreSQL and Chromium sharing a few cores).
expect.set_options(timeout=15_000)


def pytest_collection_modifyitems(items):
    for item in items:
        if E2E_DIR in Path(str(item.path)).resolve().parents:
            item.add_marker(pytest.mark.e2e)


# --- the browser -------------------------------------------------------------------

@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "args": CHROMIUM_ARGS}


@pytest.fixture(scope="session")
def base_url(server) -> str:
    # Also replaces pytest-playwright's fallback fixture, a session fixture defined as an
    # instance method, which pytest ≥ 9.1 deprecates (a warning, so an error here).
    return server.base_url


# --- the server --------------------------------------------------------------------

@dataclass(frozen=True)
class Server:
    base_url: str
    database_url: str
    #: gunicorn's error log (tracebacks land here).
    log: Path
    pseudonym_key: str = PSEUDONYM_KEY

    def url(self, path: str) -> str:
        return self.base_url + path

    def log_tail(self, lines: int = 80) -> str:
        text = self.log.read_text(errors="replace") if self.log.exists() else ""
        return "\n".join(text.splitlines()[-lines:])


#: The server of the backend being tested, for the failure report below.
_running: list[Server] = []


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if report.failed and report.when in ("call", "teardown") and _running:
        if E2E_DIR in Path(str(item.path)).resolve().parents:
            report.sections.append(("gunicorn error log (tail)", _running[-1].log_tail()))


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _server_env(database_url: str, bind: str) -> dict[str, str]:
    # Nothing from the developer's own FEEDBACK_* settings leaks into the server.
    env = {k: v for k, v in os.environ.items() if not k.startswith("FEEDBACK_")}
    env.update({
        "FEEDBACK_DATABASE_URL": database_url,
        "FEEDBACK_SECRET_KEY": SECRET_KEY,
        "FEEDBACK_PSEUDONYM_KEY": PSEUDONYM_KEY,
        "FEEDBACK_BIND": bind,
        "FEEDBACK_WORKERS": "2",
        # The server's clock starts at the tests' frozen instant and runs on, so
        # no browser test depends on the date or hour it runs (decision 29).
        "FEEDBACK_CLOCK_START": FROZEN_NOW.isoformat(),
    })
    return env


def _flask(env: dict[str, str], *args: str) -> None:
    done = subprocess.run([str(VENV_BIN / "flask"), "--app", "feedback", *args], cwd=ROOT,
                          env=env, capture_output=True, text=True, timeout=120, check=False)
    if done.returncode != 0:
        pytest.fail(f"flask {' '.join(args)} failed ({done.returncode}):\n"
                    f"{done.stdout}\n{done.stderr}", pytrace=False)


def _wait_until_up(proc: subprocess.Popen, url: str, stderr_path: Path) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            break
        try:
            with urllib.request.urlopen(url, timeout=2) as answer:  # noqa: S310 - local test URL
                if answer.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.1)
    state = f"exited with {proc.returncode}" if proc.poll() is not None else "did not answer"
    pytest.fail(f"gunicorn {state} within {STARTUP_TIMEOUT:.0f} s; its stderr:\n"
                f"{stderr_path.read_text(errors='replace')}", pytrace=False)


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.terminate()  # SIGTERM: gunicorn's graceful shutdown
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


@pytest.fixture(scope="session")
def server(backend, tmp_path_factory) -> Iterator[Server]:
    """The real service under gunicorn on a fresh, migrated database with the demo data."""
    logs = tmp_path_factory.mktemp(f"gunicorn-{backend}")
    with fresh_database(backend, tmp_path_factory) as database_url:
        port = _free_port()
        env = _server_env(database_url, f"127.0.0.1:{port}")
        _flask(env, "db", "upgrade")
        _flask(env, "demo", "load")
        stdout_path, stderr_path = logs / "stdout.log", logs / "stderr.log"
        with open(stdout_path, "wb") as out, open(stderr_path, "wb") as err:
            # --no-control-socket: gunicorn ≥ 25 otherwise claims ~/.gunicorn/gunicorn.ctl,
            # which a second server on this machine (another run, a dev server) shares.
            proc = subprocess.Popen(
                [str(VENV_BIN / "gunicorn"), "-c", "deploy/gunicorn.conf.py",
                 "--no-control-socket", "feedback:create_app()"],
                cwd=ROOT, env=env, stdout=out, stderr=err, stdin=subprocess.DEVNULL,
            )
            try:
                base_url = f"http://127.0.0.1:{port}"
                _wait_until_up(proc, base_url + "/login", stderr_path)
                running = Server(base_url=base_url, database_url=database_url, log=stderr_path)
                _running.append(running)
                yield running
            finally:
                if _running:
                    _running.pop()
                _stop(proc)


# --- the database, read directly -----------------------------------------------------

class Database:
    """Short-lived ORM sessions on the server's database, for checking what was stored."""

    def __init__(self, url: str):
        self.url = url

    @contextmanager
    def session(self) -> Iterator[Session]:
        engine = sa.create_engine(self.url)
        try:
            with Session(engine) as session:
                yield session
        finally:
            engine.dispose()

    def scalar(self, stmt):
        with self.session() as s:
            return s.scalar(stmt)

    def all(self, stmt) -> list:
        with self.session() as s:
            return list(s.execute(stmt).all())


@pytest.fixture
def database(server) -> Database:
    return Database(server.database_url)


# --- tablet contexts that fail the test on a CSP violation ---------------------------

CSP_RECORDER = """
(() => {
  window.__cspViolations = [];
  window.addEventListener("securitypolicyviolation", (e) => {
    const v = {directive: e.violatedDirective, blocked: e.blockedURI, source: e.sourceFile,
               line: e.lineNumber, sample: e.sample, page: document.location.href};
    window.__cspViolations.push(v);
    if (typeof window.__e2eReportCsp === "function") window.__e2eReportCsp(v);
  }, true);
})();
"""


class BrowserProblems:
    """CSP violations, CSP console messages and uncaught errors of a test's pages."""

    def __init__(self):
        self.csp: list[str] = []
        self.errors: list[str] = []
        self.contexts: list = []

    def watch(self, context) -> None:
        self.contexts.append(context)
        context.expose_binding(
            "__e2eReportCsp", lambda _source, v: self.csp.append(f"event: {v}"))
        context.add_init_script(CSP_RECORDER)
        context.on("console", self._on_console)
        context.on("page", lambda page: page.on(
            "pageerror", lambda error: self.errors.append(f"{page.url}: {error}")))

    def _on_console(self, message) -> None:
        if "content security policy" in message.text.lower():
            self.csp.append(f"console {message.type}: {message.text}")

    def collect_open_pages(self) -> None:
        """Pick up violations that are in a page but did not reach the binding yet."""
        for context in self.contexts:
            for page in context.pages:
                if page.is_closed():
                    continue
                try:
                    found = page.evaluate("window.__cspViolations || []")
                except Exception:  # noqa: BLE001 - a page mid-navigation has nothing to tell
                    continue
                for v in found:
                    entry = f"event: {v}"
                    if entry not in self.csp:
                        self.csp.append(entry)

    def assert_clean(self) -> None:
        self.collect_open_pages()
        problems = [f"CSP violation – {c}" for c in self.csp]
        problems += [f"uncaught page error – {e}" for e in self.errors]
        assert not problems, "The browser reported problems:\n" + "\n".join(problems)


@pytest.fixture
def browser_problems() -> BrowserProblems:
    return BrowserProblems()


@pytest.fixture
def tablet(new_context, browser_context_args, browser_problems, request):
    """Factory: a new tablet context (1024×768, touch, da-DK) watched for CSP violations.

    Keyword arguments override the tablet settings, e.g. ``tablet(viewport={...},
    is_mobile=True)`` for a phone. Settings that pytest-playwright already passes
    (base_url, --device, --video, a ``browser_context_args`` marker) win over the
    tablet defaults and cannot be overridden here.
    """
    marker = next(request.node.iter_markers("browser_context_args"), None)
    preset = set(browser_context_args) | set(marker.kwargs if marker else ())

    def make(**overrides):
        clash = preset & set(overrides)
        if clash:
            raise TypeError(f"already set for every context: {sorted(clash)}")
        defaults = {k: v for k, v in TABLET.items() if k not in preset}
        context = new_context(**{**defaults, **overrides})
        browser_problems.watch(context)
        return context

    yield make
    browser_problems.assert_clean()


@pytest.fixture
def context(tablet):
    """pytest-playwright's ``context`` and ``page`` are tablet contexts here too."""
    return tablet()


# --- accessibility -------------------------------------------------------------------

WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]


@cache
def axe_source() -> str:
    """The axe-core build shipped inside axe_playwright_python."""
    package = resources.files("axe_playwright_python")
    scripts = sorted(p for p in package.iterdir() if p.name.endswith(".js"))
    assert scripts, f"no axe-core script in {package}"
    return scripts[0].read_text(encoding="utf-8")


def format_violations(violations: list[dict]) -> str:
    lines = []
    for v in violations:
        lines.append(f"- {v['id']} ({v.get('impact')}): {v['help']} <{v.get('helpUrl', '')}>")
        for node in v["nodes"]:
            lines.append(f"    target {node['target']}: {node['html'][:300]}")
            summary = (node.get("failureSummary") or "").replace("\n", " ")
            if summary:
                lines.append(f"      {summary[:400]}")
    return "\n".join(lines)


def _axe_results(page) -> dict:
    if not page.evaluate("typeof window.axe === 'object'"):
        page.evaluate(axe_source())
    return page.evaluate(
        """(tags) => axe.run(document, {runOnly: {type: "tag", values: tags},
                                          resultTypes: ["violations"]})""",
        WCAG_TAGS,
    )


def run_axe(page, label: str = "") -> None:
    """Inject axe-core (evaluate, not a script tag: the CSP forbids those) and run it.

    Runs on the settled page: if a navigation was still under way (say, right after
    a tap on a link), it waits for the new page to load and checks that one.
    """
    for attempt in range(3):
        page.wait_for_load_state("load")
        try:
            result = _axe_results(page)
            break
        except PlaywrightError as error:
            if "Execution context was destroyed" not in str(error) or attempt == 2:
                raise
    violations = result["violations"]
    if violations:
        text = format_violations(violations)
        print(f"axe violations on {label or page.url}:\n{text}")
        pytest.fail(f"WCAG 2.1 AA violations on {label or page.url}:\n{text}", pytrace=False)


@pytest.fixture
def axe():
    """``axe(page, label)`` fails the test on any WCAG 2.1 A/AA violation."""
    return run_axe
