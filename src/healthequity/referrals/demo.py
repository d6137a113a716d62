"""Demonstration social histories, needs, consents and referrals (never real people).

Twenty-six of the thirty demo people (people.demo; not the children, nor one adult not yet
asked) have a social history taken by the demo clinician, with the needs their answers show
and which of them they want help with. Thirty-one referrals to demo directory services,
from the demo clinician and the demo link worker, stand at every status of the lifecycle:
drafts, sent and not yet picked up (some past their follow-up date), received, accepted
(social prescriptions among them due a "still attending?" check, one of them late), in
progress, completed with the outcome and wellbeing scores before and after, rejected with
the reason, cancelled, and failed for each kind of reason.

The demo provider organisation works the referrals to two advice organisations of the demo
directory (a ProviderLink each), so the demo provider adviser has an inbox; for the other
services, the referrer records what the service said. Each referral's history is dated as
it would have happened, over the past ten weeks.

Idempotent: a person who already has a social history is left as they are, so loading again
creates nothing.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from healthequity.audit.schemas import AuditContext
from healthequity.auth import demo as auth_demo
from healthequity.auth import service as auth_service
from healthequity.auth.models import Role
from healthequity.auth.schemas import Principal
from healthequity.directory.search import search_services, today_in_london
from healthequity.people.demo import DEMO_PEOPLE, demo_person_id
from healthequity.referrals import service
from healthequity.referrals.models import (
    Consent,
    FailureReason,
    OutcomeMeasure,
    ProviderLink,
    Referral,
    ReferralEvent,
    ReferralNeed,
    ReferralStatus,
)
from healthequity.referrals.outcomes import Instrument, Timing
from healthequity.referrals.schemas import ContactMethod
from healthequity.social_history.instruments import FHIR_BASE
from healthequity.social_history.models import IdentifiedNeed, QuestionnaireResponse, ResponseSource
from healthequity.social_history.service import needs_of_person, record_response, set_help_wanted
from healthequity.store.database import utc_now

S = ReferralStatus
CORE = f"{FHIR_BASE}/Questionnaire/social-history-core"
LOW_MOOD = f"{FHIR_BASE}/Questionnaire/low-mood-phq2"
DEMO_SUFFIX = " (demo)"
# The directory organisations whose services the demo provider organisation works.
PROVIDER_ORGANISATIONS = ("Aire Valley Advice Collective", "Money Sense Community Interest Company")
CONSENT_DAYS = 365

# Answers to the core social history of someone with no social needs; each person's own
# answers change some of these (None leaves a question unasked).
NO_NEEDS: Mapping[str, object] = {
    "housing-situation": "own-or-rented",
    "losing-home": "no",
    "home-conditions": ["none"],
    "energy-bills": "no",
    "food-worried": "LA28398-8",  # never true
    "food-ran-out": "LA28398-8",
    "money-enough": "yes",
    "pregnant-or-under-four": False,
    "debt": "no",
    "work": "yes",
    "work-secure": "no",
    "reading-forms": "no",
    "lonely": "hardly-ever",
    "caring": "no",
    "childcare": "not-applicable",
    "online": "yes",
    "transport": "no",
    "feel-safe": "yes",
    "hurt-by-someone-close": "no",
    "alcohol": "less-than-monthly",
    "drugs": "no",
    "legal-or-immigration": "no",
}
SHORT_OF_MONEY = {"money-enough": "often-not", "benefits-checked": "no"}
# PHQ-2 "more than half the days" to both questions: a score of 4, low mood.
LOW_MOOD_ANSWERS = {"little-interest": "LA6570-1", "feeling-down": "LA6570-1"}
NOT_WORKING = {"work": "looking", "work-secure": None}
NOT_LOOKING_FOR_WORK = {"work": "not-looking", "work-secure": None}


@dataclass(frozen=True, slots=True)
class History:
    person: int  # index of people.demo.DEMO_PEOPLE
    answers: Mapping[str, object]
    strengths: str
    help_with: tuple[str, ...]  # need codes the person wants help with, what matters most first
    low_mood: bool = False
    days_ago: int = 75


HISTORIES: tuple[History, ...] = (
    History(
        0,
        {
            **SHORT_OF_MONEY,
            "debt": "behind",
            "food-worried": "LA6729-3",
            "food-ran-out": "LA6729-3",
            "pregnant-or-under-four": True,
            "healthy-start": "not-sure",
            "childcare": "no",
        },
        "Her sister lives two streets away; church on Sundays.",
        ("debt", "food", "income_benefits"),
    ),
    History(
        1,
        {
            **SHORT_OF_MONEY,
            **NOT_WORKING,
            "housing-situation": "no-home",
            "losing-home": None,
            "home-conditions": None,
            "reading-forms": "learning-english",
            "online": "no",
            "legal-or-immigration": "immigration",
        },
        "Friends at the Roma community centre; works whenever there is work.",
        ("homelessness", "income_benefits", "education_skills"),
    ),
    History(
        2,
        {"debt": "behind", "money-enough": "sometimes-not", "benefits-checked": "yes"},
        "A big family close by.",
        ("debt",),
    ),
    History(
        3,
        {**SHORT_OF_MONEY, "debt": "behind", "work-secure": "yes", "energy-bills": "sometimes"},
        "His daughter helps with letters in English.",
        ("debt", "income_benefits"),
    ),
    History(
        4,
        {
            **NOT_WORKING,
            "debt": "worried",
            "lonely": "some-of-the-time",
            "money-enough": "sometimes-not",
            "benefits-checked": "not-sure",
        },
        "College friends; wants to train as a nursery nurse.",
        ("debt", "employment"),
    ),
    History(
        5,
        {
            "caring": "yes",
            "lonely": "some-of-the-time",
            "online": "with-help",
            **NOT_LOOKING_FOR_WORK,
        },
        "Deaf club on Thursdays.",
        ("caring",),
    ),
    History(
        6,
        {
            **SHORT_OF_MONEY,
            "reading-forms": "reading",
            "caring": "yes",
            "lonely": "some-of-the-time",
            **NOT_WORKING,
        },
        "Her neighbours and the women's group at the mosque.",
        ("income_benefits", "social_isolation"),
    ),
    History(
        7,
        {
            **NOT_WORKING,
            "housing-situation": "with-others",
            "losing-home": None,
            "home-conditions": ["overcrowded"],
            "debt": "behind",
            "online": "no",
        },
        "The drop-in centre staff; plays football on Saturdays.",
        ("debt", "homelessness"),
    ),
    History(
        8,
        {
            **SHORT_OF_MONEY,
            **NOT_WORKING,
            "benefits-checked": "not-sure",
            "legal-or-immigration": "asylum",
            "food-worried": "LA28397-0",
            "food-ran-out": "LA28397-0",
            "reading-forms": "learning-english",
            "pregnant-or-under-four": True,
            "healthy-start": "no",
        },
        "Her cousin in Harehills; the Somali women's group.",
        ("legal_immigration", "food"),
    ),
    History(
        9,
        {**NOT_WORKING, "lonely": "often-or-always"},
        "Gaming friends online; a cat called Biscuit.",
        ("mental_wellbeing", "social_isolation"),
        low_mood=True,
    ),
    History(
        10,
        {**SHORT_OF_MONEY, "benefits-checked": "yes", "debt": "behind", "energy-bills": "often"},
        "Sings in a choir; two grown-up sons.",
        ("debt", "fuel_poverty"),
    ),
    History(
        11,
        {
            **NOT_WORKING,
            "debt": "behind",
            "money-enough": "sometimes-not",
            "benefits-checked": "yes",
        },
        "His brother's family; the gym.",
        ("employment", "debt"),
    ),
    History(
        12,
        {
            "lonely": "often-or-always",
            "transport": "no-transport",
            "online": "no",
            **NOT_LOOKING_FOR_WORK,
        },
        "Her daughter visits at weekends.",
        ("social_isolation",),
    ),
    History(
        13,
        {
            **NOT_WORKING,
            "reading-forms": "learning-english",
            "money-enough": "sometimes-not",
            "benefits-checked": "no",
        },
        "Friends from the Chinese community centre.",
        ("education_skills", "income_benefits", "employment"),
    ),
    History(
        14,
        {
            **SHORT_OF_MONEY,
            "pregnant-or-under-four": True,
            "healthy-start": "not-sure",
            "childcare": "yes",
        },
        "Her church and her mum.",
        ("income_benefits", "parenting_early_years"),
    ),
    History(
        15,
        {
            "home-conditions": ["damp", "cold"],
            "energy-bills": "often",
            "money-enough": "sometimes-not",
            "benefits-checked": "yes",
        },
        "The mosque; his grandchildren.",
        ("fuel_poverty",),
    ),
    History(
        16,
        {
            "money-enough": "sometimes-not",
            "benefits-checked": "no",
            "lonely": "some-of-the-time",
            "caring": "yes",
            **NOT_LOOKING_FOR_WORK,
        },
        "Her husband, whom she cares for; the bingo on Fridays.",
        ("income_benefits",),
    ),
    History(
        18,
        {"home-conditions": ["no-heating"], "energy-bills": "often"},
        "Her partner; the running club.",
        ("fuel_poverty",),
    ),
    History(
        19,
        {
            **SHORT_OF_MONEY,
            **NOT_WORKING,
            "reading-forms": "learning-english",
            "legal-or-immigration": "immigration",
        },
        "His brother, who lives with him.",
        ("income_benefits", "employment"),
    ),
    History(
        20,
        {"lonely": "often-or-always", **NOT_LOOKING_FOR_WORK},
        "Her garden; a friend from the old street.",
        ("social_isolation",),
    ),
    History(
        21,
        {"debt": "behind", "work-secure": "yes"},
        "His wife and the Turkish social club.",
        ("debt",),
    ),
    History(
        22,
        {
            "hurt-by-someone-close": "now",
            "feel-safe": "not-at-home",
            "debt": "behind",
            "money-enough": "sometimes-not",
            "benefits-checked": "yes",
        },
        "A close friend from work.",
        ("domestic_abuse", "debt"),
    ),
    History(
        24,
        {
            "lonely": "often-or-always",
            "transport": "cost",
            **NOT_LOOKING_FOR_WORK,
        },
        "Talking books; her nephew phones on Sundays.",
        ("social_isolation", "transport"),
    ),
    History(25, {"debt": "behind"}, "His partner and the synagogue.", ("debt",)),
    History(
        26,
        {"lonely": "some-of-the-time"},
        "Her flatmates; dance classes when she can afford them.",
        ("mental_wellbeing",),
        low_mood=True,
    ),
    History(
        27,
        {"transport": "no-transport", "caring": "yes", **NOT_LOOKING_FOR_WORK},
        "The gurdwara and his grandchildren.",
        ("transport",),
    ),
)


@dataclass(frozen=True, slots=True)
class Step:
    """Something that happened to a referral, `days_ago` days before today."""

    days_ago: int
    status: ReferralStatus | None = None
    text: str | None = None  # the reason, the outcome, or a failure's detail
    failure: FailureReason | None = None
    contact: ContactMethod | None = None
    reached: bool = False
    note: str | None = None
    still_attending: bool | None = None
    follow_up_in: int | None = None  # days after the step to follow up instead
    by_referrer: bool = False  # not the service (the referrer always acts for an unlinked one)


Scores = Mapping[str, int]


@dataclass(frozen=True, slots=True)
class Wellbeing:
    ons4: tuple[Scores, Scores]  # before, after
    swemwbs: tuple[Scores, Scores]


def _swemwbs(*scores: int) -> dict[str, int]:
    keys = (
        "optimistic",
        "useful",
        "relaxed",
        "dealing_with_problems",
        "thinking_clearly",
        "close_to_others",
        "own_mind",
    )
    return dict(zip(keys, scores, strict=True))


def _ons4(life: int, worthwhile: int, happy: int, anxious: int) -> dict[str, int]:
    return {
        "life_satisfaction": life,
        "worthwhile": worthwhile,
        "happiness": happy,
        "anxiety": anxious,
    }


@dataclass(frozen=True, slots=True)
class DemoReferral:
    person: int
    needs: tuple[str, ...]
    # The directory organisation (its name without " (demo)") and how its service's name begins.
    service: tuple[str, str]
    by: Role  # the demo clinician or the demo link worker
    days_ago: int
    note: str
    steps: tuple[Step, ...] = ()
    social_prescription: bool = False
    draft: bool = False
    wellbeing: Wellbeing | None = None


AIRE = "Aire Valley Advice Collective"
MONEY = "Money Sense Community Interest Company"
C, L = Role.CLINICIAN, Role.LINK_WORKER
PHONE, TEXT, LETTER, IN_PERSON = (
    ContactMethod.PHONE,
    ContactMethod.TEXT_MESSAGE,
    ContactMethod.LETTER,
    ContactMethod.IN_PERSON,
)

REFERRALS: tuple[DemoReferral, ...] = (
    DemoReferral(
        0,
        ("debt",),
        (AIRE, "Debt advice drop-in"),
        C,
        3,
        "Rent arrears of about £900 and a council tax reminder. Works shifts: call after 2pm.",
    ),
    DemoReferral(
        3,
        ("debt", "income_benefits"),
        (MONEY, "Debt advice phone line"),
        L,
        19,
        "Behind with a catalogue debt and the water bill; hours cut at work. Prefers Polish "
        "for anything about money.",
        (
            Step(
                12,
                note="Rang the service: not picked up yet, they have a backlog.",
                by_referrer=True,
            ),
        ),
    ),
    DemoReferral(
        6,
        ("income_benefits",),
        (AIRE, "Benefits check and claims help"),
        C,
        6,
        "Benefits check, please: husband recently stopped work through illness.",
        (Step(5, S.RECEIVED),),
    ),
    DemoReferral(
        7,
        ("debt",),
        (AIRE, "Council tax and rent arrears advice"),
        C,
        18,
        "Has no phone: write to him care of the drop-in centre, or see him there on Tuesdays.",
        (
            Step(17, S.RECEIVED),
            Step(10, contact=LETTER, note="Letter left at the drop-in centre; no reply yet."),
        ),
    ),
    DemoReferral(
        8,
        ("legal_immigration",),
        (AIRE, "Immigration and asylum advice"),
        C,
        12,
        "Asylum claim: a letter from the Home Office she needs help to answer. Needs a Somali "
        "interpreter.",
        (
            Step(11, S.RECEIVED),
            Step(10, S.ACCEPTED),
            Step(
                9,
                contact=PHONE,
                reached=True,
                note="Appointment booked next week, with a Somali interpreter.",
            ),
        ),
    ),
    DemoReferral(
        11,
        ("debt",),
        (MONEY, "Debt advice drop-in"),
        L,
        9,
        "Two payday loans and a credit card; struggling since he lost his job.",
        (
            Step(8, S.ACCEPTED),
            Step(7, contact=PHONE),
            Step(
                6,
                contact=TEXT,
                reached=True,
                note="Replied by text; first appointment on Thursday.",
            ),
        ),
    ),
    DemoReferral(
        14,
        ("income_benefits",),
        (AIRE, "Universal Credit help to claim"),
        C,
        13,
        "Single parent, baby of 8 months: check Universal Credit, Child Benefit and Healthy Start.",
        (
            Step(12, S.ACCEPTED),
            Step(7, contact=IN_PERSON, reached=True),
            Step(7, S.IN_PROGRESS, note="Benefits check under way; Healthy Start applied for."),
        ),
    ),
    DemoReferral(
        15,
        ("fuel_poverty",),
        (AIRE, "Warm homes energy advice"),
        L,
        27,
        "Damp and cold flat, heating rationed; a grant for insulation or a new boiler may help.",
        (
            Step(26, S.RECEIVED),
            Step(24, S.ACCEPTED),
            Step(20, S.IN_PROGRESS),
            Step(
                13,
                follow_up_in=10,
                note="Waiting for the landlord's reply about the damp.",
                by_referrer=True,
            ),
        ),
    ),
    DemoReferral(
        10,
        ("debt",),
        (MONEY, "Breathing space and insolvency guidance"),
        C,
        60,
        "Debts of about £11,000 on cards and a loan; cannot keep up the payments.",
        (
            Step(59, S.RECEIVED),
            Step(57, S.ACCEPTED),
            Step(56, contact=PHONE, reached=True),
            Step(50, S.IN_PROGRESS),
            Step(
                21,
                S.COMPLETED,
                "Debt relief order approved: £11,400 of debts written off, and a budget she can "
                "keep to.",
            ),
        ),
        wellbeing=Wellbeing(
            (_ons4(3, 5, 4, 8), _ons4(7, 7, 7, 3)),
            (_swemwbs(2, 3, 2, 2, 3, 3, 3), _swemwbs(4, 3, 3, 4, 4, 3, 4)),
        ),
    ),
    DemoReferral(
        16,
        ("income_benefits",),
        (AIRE, "Pension Credit take-up service"),
        L,
        45,
        "Pension age, caring for her husband: may be entitled to Pension Credit and "
        "Attendance Allowance.",
        (
            Step(44, S.ACCEPTED),
            Step(40, S.IN_PROGRESS),
            Step(
                15,
                S.COMPLETED,
                "Pension Credit awarded (£82 a week), Attendance Allowance claimed for her "
                "husband, council tax reduction applied.",
            ),
        ),
        wellbeing=Wellbeing(
            (_ons4(4, 6, 5, 6), _ons4(6, 7, 6, 4)),
            (_swemwbs(2, 3, 2, 3, 3, 3, 3), _swemwbs(3, 4, 3, 3, 3, 4, 4)),
        ),
    ),
    DemoReferral(
        2,
        ("debt",),
        (AIRE, "Debt advice drop-in"),
        C,
        20,
        "Debts left by her late father; letters from his creditors.",
        (
            Step(
                18,
                S.REJECTED,
                "These are debts of her father's estate: we cannot advise on estates. A "
                "solicitor at the council's free legal clinic can.",
            ),
        ),
    ),
    DemoReferral(
        13,
        ("income_benefits",),
        (MONEY, "Benefits check and claims help"),
        L,
        25,
        "Low income; has he claimed everything he can?",
        (
            Step(24, S.RECEIVED),
            Step(
                22,
                S.REJECTED,
                "He already has an open case with our benefits team: this referral's note is "
                "added to it.",
            ),
        ),
    ),
    DemoReferral(
        4,
        ("debt",),
        (MONEY, "Money and budgeting coaching"),
        L,
        35,
        "Overdraft and a phone contract in arrears; worried about a bailiff's letter.",
        (
            Step(33, S.ACCEPTED),
            Step(32, contact=PHONE),
            Step(29, contact=PHONE),
            Step(26, contact=TEXT),
            Step(
                20,
                S.FAILED,
                "Three calls and a text over two weeks, no answer.",
                FailureReason.NOT_REACHED,
            ),
        ),
    ),
    DemoReferral(
        19,
        ("income_benefits",),
        (AIRE, "Universal Credit help to claim"),
        C,
        30,
        "Out of work; not sure what he can claim. Needs a Slovak interpreter.",
        (
            Step(28, S.ACCEPTED),
            Step(27, contact=PHONE, reached=True, note="Spoke with an interpreter."),
            Step(
                25,
                S.FAILED,
                "No right to reside for Universal Credit yet: referred on to our immigration "
                "adviser.",
                FailureReason.INELIGIBLE,
            ),
        ),
    ),
    DemoReferral(
        21,
        ("debt",),
        (AIRE, "Debt advice phone line"),
        C,
        16,
        "Business debts from a closed shop, and his home mortgage.",
        (
            Step(15, S.RECEIVED),
            Step(
                10,
                S.CANCELLED,
                "He has moved to Bradford: referred to a service there instead.",
                by_referrer=True,
            ),
        ),
    ),
    DemoReferral(
        25,
        ("debt",),
        (AIRE, "Debt advice drop-in"),
        C,
        1,
        "Credit card debt after a divorce.",
        draft=True,
    ),
    DemoReferral(
        9,
        ("mental_wellbeing",),
        ("Mind the Gap Wellbeing", "Wellbeing and mindfulness course"),
        L,
        33,
        "Low mood and lonely since leaving college; would like a small, quiet group.",
        (Step(30, S.ACCEPTED),),
        social_prescription=True,
    ),
    DemoReferral(
        12,
        ("social_isolation",),
        ("Good Neighbours Befriending", "Befriending service for older people"),
        L,
        50,
        "Lives alone with dementia; her daughter would like a befriender to visit weekly.",
        (Step(46, S.ACCEPTED), Step(40, S.IN_PROGRESS)),
        social_prescription=True,
    ),
    DemoReferral(
        20,
        ("social_isolation",),
        ("Active Neighbourhoods", "Community growing project"),
        L,
        70,
        "Widowed last year and rarely goes out; was a keen gardener.",
        (
            Step(68, S.ACCEPTED),
            Step(60, S.IN_PROGRESS),
            Step(
                38,
                still_attending=True,
                note="Goes every Tuesday and Thursday, and stays for lunch.",
            ),
            Step(
                10,
                S.COMPLETED,
                "Gardens with the group twice a week, and has joined an allotment society.",
            ),
        ),
        social_prescription=True,
        wellbeing=Wellbeing(
            (_ons4(4, 4, 3, 5), _ons4(7, 8, 7, 3)),
            (_swemwbs(2, 2, 3, 3, 3, 2, 4), _swemwbs(4, 3, 4, 3, 4, 4, 4)),
        ),
    ),
    DemoReferral(
        24,
        ("social_isolation",),
        ("Mind the Gap Wellbeing", "Telephone befriending"),
        L,
        2,
        "Partially sighted and lives alone: would enjoy a weekly phone call.",
        social_prescription=True,
    ),
    DemoReferral(
        26,
        ("mental_wellbeing",),
        ("Mind the Gap Wellbeing", "Wellbeing and mindfulness course"),
        C,
        28,
        "Low mood for some months; open to a wellbeing group.",
        (
            Step(25, S.ACCEPTED),
            Step(
                12,
                S.FAILED,
                "Decided the group sessions were not for her; has referred herself to talking "
                "therapies.",
                FailureReason.DECLINED,
            ),
        ),
        social_prescription=True,
    ),
    DemoReferral(
        27,
        ("transport",),
        ("Community Wheels Transport", "Community transport door-to-door"),
        C,
        10,
        "Needs transport to dialysis three times a week.",
        (Step(8, S.ACCEPTED),),
    ),
    DemoReferral(
        5,
        ("caring",),
        ("Carers Together", "Carers' breaks"),
        L,
        55,
        "Cares for his wife full time; uses British Sign Language, so contact by text.",
        (
            Step(50, S.ACCEPTED),
            Step(45, S.IN_PROGRESS),
            Step(
                14,
                S.COMPLETED,
                "Carer's assessment done; a sitting service gives him four hours' break a week.",
            ),
        ),
    ),
    DemoReferral(
        1,
        ("homelessness",),
        ("Open Door Street Outreach", "Rough sleeper outreach"),
        C,
        8,
        "Sleeping in his car since losing his room. Speaks Romanian: use an interpreter.",
        (
            Step(7, S.ACCEPTED),
            Step(
                4,
                S.IN_PROGRESS,
                note="Emergency bed found; housing options appointment booked with an interpreter.",
            ),
        ),
    ),
    DemoReferral(
        8,
        ("food",),
        ("Open Table Food Network", "Community food bank"),
        C,
        40,
        "No money for food until her first payment arrives.",
        (
            Step(39, S.ACCEPTED),
            Step(38, S.IN_PROGRESS),
            Step(
                30,
                S.COMPLETED,
                "Food parcels for six weeks, and signed up to the community pantry.",
            ),
        ),
    ),
    DemoReferral(
        22,
        ("domestic_abuse",),
        ("Safe Haven Domestic Abuse Service", "Independent domestic violence advisers"),
        C,
        6,
        "Only contact on the mobile number given, and never leave a message.",
        (
            Step(
                5,
                S.ACCEPTED,
                note="Safe Haven accepted by phone; safety planning appointment booked.",
                by_referrer=True,
            ),
        ),
    ),
    DemoReferral(
        22,
        ("debt",),
        (AIRE, "Debt advice phone line"),
        C,
        6,
        "Credit card and overdraft debts in her own name.",
    ),
    DemoReferral(
        18,
        ("fuel_poverty",),
        ("Warm Terraces Energy Project", "Damp and mould home visits"),
        L,
        22,
        "Mould in the bedrooms and the boiler broken for a month; landlord not responding.",
        (
            Step(
                20,
                S.REJECTED,
                "Home visits are booked up until the spring: try the council's warm homes team.",
            ),
        ),
    ),
    DemoReferral(
        11,
        ("employment",),
        ("Bridgeway Employment Partnership", "Job club"),
        L,
        24,
        "Looking for warehouse or driving work; has a forklift licence.",
        (
            Step(22, S.ACCEPTED),
            Step(
                9, S.CANCELLED, "Found full-time work before the first session.", by_referrer=True
            ),
        ),
    ),
    DemoReferral(
        13,
        ("education_skills",),
        ("Learning Together Adult College", "ESOL classes"),
        L,
        26,
        "Would like English classes (ESOL), evenings if possible.",
        (
            Step(24, S.ACCEPTED),
            Step(
                18,
                S.FAILED,
                "This term's evening course is full; he is on the list for January.",
                FailureReason.SERVICE_FULL,
            ),
        ),
    ),
    DemoReferral(
        0,
        ("food",),
        ("Open Table Food Network", "Community pantry"),
        L,
        0,
        "Food for her and her toddler until payday.",
        draft=True,
    ),
)


def _principal(session: Session, role: Role) -> Principal:
    demo_user = next(user for user in auth_demo.DEMO_USERS if role in user.roles)
    user = auth_service.get_user(session, demo_user.email)
    return Principal(
        display_name=user.display_name,
        organisation_id=user.organisation_id,
        organisation_name=user.organisation.name,
        roles=user.roles,
        user_id=user.id,
        email=user.email,
    )


@dataclass
class Clock:
    """The moments of a demo record's history: each on its day, a little after the last,
    and never later than now (early in the morning, today's are all now)."""

    today: date
    now: datetime
    ticks: int = 0

    def start(self) -> None:
        """A new record: its first moment is early in the morning of its day."""
        self.ticks = 0

    def at(self, days_ago: int) -> datetime:
        self.ticks += 1
        day = self.today - timedelta(days=days_ago)
        moment = datetime.combine(day, time(9, 0), UTC) + timedelta(minutes=23 * self.ticks)
        return min(moment, self.now)


def _take_history(
    session: Session, context: AuditContext, history: History, clinician: Principal, clock: Clock
) -> None:
    clock.start()
    person_id = demo_person_id(history.person)
    answers = {**NO_NEEDS, "strengths": history.strengths, **history.answers}
    given = {link_id: value for link_id, value in answers.items() if value is not None}
    taken = clock.at(history.days_ago)
    responses = [
        record_response(
            session, context, person_id, CORE, given, ResponseSource.CLINICIAN, clinician.user_id
        )
    ]
    if history.low_mood:
        responses.append(
            record_response(
                session,
                context,
                person_id,
                LOW_MOOD,
                LOW_MOOD_ANSWERS,
                ResponseSource.CLINICIAN,
                clinician.user_id,
            )
        )
    for response in responses:
        response.authored_at = taken
    for need in needs_of_person(session, person_id, include_sensitive=True):
        wanted = need.need_code in history.help_with
        priority = history.help_with.index(need.need_code) + 1 if wanted else None
        set_help_wanted(session, context, need.id, wanted, priority)
        need.recorded_at = taken


def _service(session: Session, need_code: str, organisation: str, name: str) -> tuple[str, str]:
    """The first service of the organisation whose name begins so, that meets the need and
    takes referrals, as (service id, directory organisation id)."""
    wanted = organisation + DEMO_SUFFIX
    for result in search_services(session, needs=[need_code], accepting_referrals=True, limit=100):
        if result.organisation_name == wanted and result.name.startswith(name):
            return result.id, result.organisation_id
    raise LookupError(f"the demo directory has no {name!r} of {wanted} taking referrals")


def _date_last_event(session: Session, referral: Referral, moment: datetime) -> None:
    event = session.scalars(
        select(ReferralEvent)
        .where(ReferralEvent.referral_id == referral.id)
        .order_by(ReferralEvent.id.desc())
        .limit(1)
    ).one()
    event.occurred_at = moment


def _make_referral(
    session: Session,
    context: AuditContext,
    demo: DemoReferral,
    people: Mapping[Role, Principal],
    linked: set[str],
    clock: Clock,
) -> None:
    clock.start()
    person_id = demo_person_id(demo.person)
    referrer = people[demo.by]
    service_id, organisation_id = _service(session, demo.needs[0], *demo.service)
    provider = people[Role.PROVIDER] if organisation_id in linked else referrer
    day = clock.today - timedelta(days=demo.days_ago)
    consent = service.record_consent(
        session,
        context,
        person_id=person_id,
        service_id=service_id,
        shared_information="name, contact details and the needs referred for",
        purpose="so that the service can contact them and help",
        expires_on=day + timedelta(days=CONSENT_DAYS),
        recorded_by=referrer,
        today=day,
    )
    made = clock.at(demo.days_ago)
    consent.recorded_at = made
    needs = {
        need.need_code: need.id
        for need in session.scalars(
            select(IdentifiedNeed).where(IdentifiedNeed.person_id == person_id)
        )
    }
    referral = service.refer_person(
        session,
        context,
        person_id,
        service_id,
        [needs[code] for code in demo.needs],
        consent.id,
        referrer,
        demo.note,
        is_social_prescription=demo.social_prescription,
        draft=demo.draft,
        today=day,
    )
    _date_last_event(session, referral, made)
    changed = made
    for step in demo.steps:
        actor = referrer if step.by_referrer else provider
        moment = clock.at(step.days_ago)
        step_day = clock.today - timedelta(days=step.days_ago)
        if step.contact is not None:
            service.record_contact_attempt(
                session,
                context,
                referral.id,
                method=step.contact,
                reached=step.reached,
                note=step.note,
                actor=actor,
            )
            _date_last_event(session, referral, moment)
            continue
        if step.status is not None:
            service.change_status(
                session,
                context,
                referral.id,
                step.status,
                referral.version,
                reason=step.text if step.status != S.COMPLETED else None,
                outcome=step.text if step.status == S.COMPLETED else None,
                failure_reason=step.failure,
                actor=actor,
                today=step_day,
            )
            _date_last_event(session, referral, moment)
            changed = moment
        if step.still_attending is not None:
            service.record_attendance_check(
                session,
                context,
                referral.id,
                referral.version,
                step.still_attending,
                note=step.note,
                actor=actor,
            )
            _date_last_event(session, referral, moment)
            changed = moment
        elif step.follow_up_in is not None:
            service.reschedule_follow_up(
                session,
                context,
                referral.id,
                referral.version,
                step_day + timedelta(days=step.follow_up_in),
                note=step.note,
                actor=actor,
                today=step_day,
            )
            _date_last_event(session, referral, moment)
            changed = moment
        elif step.note is not None:
            service.add_note(session, context, referral.id, step.note, actor=actor)
            _date_last_event(session, referral, moment)
    if demo.wellbeing is not None:
        for instrument, (before, after) in (
            (Instrument.ONS4, demo.wellbeing.ons4),
            (Instrument.SWEMWBS, demo.wellbeing.swemwbs),
        ):
            for timing, scores, when in (
                (Timing.BEFORE, before, made),
                (Timing.AFTER, after, changed),
            ):
                measure = service.record_outcome_measure(
                    session, context, referral.id, instrument, timing, scores, actor=referrer
                )
                measure.recorded_at = when
    referral.created_at = made
    referral.updated_at = changed
    session.flush()


# The tables the demo fills, whose new rows it reports.
DEMO_TABLES = (
    ProviderLink,
    QuestionnaireResponse,
    IdentifiedNeed,
    Consent,
    Referral,
    ReferralNeed,
    ReferralEvent,
    OutcomeMeasure,
)


def _rows(session: Session) -> int:
    return sum(
        session.scalar(select(func.count()).select_from(table)) or 0 for table in DEMO_TABLES
    )


def load_demo(session: Session, context: AuditContext) -> list[str]:
    """Take the demo people's social histories and make their referrals, for those who have
    none yet; return the lines to print."""
    rows_before = _rows(session)
    people = {
        role: _principal(session, role)
        for role in (Role.CLINICIAN, Role.LINK_WORKER, Role.PROVIDER)
    }
    linked: set[str] = set()
    for organisation in PROVIDER_ORGANISATIONS:
        _service_id, organisation_id = _service(session, "debt", organisation, "")
        service.link_provider(
            session, context, people[Role.PROVIDER].organisation_id, organisation_id
        )
        linked.add(organisation_id)
    everyone = [demo_person_id(index) for index in range(len(DEMO_PEOPLE))]
    asked = set(
        session.scalars(
            select(QuestionnaireResponse.person_id).where(
                QuestionnaireResponse.person_id.in_(everyone)
            )
        )
    )
    clock = Clock(today_in_london(), utc_now())
    histories = [h for h in HISTORIES if demo_person_id(h.person) not in asked]
    for history in histories:
        _take_history(session, context, history, people[Role.CLINICIAN], clock)
    new_people = {history.person for history in histories}
    for demo in REFERRALS:
        if demo.person in new_people:
            _make_referral(session, context, demo, people, linked, clock)
    counts: Counter[ReferralStatus] = Counter(
        dict(
            session.execute(
                select(Referral.status, func.count())
                .where(Referral.person_id.in_(everyone))
                .group_by(Referral.status)
            ).all()
        )
    )
    by_status = ", ".join(f"{status.value} {counts.get(status, 0)}" for status in ReferralStatus)
    histories_taken = session.scalar(
        select(func.count(QuestionnaireResponse.person_id.distinct())).where(
            QuestionnaireResponse.person_id.in_(everyone)
        )
    )
    provider_organisations = " and ".join(name + DEMO_SUFFIX for name in PROVIDER_ORGANISATIONS)
    return [
        f"Demo referrals: {sum(counts.values())} for the demo people, by status: {by_status} "
        f"({_rows(session) - rows_before} rows created)",
        f"  social histories of {histories_taken} demo people; the demo provider adviser "
        f"works the referrals to {provider_organisations}",
    ]
