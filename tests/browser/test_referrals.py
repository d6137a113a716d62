"""Closing the loop in a real browser: the demo provider adviser opens the referrals inbox,
accepts a referral the demo link worker made, records a contact attempt, starts the work and
records the outcome (first forgetting it, and being told); the demo link worker then finds
the referral in their caseload with every change the adviser made, and the list of
follow-ups due. Every page passes axe (no serious or critical violations) on a desktop and
at 375 px, where the lists stack their rows and nothing scrolls sideways.

Runs over the real server and the demo data (`healthequity demo --no-serve`), as
test_shell.py does, whose fixtures and helpers it shares.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import pytest
from playwright.sync_api import Browser, Page, expect
from test_shell import (
    DESKTOP,
    PHONE,
    Checks,
    Server,
    Watched,
    _assert_accessible,
    _assert_no_horizontal_scroll,
    _new_page,
    _screenshot,
    _sign_in,
    axe_source,  # noqa: F401 (a fixture)
    browser,  # noqa: F401 (a fixture)
    server,  # noqa: F401 (a fixture)
)

from healthequity.auth.demo import DEMO_PASSWORD, DEMO_USERS
from healthequity.auth.models import Role

pytestmark = pytest.mark.browser

PROVIDER = next(user for user in DEMO_USERS if user.roles == (Role.PROVIDER,))
LINK_WORKER = next(user for user in DEMO_USERS if user.roles == (Role.LINK_WORKER,))
# Sent by the demo link worker to a debt service of the adviser's organisation, not yet
# picked up, and past its follow-up date.
PERSON = "Tomasz Nowak (demo)"
OUTCOME = "Breathing space agreed with his creditors; a repayment plan he can afford."


@dataclass
class Walk:
    """The pages of one walk through the app: each checked with axe (and, on a phone, for
    sideways scrolling) and photographed."""

    chromium: Browser
    running: Server
    axe: str
    checks: Checks = field(default_factory=Checks)

    def sign_in(self, viewport: dict[str, int], email: str) -> Watched:
        watched = _new_page(self.chromium, self.running, viewport)
        watched.page.goto("/login")
        _sign_in(watched.page, email, DEMO_PASSWORD)
        expect(watched.page).to_have_url(f"{self.running.base_url}/")
        return watched

    def look(self, page: Page, what: str, name: str) -> None:
        with self.checks.check(f"{what} is accessible"):
            _assert_accessible(page, self.axe, what)
        if page.viewport_size and page.viewport_size["width"] == PHONE["width"]:
            with self.checks.check(f"{what} fits a phone"):
                _assert_no_horizontal_scroll(page, what)
        _screenshot(page, name, self.running)


def test_a_provider_closes_the_loop_and_the_link_worker_sees_it(
    server: Server,  # noqa: F811
    browser: Browser,  # noqa: F811
    axe_source: str,  # noqa: F811
) -> None:
    walk = Walk(browser, server, axe_source)
    checks = walk.checks

    # The adviser opens the inbox from the home page.
    adviser = walk.sign_in(DESKTOP, PROVIDER.email)
    page = adviser.page
    page.get_by_role("link", name="Referrals inbox").first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Referrals inbox")
    with checks.check("the inbox lists the organisation's open referrals"):
        expect(page.locator("main")).to_contain_text("Aire Valley Advice Collective (demo)")
        expect(page.get_by_role("link", name=re.compile(re.escape(PERSON)))).to_be_visible()
    walk.look(page, "the inbox", "referrals-inbox")

    page.get_by_role("link", name=re.compile(re.escape(PERSON))).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Debt advice phone line")
    with checks.check("the adviser sees the minimum shared, not the health passport"):
        expect(page.get_by_role("heading", name=f"Contacting {PERSON}")).to_be_visible()
        expect(page.locator("#health-passport")).to_have_count(0)
        expect(page.locator("#needs")).to_have_text(re.compile(r"Debt\s*Income and benefits"))
        expect(page.locator("#shared-note")).to_contain_text("Prefers Polish")
    walk.look(page, "a referral, for the provider", "referral-provider")

    page.get_by_role("button", name="Accept the referral").click()
    expect(page.locator("#done-banner")).to_have_text(
        re.compile("Saved: the referral is now accepted.")
    )
    contact = page.get_by_role("group", name="How did you try to contact Tomasz?")
    contact.get_by_label("Phone").check()
    page.get_by_role("group", name="Did you reach them?").get_by_label("Yes").check()
    page.get_by_label("Note (optional)").fill("Spoke in Polish through a telephone interpreter.")
    page.get_by_role("button", name="Record the contact attempt").click()
    expect(page.locator("#done-banner")).to_have_text(re.compile("Contact attempt recorded."))
    page.get_by_role("button", name="Mark as in progress").click()
    expect(page.locator("#status")).to_contain_text("In progress")

    # Completing without the outcome says what is missing, next to the field.
    page.locator("#status-completed summary").click()
    page.locator("#status-completed").get_by_role(
        "button", name="Complete with the outcome"
    ).click()
    summary = page.locator(".nhsuk-error-summary")
    with checks.check("completing without an outcome is refused, naming the field"):
        expect(summary).to_contain_text(
            "Say what the outcome was: what the person got from the service"
        )
        summary.get_by_role("link").click()
        expect(page.get_by_label("What was the outcome?")).to_be_focused()
    walk.look(page, "a referral with an error", "referral-error")
    page.get_by_label("What was the outcome?").fill(OUTCOME)
    page.locator("#status-completed").get_by_role(
        "button", name="Complete with the outcome"
    ).click()
    expect(page.locator("#status")).to_contain_text("Completed")
    with checks.check("the outcome and the history show on the referral"):
        expect(page.locator("#outcome")).to_contain_text(OUTCOME)
        history = page.locator("ol[aria-labelledby=history]")
        expect(history).to_contain_text("Status: In progress → Completed")
        expect(history).to_contain_text("Contact attempt")
    walk.look(page, "a completed referral", "referral-completed")
    with checks.check("no console errors or CSP violations for the adviser"):
        adviser.assert_clean("the provider's pages")
    page.context.close()

    # The inbox on a phone stacks its rows.
    phone = walk.sign_in(PHONE, PROVIDER.email)
    phone.page.goto("/referrals/inbox")
    walk.look(phone.page, "the inbox on a phone", "referrals-inbox-phone")
    phone.page.context.close()

    # The link worker sees each change the adviser made, and what is due.
    for viewport, label in ((DESKTOP, "desktop"), (PHONE, "phone")):
        watched = walk.sign_in(viewport, LINK_WORKER.email)
        page = watched.page
        page.goto("/")
        page.get_by_role("link", name="Your referrals").first.click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Your referrals")
        with checks.check(f"the caseload says follow-ups are due ({label})"):
            expect(page.locator("#due")).to_contain_text("follow-ups are due")
        walk.look(page, f"the caseload ({label})", f"caseload-{label}")
        page.locator("#filters summary").click()
        page.get_by_role("group", name="Status").get_by_label("Completed").check()
        page.get_by_label("Sort by").select_option("updated")
        page.get_by_role("button", name="Show referrals").click()
        page.get_by_role("link", name=re.compile(re.escape(PERSON))).first.click()
        with checks.check(f"the link worker sees the adviser's changes ({label})"):
            expect(page.locator("#status")).to_contain_text("Completed")
            expect(page.locator("#outcome")).to_contain_text(OUTCOME)
            history = page.locator("ol[aria-labelledby=history]")
            expect(history).to_contain_text("Phone: reached. Spoke in Polish")
            expect(history).to_contain_text("Jo Williams (demo adviser)")
            expect(page.locator("#health-passport")).to_be_visible()
        walk.look(
            page,
            f"a referral, for the link worker ({label})",
            f"referral-link-worker-{label}",
        )
        page.goto("/")
        page.get_by_role("link", name="Follow-ups due").first.click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Follow-ups due")
        with checks.check(f"the overdue list has follow-ups and attendance checks ({label})"):
            expect(page.locator("#follow-ups")).to_contain_text("Ahmed Al-Sayed (demo)")
            expect(page.locator("#follow-ups")).not_to_contain_text(PERSON)
            expect(page.locator("#still-attending")).to_contain_text("Jordan Whitaker (demo)")
        walk.look(page, f"the follow-ups due ({label})", f"overdue-{label}")
        with checks.check(f"no console errors or CSP violations for the link worker ({label})"):
            watched.assert_clean("the link worker's pages")
        page.context.close()

    checks.assert_all_passed()
