"""The page shell in a real browser: sign-in, home, errors, accessibility, CSP, small screens.

One real server (`healthequity demo --no-serve`, then `healthequity serve`) runs per database
kind; Debian's Chromium drives it through Playwright (no browser is ever downloaded).
Screenshots go to `test-artifacts/` for people to look at.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import (
    Browser,
    BrowserContext,
    ConsoleMessage,
    Page,
    Route,
    expect,
    sync_playwright,
)
from playwright.sync_api import Error as PlaywrightError
from sqlalchemy.engine import make_url

from healthequity.auth.demo import DEMO_PASSWORD, DEMO_USERS
from healthequity.auth.models import Role
from healthequity.auth.pages import SIGN_IN_FAILED
from healthequity.web.security import CSRF_FIELD

pytestmark = pytest.mark.browser

REPO_ROOT = Path(__file__).resolve().parents[2]
ASSETS_DIR = REPO_ROOT / "assets" / "node_modules"
ARTIFACTS = REPO_ROOT / "test-artifacts"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
STARTUP_TIMEOUT = 30.0
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 375, "height": 812}
DASH = "\N{EN DASH}"  # between the page and the service name in titles

CLINICIAN = next(user for user in DEMO_USERS if user.roles == (Role.CLINICIAN,))

# Records Content-Security-Policy violations: an init script is not subject to the policy.
CSP_RECORDER = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.__cspViolations.push(
    `${event.violatedDirective} blocked ${event.blockedURI || "inline"}` +
      ` (${event.sourceFile || "page"}:${event.lineNumber})`
  );
});
"""


@dataclass(frozen=True)
class Server:
    base_url: str
    kind: str


@dataclass
class Checks:
    """Independent checks: a failing one is recorded and the others still run."""

    failures: list[str] = field(default_factory=list)

    @contextmanager
    def check(self, name: str) -> Iterator[None]:
        try:
            yield
        except (AssertionError, PlaywrightError) as error:
            self.failures.append(f"{name}:\n{error}")

    def assert_all_passed(self) -> None:
        assert not self.failures, "\n\n".join(self.failures)


@dataclass
class Watched:
    """A page whose console errors, uncaught exceptions and CSP violations are collected."""

    page: Page
    problems: list[str] = field(default_factory=list)

    def forget(self) -> None:
        self.problems.clear()
        self.page.evaluate("() => { window.__cspViolations = []; }")

    def assert_clean(self, what: str) -> None:
        violations = self.page.evaluate("() => window.__cspViolations || []")
        problems = self.problems + [f"CSP violation: {v}" for v in violations]
        assert not problems, f"{what}: browser console problems:\n" + "\n".join(problems)


def _healthequity_command() -> list[str]:
    """The `healthequity` console script next to this interpreter."""
    script = Path(sys.executable).with_name("healthequity")
    if script.exists():
        return [str(script)]
    return [sys.executable, "-c", "from healthequity.cli.main import main; main()"]


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 (local server)
            return bool(response.status == 200)
    except (urllib.error.URLError, OSError):
        return False


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not Path(CHROMIUM).exists():
        pytest.skip(f"browser tests need Chromium at {CHROMIUM} (`make chromium`)")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        yield chromium
        chromium.close()


@pytest.fixture
def server(database_url: str, tmp_path: Path) -> Iterator[Server]:
    """The real server with the demo data, over a fresh database of each kind."""
    kind = make_url(database_url).get_backend_name()
    env = {
        **os.environ,
        "HEALTHEQUITY_DATABASE_URL": database_url,
        "HEALTHEQUITY_ASSETS_DIR": str(ASSETS_DIR),
        "HEALTHEQUITY_ENVIRONMENT": "test",
    }
    command = _healthequity_command()
    loaded = subprocess.run(
        [*command, "demo", "--no-serve"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert loaded.returncode == 0, f"`healthequity demo` failed:\n{loaded.stdout}{loaded.stderr}"

    port = _free_port()
    base_url = f"http://127.0.0.1:{port}"
    log_path = tmp_path / "server.log"
    with log_path.open("w") as log:
        process = subprocess.Popen(
            [*command, "serve", "--port", str(port)],
            cwd=tmp_path,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while not _answers(f"{base_url}/healthz"):
            if process.poll() is not None or time.monotonic() > deadline:
                state = (
                    f"exited with {process.returncode}"
                    if process.poll() is not None
                    else (f"did not answer /healthz within {STARTUP_TIMEOUT:.0f} s")
                )
                pytest.fail(f"the server {state}; its output:\n{log_path.read_text()}")
            time.sleep(0.1)
        yield Server(base_url, kind)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture(scope="module")
def axe_source() -> str:
    path = ASSETS_DIR / "axe-core" / "axe.min.js"
    if not path.exists():
        pytest.skip("axe-core is not installed (`make assets`)")
    return path.read_text(encoding="utf-8")


def _new_page(browser: Browser, server: Server, viewport: dict[str, int]) -> Watched:
    context: BrowserContext = browser.new_context(
        base_url=server.base_url, viewport=viewport, locale="en-GB"
    )
    context.set_default_timeout(10_000)
    context.add_init_script(CSP_RECORDER)
    page = context.new_page()
    watched = Watched(page)

    def on_console(message: ConsoleMessage) -> None:
        if message.type in ("error", "warning") and "Failed to load resource" not in message.text:
            watched.problems.append(f"console {message.type}: {message.text}")
        # A resource the page asked for that is missing (a 404 image or script) is a bug
        # too, but the error page itself answers 404 and a failed sign-in 401 on purpose.
        if "Failed to load resource" in message.text and message.location.get("url") not in (
            page.url,
            f"{server.base_url}/login",
        ):
            watched.problems.append(
                f"missing resource: {message.location.get('url')}: {message.text}"
            )

    page.on("console", on_console)
    page.on("pageerror", lambda error: watched.problems.append(f"page error: {error}"))
    return watched


def _screenshot(page: Page, name: str, server: Server) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=ARTIFACTS / f"{name}-{server.kind}.png", full_page=True)


def _serious_axe_violations(page: Page, axe_source: str) -> list[dict[str, Any]]:
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        # Evaluated through the DevTools protocol, so the page's CSP does not block it.
        page.evaluate(axe_source)
    violations: list[dict[str, Any]] = page.evaluate(
        """async () => {
          const results = await window.axe.run(document, { resultTypes: ["violations"] });
          return results.violations.map((v) => ({
            id: v.id,
            impact: v.impact,
            help: v.help,
            nodes: v.nodes.map((n) => n.target.join(" ") + " -> " + n.failureSummary),
          }));
        }"""
    )
    return [v for v in violations if v["impact"] in ("serious", "critical")]


def _assert_accessible(page: Page, axe_source: str, what: str) -> None:
    serious = _serious_axe_violations(page, axe_source)
    assert not serious, f"axe found serious problems on {what}:\n" + json.dumps(serious, indent=2)


def _assert_no_horizontal_scroll(page: Page, what: str) -> None:
    widths = page.evaluate(
        "() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]"
    )
    assert widths[0] <= PHONE["width"], (
        f"{what} scrolls sideways at {PHONE['width']} px: content is {widths[0]} px wide"
    )


def _sign_in(page: Page, email: str, password: str) -> None:
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password", exact=True).fill(password)
    page.get_by_role("button", name="Sign in").click()


def test_shell_in_a_real_browser(server: Server, browser: Browser, axe_source: str) -> None:
    checks = Checks()
    desktop = _new_page(browser, server, DESKTOP)
    page = desktop.page

    # Signed out, the home page sends people to sign in.
    response = page.goto("/")
    assert response is not None
    expect(page).to_have_url(f"{server.base_url}/login")
    expect(page).to_have_title(f"Sign in {DASH} healthequity")
    with checks.check("the login page sends a strict Content-Security-Policy"):
        csp = response.headers.get("content-security-policy", "")
        assert "script-src 'self'" in csp
        assert "style-src 'self'" in csp
        assert "unsafe-inline" not in csp
    with checks.check("NHS.UK frontend JavaScript starts on the login page"):
        expect(page.locator("body")).to_contain_class("js-enabled nhsuk-frontend-supported")
        expect(page.locator("header[data-nhsuk-header-init]")).to_have_count(1)
    with checks.check("the login page has no console errors or CSP violations"):
        desktop.assert_clean("login page")
    with checks.check("the login page is accessible"):
        _assert_accessible(page, axe_source, "the login page")
    _screenshot(page, "login", server)

    # A wrong password: the error summary, linked to the field, and the email kept.
    _sign_in(page, CLINICIAN.email, "not-the-password")
    with checks.check("a wrong password shows the error summary and keeps the email"):
        summary = page.locator(".nhsuk-error-summary")
        expect(summary).to_be_visible()
        expect(summary).to_contain_text("There is a problem")
        expect(summary).to_contain_text(SIGN_IN_FAILED)
        expect(summary).to_be_focused()
        expect(page).to_have_title(f"Error: Sign in {DASH} healthequity")
        expect(page.get_by_label("Email address")).to_have_value(CLINICIAN.email)
        expect(page.get_by_label("Password", exact=True)).to_have_value("")
        summary.get_by_role("link", name=SIGN_IN_FAILED).click()
        expect(page.get_by_label("Email address")).to_be_focused()
    with checks.check("the login page with errors is accessible"):
        _assert_accessible(page, axe_source, "the login page with an error")
    _screenshot(page, "login-error", server)

    # Nothing typed: one message per field, each linking to its field.
    page.get_by_label("Email address").fill("")
    page.get_by_role("button", name="Sign in").click()
    with checks.check("an empty form names each missing field"):
        summary = page.locator(".nhsuk-error-summary")
        for label, message in (
            ("Email address", "Enter your email address"),
            ("Password", "Enter your password"),
        ):
            expect(summary.get_by_role("link", name=message)).to_be_visible()
            expect(page.get_by_label(label, exact=True)).to_have_accessible_description(
                f"Error: {message}"
            )
        summary.get_by_role("link", name="Enter your password").click()
        expect(page.get_by_label("Password", exact=True)).to_be_focused()

    # The demo clinician signs in and lands on the home dashboard.
    desktop.forget()
    _sign_in(page, CLINICIAN.email, DEMO_PASSWORD)
    expect(page).to_have_url(f"{server.base_url}/")
    expect(page.get_by_role("heading", level=1)).to_contain_text(CLINICIAN.display_name)
    with checks.check("the home page shows the organisation, roles and account area"):
        main = page.locator("main")
        expect(main).to_contain_text(CLINICIAN.organisation)
        expect(main).to_contain_text("Clinician")
        account = page.get_by_role("navigation", name="Account")
        expect(account).to_contain_text(CLINICIAN.display_name)
        expect(account.get_by_role("button", name="Log out")).to_be_visible()
        menu = page.get_by_role("navigation", name="Menu")
        expect(menu.get_by_role("link", name="Home")).to_have_attribute("aria-current", "page")
    with checks.check("the home page sends the CSP and has no console errors or violations"):
        home = page.reload()
        assert home is not None
        assert "script-src 'self'" in home.headers.get("content-security-policy", "")
        desktop.assert_clean("home page")
    with checks.check("the home page is accessible"):
        _assert_accessible(page, axe_source, "the home page")
    _screenshot(page, "home", server)

    # An unknown address: the NHS-styled 404 page, never a stack trace.
    response = page.goto("/no-such-page")
    with checks.check("an unknown address shows the styled 404 page"):
        assert response is not None
        assert response.status == 404
        expect(page.get_by_role("heading", level=1)).to_have_text("Page not found")
        expect(page).to_have_title(f"Page not found {DASH} healthequity")
        expect(page.locator("header.nhsuk-header")).to_be_visible()
        expect(page.locator("footer.nhsuk-footer")).to_be_visible()
        # Still signed in on an error page: the account area and the menu stay.
        account = page.get_by_role("navigation", name="Account")
        expect(account.get_by_role("button", name="Log out")).to_be_visible()
        expect(page.get_by_role("navigation", name="Menu")).to_be_visible()
        body = page.locator("body").inner_text()
        for leak in ("Traceback", 'File "', "Exception", "starlette", "fastapi"):
            assert leak not in body, f"the 404 page shows {leak!r}"
        _assert_accessible(page, axe_source, "the 404 page")
    _screenshot(page, "not-found", server)

    # A form whose security token is out of date: the styled 403 page.
    page.goto("/")
    page.locator(f"form[action='/logout'] input[name='{CSRF_FIELD}']").evaluate(
        "(input) => { input.value = 'out-of-date'; }"
    )
    with page.expect_response(f"{server.base_url}/logout") as forbidden:
        page.get_by_role("button", name="Log out").click()
    with checks.check("a stale form shows the styled 403 page"):
        assert forbidden.value.status == 403
        expect(page.get_by_role("heading", level=1)).to_have_text("The form has expired")
        expect(page.locator("main")).to_contain_text("forms expire")
        expect(page.locator("header.nhsuk-header")).to_be_visible()
        for leak in ("Traceback", 'File "', "CsrfFailed"):
            assert leak not in page.locator("body").inner_text()
        _assert_accessible(page, axe_source, "the 403 page")
    _screenshot(page, "forbidden", server)

    # Signing out ends the session.
    page.goto("/")
    page.get_by_role("button", name="Log out").click()
    with checks.check("log out returns to the login page"):
        expect(page).to_have_url(f"{server.base_url}/login")
        page.goto("/")
        expect(page).to_have_url(f"{server.base_url}/login")
    page.context.close()

    # A phone: nothing scrolls sideways and the header menu works.
    phone = _new_page(browser, server, PHONE)
    page = phone.page
    page.goto("/login")
    with checks.check(f"the login page fits {PHONE['width']} px"):
        _assert_no_horizontal_scroll(page, "the login page")
        phone.assert_clean("login page on a phone")
    _screenshot(page, "login-phone", server)
    _sign_in(page, CLINICIAN.email, DEMO_PASSWORD)
    expect(page).to_have_url(f"{server.base_url}/")
    with checks.check(f"the home page fits {PHONE['width']} px"):
        _assert_no_horizontal_scroll(page, "the home page")
        phone.assert_clean("home page on a phone")
        _assert_accessible(page, axe_source, "the home page on a phone")
    with checks.check("the header navigation works on a phone"):
        _assert_header_menu_works(page)
    _screenshot(page, "home-phone", server)
    with checks.check("the header menu opens when the navigation overflows"):
        _assert_overflow_menu_works(page, server)
    page.context.close()

    checks.assert_all_passed()


def _assert_header_menu_works(page: Page) -> None:
    """Every navigation link is on screen, or in the "More" menu, which then opens."""
    expect(page.locator("header[data-nhsuk-header-init]")).to_have_count(1)
    menu = page.get_by_role("navigation", name="Menu")
    toggle = menu.get_by_role("button", name="Browse More")
    links = menu.locator(".nhsuk-header__navigation-list > .nhsuk-header__navigation-item a")
    for index in range(links.count()):
        box = links.nth(index).bounding_box()
        assert box is not None
        name = links.nth(index).inner_text()
        assert box["x"] >= 0, f"navigation link {name!r} is off screen: {box}"
        assert box["x"] + box["width"] <= PHONE["width"], f"{name!r} is off screen: {box}"
    if toggle.is_visible():
        _open_and_close_menu(page)


def _open_and_close_menu(page: Page) -> None:
    toggle = page.get_by_role("button", name="Browse More")
    expect(toggle).to_have_attribute("aria-expanded", "false")
    toggle.click()
    expect(toggle).to_have_attribute("aria-expanded", "true")
    menu_list = page.locator(".nhsuk-header__menu-list")
    expect(menu_list).to_be_visible()
    first = menu_list.get_by_role("link").first
    expect(first).to_be_visible()
    page.keyboard.press("Escape")
    expect(toggle).to_have_attribute("aria-expanded", "false")
    expect(menu_list).to_be_hidden()


def _assert_overflow_menu_works(page: Page, server: Server) -> None:
    """With more navigation than fits (as capabilities add theirs), "More" holds the rest."""
    extra = "".join(
        f'<li class="nhsuk-header__navigation-item">'
        f'<a class="nhsuk-header__navigation-link" href="/">Extra section {n}</a></li>'
        for n in range(1, 7)
    )

    def add_items(route: Route) -> None:
        response = route.fetch()
        html = response.text().replace(
            '<li class="nhsuk-header__menu"', extra + '<li class="nhsuk-header__menu"', 1
        )
        route.fulfill(response=response, body=html)

    page.route(f"{server.base_url}/", add_items)
    try:
        page.goto("/")
        expect(page.get_by_role("button", name="Browse More")).to_be_visible()
        _assert_no_horizontal_scroll(page, "the home page with many navigation items")
        _open_and_close_menu(page)
    finally:
        page.unroute(f"{server.base_url}/")
