"""The clinician's path from a person to sent referrals, and the person's own-phone path, in a
real browser over the real server and the demo data (as test_shell.py runs them).

The clinician's path: the demo clinician opens a demo person not asked yet (Eleanor Ashworth),
takes the core social history (the follow-up questions appear as answers call for them), whose
answers show two needs, debt and food; says she wants help with both, debt mattering most;
ticks one service for each; records her consent; and sends both referrals. Every click and key
press is counted, and the path may take at most MAX_CLICKS (the issue's limit).

What counts. Everything the clinician does with the mouse or the keyboard counts, except
giving the questionnaire's answers: a click on an answer's radio or box, and typing an
answer's text (moving into its box included), is answering, not navigating. So the count holds
every link followed, every button pressed, and every choice made on the needs and consent
pages (want help yes/no, what matters most, the services ticked, the consent box). No key is
pressed at all. The counting starts with the click that opens the person's record from the
search results, and ends with the click that sends the referrals.

The count is checked two ways: the test tallies each action it takes (`Path`), and the page
itself counts every trusted pointer press and key press, across every page of the path
(`COUNTER`, kept in the tab's session storage). The two must agree: answering clicks plus
navigation clicks equal the presses the pages saw, and no key was pressed.

The social history is reached from the person page's "Take social history" button, one
click, so that every step of the path is a click on the page before it.

Each step is screenshotted to test-artifacts/, and each new page passes axe (no serious or
critical violations) at desktop size and at 375 px, without scrolling sideways.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta

import pytest
from playwright.sync_api import Browser, Locator, Page, expect
from sqlalchemy import update
from test_shell import (
    CLINICIAN,
    DESKTOP,
    PHONE,
    Checks,
    Server,
    _assert_accessible,
    _assert_no_horizontal_scroll,
    _new_page,
    _screenshot,
    _sign_in,
    axe_source,  # noqa: F401 (a fixture)
    browser,  # noqa: F401 (a fixture)
    server,  # noqa: F401 (a fixture)
)

from healthequity.auth.demo import DEMO_PASSWORD
from healthequity.people.demo import demo_person_id
from healthequity.social_history.models import PatientLink
from healthequity.store import Database
from healthequity.store.database import utc_now

pytestmark = pytest.mark.browser

# The limit, and what the path takes now (update it, and say why, if it changes).
MAX_CLICKS = 15
RECORDED_CLICKS = 11

NOT_ASKED = 28  # Eleanor Ashworth (demo): no social history in the demo data
WITH_HISTORY = 0  # Grace Okafor (demo)
STRENGTHS = "My brother and my allotment group"
BEHIND = "Yes, I am behind with payments, or bailiffs have been in touch"

# Counts every trusted pointer press and key press, on every page of the tab.
COUNTER = """
(() => {
  const bump = (key) => {
    const count = Number(sessionStorage.getItem(key) || "0") + 1;
    sessionStorage.setItem(key, String(count));
  };
  document.addEventListener("pointerdown", (e) => { if (e.isTrusted) bump("he-presses"); }, true);
  document.addEventListener("keydown", (e) => { if (e.isTrusted) bump("he-keys"); }, true);
})();
"""


@dataclass
class Path:
    """The clinician's actions, tallied as navigation or answering (see the module's doc)."""

    page: Page
    clicks: int = 0
    answers: int = 0

    def click(self, target: Locator) -> None:
        target.click()
        self.clicks += 1

    def check(self, target: Locator) -> None:
        """A choice on the needs or consent page: counted."""
        target.check()
        self.clicks += 1

    def answer(self, target: Locator) -> None:
        """A questionnaire answer's radio or box: answering, not counted."""
        target.check()
        self.answers += 1

    def seen_by_the_pages(self) -> tuple[int, int]:
        presses, keys = self.page.evaluate(
            "() => [sessionStorage.getItem('he-presses'), sessionStorage.getItem('he-keys')]"
        )
        return int(presses or 0), int(keys or 0)


def _question(page: Page, text: str) -> Locator:
    return page.get_by_role("group", name=text, exact=False)


def _answer(path: Path, question: str, answer: str) -> None:
    path.answer(_question(path.page, question).get_by_label(answer, exact=True))


def _take_core_history(path: Path) -> None:
    page = path.page
    _answer(path, "Where are you living at the moment?", "In my own or a rented home")
    # The follow-ups appear (htmx) once the answer calls for them.
    expect(_question(page, "Are you worried about losing your home")).to_be_visible()
    _answer(path, "Are you worried about losing your home", "No")
    _answer(path, "Is your home any of these?", "None of these")
    _answer(path, "have you gone without heating", "No")
    _answer(path, "we worried whether our food would run out", "Sometimes true")
    _answer(path, "the food we bought just didn't last", "Sometimes true")
    _answer(path, "Do you have enough money each month", "Yes")
    _answer(path, "Are you pregnant, or do you look after a child under 4?", "No")
    _answer(path, "Are you behind with any bills", "Yes, I am worried about debt")
    _answer(path, "Are you in paid work?", "Yes")
    expect(_question(page, "Are you worried about losing your job")).to_be_visible()
    _answer(path, "Are you worried about losing your job", "No")
    _answer(path, "Do you find it hard to read letters", "No")
    _answer(path, "How often do you feel lonely?", "Hardly ever")
    _answer(path, "Do you look after someone who is ill", "No")
    _answer(path, "Would more help with childcare", "I don't look after children")
    _answer(path, "Can you get online when you need to", "Yes")
    _answer(path, "Is it hard to get to appointments", "No")
    _answer(path, "Do you feel safe where you live?", "Yes")
    _answer(path, "Has anyone close to you", "No")
    _answer(path, "6 or more units of alcohol", "Less than monthly")
    _answer(path, "Do you use drugs", "No")
    _answer(path, "Do you have a legal or immigration problem", "No")
    page.get_by_label("What or who helps you most?").fill(STRENGTHS)


def test_from_a_person_to_two_referrals_in_few_clicks(
    server: Server,  # noqa: F811
    browser: Browser,  # noqa: F811
    axe_source: str,  # noqa: F811
) -> None:
    checks = Checks()
    desktop = _new_page(browser, server, DESKTOP)
    page = desktop.page
    page.goto("/login")
    _sign_in(page, CLINICIAN.email, DEMO_PASSWORD)
    page.get_by_role("navigation", name="Menu").get_by_role("link", name="People").click()
    page.get_by_label("Name or NHS number").fill("ashworth")
    page.get_by_role("button", name="Search").click()
    person_link = page.get_by_role("link", name="Ashworth (demo), Eleanor")
    expect(person_link).to_be_visible()

    # Counting starts here.
    page.context.add_init_script(COUNTER)
    page.evaluate(COUNTER)
    path = Path(page)
    path.click(person_link)
    expect(page.get_by_role("heading", level=1)).to_have_text("Eleanor Ashworth (demo)")
    person_id = demo_person_id(NOT_ASKED)
    assert page.url.endswith(f"/people/{person_id}")
    section = page.locator("#social-history")
    with checks.check("the person page says no social history has been taken yet"):
        expect(section).to_contain_text("No social history has been taken yet.")
    with checks.check("the person page with its sections is accessible"):
        _assert_accessible(page, axe_source, "the person page")
    _screenshot(page, "social-history-0-person", server)
    path.click(section.get_by_role("button", name="Take social history"))
    expect(page.get_by_role("heading", level=1)).to_contain_text("Social history (core)")
    with checks.check("the health passport is at the top of the social history"):
        expect(page.locator("#health-passport")).to_be_visible()
    with checks.check("follow-up questions are not asked before an answer calls for them"):
        expect(_question(page, "Are you worried about losing your home")).to_have_count(0)
        expect(_question(page, "Are you worried about losing your job")).to_have_count(0)
    with checks.check("the sensitive questions say: ask only if the person is alone"):
        for question in (
            "Do you feel safe where you live?",
            "Has anyone close to you",
            "Do you have a legal or immigration problem",
        ):
            expect(_question(page, question)).to_contain_text("Ask only if the person is alone")
        expect(page.locator(".nhsuk-warning-callout")).to_contain_text(
            "Ask the next two questions only when the person is on their own"
        )
    with checks.check("the blank social history is accessible"):
        _assert_accessible(page, axe_source, "the blank core social history")
    _screenshot(page, "social-history-1-form", server)
    _take_core_history(path)
    with checks.check("the answered social history is accessible"):
        _assert_accessible(page, axe_source, "the answered core social history")
    _screenshot(page, "social-history-2-answered", server)
    path.click(page.get_by_role("button", name="Save and see needs"))

    # The needs: debt and food, with services under yes.
    expect(page.get_by_role("heading", level=1)).to_contain_text("Needs and services")
    needs = page.locator("section[id^=need-]")
    with checks.check("the two needs are shown with their level and SNOMED CT finding"):
        expect(needs).to_have_count(2)
        expect(page.locator("#need-debt")).to_contain_text("SNOMED CT")
        expect(page.locator("#need-food")).to_contain_text("SNOMED CT")
        expect(page.locator("#need-food")).to_contain_text("At risk")
    with checks.check("the needs page is accessible"):
        _assert_accessible(page, axe_source, "the needs page")
    _screenshot(page, "social-history-3-needs", server)
    for need in ("debt", "food"):
        card = page.locator(f"#need-{need}")
        path.check(card.get_by_role("group", name=f"want help with {need}?").get_by_label("Yes"))
        services = card.get_by_role("group", name="Choose services to refer to")
        expect(services).to_be_visible()
        with checks.check(f"three services at most are offered for {need}"):
            assert 1 <= services.get_by_role("checkbox").count() <= 3
        path.check(services.get_by_role("checkbox").first)
    path.check(page.get_by_role("group", name="Which matters most").get_by_label("Debt"))
    chosen = [
        page.locator(f"#need-{code} .nhsuk-checkboxes__input:checked + label").inner_text()
        for code in ("debt", "food")
    ]
    with checks.check("the needs page with services chosen is accessible"):
        _assert_accessible(page, axe_source, "the needs page with services chosen")
    _screenshot(page, "social-history-4-services-chosen", server)
    path.click(page.get_by_role("button", name="Continue to consent"))

    # Consent, then send.
    expect(page.get_by_role("heading", level=1)).to_contain_text("Consent to share")
    with checks.check("the consent page says what is shared, with whom, for what, how long"):
        main = page.locator("main")
        for name in chosen:
            expect(main).to_contain_text(name)
        expect(main).to_contain_text("What is shared")
        expect(main).to_contain_text("What for")
        expect(page.get_by_label("Until when may they keep it?")).to_have_value("6")
    with checks.check("the consent page is accessible"):
        _assert_accessible(page, axe_source, "the consent page")
    _screenshot(page, "social-history-5-consent", server)
    path.check(page.get_by_label(re.compile("^Eleanor agrees to share this information")))
    path.click(page.get_by_role("button", name="Send 2 referrals"))

    expect(page.get_by_role("heading", level=1)).to_have_text("2 referrals sent")
    with checks.check("the referrals sent are listed with their follow-up dates"):
        rows = page.locator("tbody tr")
        expect(rows).to_have_count(2)
        for name in chosen:
            expect(page.locator("tbody")).to_contain_text(name)
        assert all(
            re.search(r"\d{1,2} [A-Z][a-z]+ \d{4}", text)
            for text in rows.locator("td:nth-child(3)").all_inner_texts()
        )
    with checks.check("the referrals sent page is accessible"):
        _assert_accessible(page, axe_source, "the referrals sent page")
    _screenshot(page, "social-history-6-sent", server)
    sent_url = page.url

    # The count.
    presses, keys = path.seen_by_the_pages()
    assert keys == 0, f"{keys} keys were pressed on the path"
    assert presses == path.clicks + path.answers, (
        f"the pages saw {presses} presses, the test tallied {path.clicks} clicks and "
        f"{path.answers} answers"
    )
    assert path.clicks <= MAX_CLICKS, (
        f"from opening the person to sent referrals took {path.clicks} clicks and key presses "
        f"beyond answering: at most {MAX_CLICKS} are allowed"
    )
    assert path.clicks == RECORDED_CLICKS, (
        f"the path now takes {path.clicks} clicks (recorded: {RECORDED_CLICKS}): update "
        "RECORDED_CLICKS and say why"
    )

    # A save with something wrong names the question and keeps every answer.
    page.goto(f"/people/{person_id}/social-history/new/social-history-core")
    answers = Path(page)
    _answer(answers, "Where are you living at the moment?", "In my own or a rented home")
    expect(_question(page, "Are you worried about losing your home")).to_be_visible()
    _answer(answers, "Are you behind with any bills", BEHIND)
    page.get_by_label("What or who helps you most?").fill("x" * 2001)
    page.get_by_role("button", name="Save and see needs").click()
    summary = page.locator(".nhsuk-error-summary")
    with checks.check("an answer too long is named in the error summary, answers kept"):
        expect(summary).to_be_focused()
        expect(summary).to_contain_text("What or who helps you most?")
        expect(summary).to_contain_text("must be 2,000 characters or fewer")
        expect(
            _question(page, "Where are you living").get_by_label("In my own or a rented home")
        ).to_be_checked()
        expect(_question(page, "Are you behind").get_by_label(BEHIND)).to_be_checked()
        expect(page.get_by_label("What or who helps you most?")).to_have_value("x" * 2001)
    with checks.check("the social history with an error is accessible"):
        _assert_accessible(page, axe_source, "the social history with an error")
    _screenshot(page, "social-history-7-error", server)

    # The screeners and the social history's own page.
    for slug, title in (
        ("domestic-abuse-screen", "Domestic abuse: routine enquiry"),
        ("low-mood-phq2", "Low mood: PHQ-2"),
    ):
        page.goto(f"/people/{person_id}/social-history/new/{slug}")
        expect(page.get_by_role("heading", level=1)).to_contain_text(title)
        with checks.check(f"the {title} screener is accessible"):
            _assert_accessible(page, axe_source, f"the {title} screener")
        _screenshot(page, f"social-history-screener-{slug}", server)
    page.goto(f"/people/{person_id}/social-history")
    with checks.check("the social history page lists what was taken and is accessible"):
        expect(page.locator("main")).to_contain_text("Social history (core)")
        _assert_accessible(page, axe_source, "the social history page")
    _screenshot(page, "social-history-8-history", server)
    page.get_by_role("link", name=re.compile("^Social history \\(core\\)")).first.click()
    answers_url = page.url
    with checks.check("the answers page shows the sensitive answers, marked, and is accessible"):
        expect(page.locator("main")).to_contain_text(STRENGTHS)
        expect(page.locator("[data-sensitive=true]").first).to_contain_text("Sensitive")
        _assert_accessible(page, axe_source, "the answers page")
    _screenshot(page, "social-history-9-answers", server)
    with checks.check("no console errors or CSP violations"):
        desktop.assert_clean("the clinician's path")
    page.context.close()

    # On a phone: the same pages fit and pass axe.
    phone = _new_page(browser, server, PHONE)
    page = phone.page
    page.goto("/login")
    _sign_in(page, CLINICIAN.email, DEMO_PASSWORD)
    for address, what, name in (
        (
            f"/people/{person_id}/social-history/new/social-history-core",
            "the social history",
            "form",
        ),
        (f"/people/{person_id}/needs", "the needs page", "needs"),
        (sent_url, "the referrals sent page", "sent"),
        (f"/people/{person_id}/social-history", "the social history page", "history"),
        (answers_url, "the answers page", "answers"),
        (
            f"/people/{person_id}/social-history/new/domestic-abuse-screen",
            "the domestic abuse screener",
            "screener-domestic-abuse",
        ),
        (
            f"/people/{person_id}/social-history/new/low-mood-phq2",
            "the low mood screener",
            "screener-low-mood",
        ),
        (f"/people/{person_id}/social-history/link", "the send a link page", "send-link"),
    ):
        page.goto(address)
        with checks.check(f"{what} fits a phone and is accessible"):
            _assert_no_horizontal_scroll(page, what)
            _assert_accessible(page, axe_source, f"{what} on a phone")
        _screenshot(page, f"social-history-phone-{name}", server)
    page.get_by_role("button", name="Create the link").click()
    with checks.check("the link created page fits a phone and is accessible"):
        expect(page.get_by_role("heading", level=1)).to_have_text("Link created")
        _assert_no_horizontal_scroll(page, "the link created page")
        _assert_accessible(page, axe_source, "the link created page on a phone")
    _screenshot(page, "social-history-phone-link-created", server)
    page.goto(f"/people/{person_id}/needs")
    page.get_by_role("group", name="want help with debt?").get_by_label("Yes").check()
    page.get_by_role("group", name="want help with food?").get_by_label("Yes").check()
    page.locator("#need-debt .nhsuk-checkboxes__input").first.check()
    page.get_by_role("button", name="Continue to consent").click()
    with checks.check("the consent page fits a phone and is accessible"):
        expect(page.get_by_role("heading", level=1)).to_contain_text("Consent to share")
        _assert_no_horizontal_scroll(page, "the consent page")
        _assert_accessible(page, axe_source, "the consent page on a phone")
    _screenshot(page, "social-history-phone-consent", server)
    with checks.check("no console errors or CSP violations on a phone"):
        phone.assert_clean("the clinician's path on a phone")
    page.context.close()

    checks.assert_all_passed()


def _expire_links(database_url: str) -> None:
    database = Database(database_url)
    try:
        with database.session() as session:
            session.execute(
                update(PatientLink)
                .where(PatientLink.used_at.is_(None))
                .values(expires_at=utc_now() - timedelta(minutes=1))
            )
    finally:
        database.dispose()


def _create_link(page: Page, person_id: str) -> str:
    page.goto(f"/people/{person_id}/social-history/link")
    page.get_by_role("group", name="Which questions?").get_by_label("Social history (core)").check()
    page.get_by_role("button", name="Create the link").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Link created")
    return page.get_by_label(re.compile("^Copy this link")).input_value()


def test_the_persons_own_phone(
    server: Server,  # noqa: F811
    browser: Browser,  # noqa: F811
    axe_source: str,  # noqa: F811
    database_url: str,
) -> None:
    checks = Checks()
    person_id = demo_person_id(WITH_HISTORY)
    clinician = _new_page(browser, server, DESKTOP)
    desk = clinician.page
    desk.goto("/login")
    _sign_in(desk, CLINICIAN.email, DEMO_PASSWORD)
    desk.goto(f"/people/{person_id}/social-history/link")
    with checks.check("the send a link page is accessible"):
        _assert_accessible(desk, axe_source, "the send a link page")
    _screenshot(desk, "own-phone-1-send-link", server)
    link = _create_link(desk, person_id)
    with checks.check("the link is shown as a web address to copy, and the page is accessible"):
        assert re.match(rf"^{re.escape(server.base_url)}/my-answers/[A-Za-z0-9_-]{{40,}}$", link)
        _assert_accessible(desk, axe_source, "the link created page")
    _screenshot(desk, "own-phone-2-link-created", server)

    # The person's page on a computer, not signed in: opening it does not use the link.
    computer = _new_page(browser, server, DESKTOP)
    computer.page.goto(link)
    with checks.check("the person's page is accessible on a computer"):
        expect(computer.page.get_by_role("heading", level=1)).to_have_text("Questions about you")
        _assert_accessible(computer.page, axe_source, "the person's page on a computer")
    _screenshot(computer.page, "own-phone-0-questions-computer", server)

    # The person, on their phone, not signed in.
    own = _new_page(browser, server, PHONE)
    phone = own.page
    phone.goto(link)
    expect(phone.get_by_role("heading", level=1)).to_have_text("Questions about you")
    with checks.check("no sensitive question and no note for the clinician on the person's page"):
        main = phone.locator("main")
        for text in ("Do you feel safe", "Has anyone close to you", "immigration", "alone"):
            expect(main).not_to_contain_text(text)
        expect(phone.get_by_role("navigation", name="Menu")).to_have_count(0)
    with checks.check("answers are large touch targets"):
        box = phone.locator(".nhsuk-radios__input").first.bounding_box()
        assert box is not None
        assert min(box["height"], box["width"]) >= 40, box
    with checks.check("the person's page fits a phone and is accessible"):
        _assert_no_horizontal_scroll(phone, "the person's page")
        _assert_accessible(phone, axe_source, "the person's page")
    _screenshot(phone, "own-phone-3-questions", server)
    money = _question(phone, "Do you have enough money each month")
    money.get_by_label("Often not").check()
    expect(_question(phone, "Has anyone checked that you get all the benefits")).to_be_visible()
    _question(phone, "Has anyone checked that you get all the benefits").get_by_label(
        "No", exact=True
    ).check()
    _question(phone, "Are you behind with any bills").get_by_label(BEHIND).check()
    phone.get_by_label("What or who helps you most?").fill("My neighbour")
    _screenshot(phone, "own-phone-4-answered", server)
    phone.get_by_role("button", name="Send my answers").click()
    expect(phone.get_by_role("heading", level=1)).to_have_text("Thank you")
    with checks.check("the thank you page is accessible"):
        _assert_accessible(phone, axe_source, "the thank you page")
    _screenshot(phone, "own-phone-5-sent", server)
    response = phone.goto(link)
    with checks.check("a used link says so, with status 410"):
        assert response is not None
        assert response.status == 410
        expect(phone.get_by_role("heading", level=1)).to_have_text(
            "This link has already been used"
        )
        _assert_accessible(phone, axe_source, "the used link page")
    _screenshot(phone, "own-phone-6-used", server)

    # An expired link.
    expired = _create_link(desk, person_id)
    _expire_links(database_url)
    response = phone.goto(expired)
    with checks.check("an expired link says so, with status 410"):
        assert response is not None
        assert response.status == 410
        expect(phone.get_by_role("heading", level=1)).to_have_text("This link has expired")
        expect(phone.locator("main")).to_contain_text("ask the person who sent you the link")
        _assert_accessible(phone, axe_source, "the expired link page")
    _screenshot(phone, "own-phone-7-expired", server)
    with checks.check("no console errors or CSP violations on the person's phone"):
        own.assert_clean("the person's own phone")
    phone.context.close()
    for address, what in ((link, "the used link page"), (expired, "the expired link page")):
        computer.page.goto(address)
        with checks.check(f"{what} is accessible on a computer"):
            _assert_accessible(computer.page, axe_source, f"{what} on a computer")
    computer.page.context.close()

    # Without JavaScript, follow-ups appear after sending, before anything is saved.
    fresh = _create_link(desk, person_id)
    context = browser.new_context(
        base_url=server.base_url, viewport=PHONE, locale="en-GB", java_script_enabled=False
    )
    plain = context.new_page()
    plain.goto(fresh)
    _question(plain, "Do you have enough money each month").get_by_label("Sometimes not").check()
    plain.get_by_role("button", name="Send my answers").click()
    with checks.check("without JavaScript, the follow-up is added and nothing is sent yet"):
        expect(plain.locator("#follow-ups-added")).to_contain_text("Has anyone checked")
        expect(
            _question(plain, "Do you have enough money each month").get_by_label("Sometimes not")
        ).to_be_checked()
    _screenshot(plain, "own-phone-8-no-javascript-follow-up", server)
    _question(plain, "Has anyone checked").get_by_label("Not sure").check()
    plain.get_by_role("button", name="Send my answers").click()
    expect(plain.get_by_role("heading", level=1)).to_have_text("Thank you")
    context.close()

    # On a computer, with JavaScript: the thank you page.
    third = _create_link(desk, person_id)
    computer = _new_page(browser, server, DESKTOP)
    computer.page.goto(third)
    _question(computer.page, "Do you use drugs").get_by_label("No").check()
    computer.page.get_by_role("button", name="Send my answers").click()
    with checks.check("the thank you page is accessible on a computer"):
        expect(computer.page.get_by_role("heading", level=1)).to_have_text("Thank you")
        _assert_accessible(computer.page, axe_source, "the thank you page on a computer")
    computer.page.context.close()

    # The clinician sees the answers waiting, reviews them, and moves on to the needs.
    desk.goto(f"/people/{person_id}/social-history")
    waiting = desk.locator("#answers-waiting")
    with checks.check("the answers wait for review"):
        expect(waiting).to_contain_text("Answers waiting for review")
        expect(waiting.get_by_role("link")).to_have_count(3)
    _screenshot(desk, "own-phone-9-waiting", server)
    waiting.get_by_role("link").first.click()
    with checks.check("the answers to review are shown, without the sensitive questions"):
        expect(desk.locator("main")).to_contain_text("My neighbour")
        expect(desk.locator("main")).to_contain_text(BEHIND)
        expect(desk.locator("[data-sensitive=true]")).to_have_count(0)
        _assert_accessible(desk, axe_source, "the answers to review")
    _screenshot(desk, "own-phone-10-review", server)
    desk.get_by_role("button", name="Mark as reviewed").click()
    expect(desk.get_by_role("heading", level=1)).to_contain_text("Needs and services")
    with checks.check("after review, the needs from the person's answers are there"):
        expect(desk.locator("#saved-banner")).to_contain_text("reviewed")
        expect(desk.locator("#need-debt")).to_be_visible()
    desk.goto(f"/people/{person_id}/social-history")
    with checks.check("the answers reviewed wait no more, the others still do"):
        expect(desk.locator("#answers-waiting").get_by_role("link")).to_have_count(2)
    with checks.check("no console errors or CSP violations for the clinician"):
        clinician.assert_clean("the clinician's review")
    desk.context.close()

    checks.assert_all_passed()
