"""A demonstration service directory for one real local authority (never for real use).

Leeds (E08000035) has LSOAs in every IMD 2025 decile, from the most deprived tenth of
England to the least. Every service, organisation and location here is fictional and
labelled so: names end in " (demo)" and descriptions begin "Demonstration record:". Each
location sits in a real Leeds LSOA, at its interior point. Phone numbers are in Ofcom's
range reserved for drama (0113 496 0000 to 0999), email addresses and websites are at
`.example` domains, and no postcode is given (addresses name the LSOA instead).

Loading is deterministic (a seeded random generator, uuid5 ids) and idempotent: every row
is upserted by id, so loading again duplicates nothing and changes nothing.
"""

from __future__ import annotations

import json
import random
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from healthequity import geography
from healthequity.audit.schemas import AuditContext
from healthequity.audit.service import record_event
from healthequity.directory.models import (
    Accessibility,
    Address,
    Attribute,
    Contact,
    CostOption,
    Funding,
    Language,
    Location,
    Organization,
    Phone,
    RecordChange,
    ReferralMethod,
    Schedule,
    Service,
    ServiceArea,
    ServiceAtLocation,
    ServiceStatus,
    TaxonomyTerm,
)
from healthequity.directory.taxonomy import (
    SERVICE_ENTITY,
    ensure_needs_taxonomy,
    need_attribute_id,
    need_term_id,
    stable_id,
)
from healthequity.needs import NEEDS, NEEDS_BY_CODE
from healthequity.store.database import Base, utc_now

DEMO_LTLA_CODE = "E08000035"  # Leeds
DEMO_COUNTY = "West Yorkshire"
SERVICES_PER_NEED = 16
DEMO_SEED = 20130901
DEMO_SUFFIX = " (demo)"
DEMO_PREFIX = "Demonstration record: "
# Ofcom numbers reserved for TV and radio drama in the Leeds (0113) area: 0113 496 0000-0999.
DRAMA_PHONE_PREFIX = "0113 496 "
SERVICE_PHONE_BASE = 0
CONTACT_PHONE_BASE = 500
STALE_SHARE = 0.25  # share of records last reviewed 181 to 400 days ago
INACTIVE_COUNT = 12
TEMPORARILY_CLOSED_COUNT = 3


def _key(*parts: str) -> str:
    return stable_id("demo", DEMO_LTLA_CODE, *parts)


@dataclass(frozen=True, slots=True)
class Template:
    """A kind of service for one need."""

    name: str
    description: str
    also: tuple[str, ...] = ()  # other needs it meets
    ages: tuple[float | None, float | None] | None = None
    eligibility: str | None = None
    cost: tuple[str, float, str] | None = None  # option, amount, description
    method: ReferralMethod | None = None
    hours: tuple[int, ...] = ()  # indexes into SCHEDULES to choose from


@dataclass(frozen=True, slots=True)
class DemoOrganisation:
    name: str
    description: str
    needs: frozenset[str]
    slug: str = field(default="")


# (days, opens, closes, attending type)
SCHEDULES: tuple[tuple[str, str, str, str], ...] = (
    ("MO,TU,WE,TH,FR", "09:00", "17:00", "in person"),
    ("MO,TU,WE,TH,FR", "09:30", "16:30", "phone"),
    ("TU", "10:00", "13:00", "in person"),
    ("WE", "13:00", "16:00", "in person"),
    ("TH", "18:00", "20:00", "in person"),
    ("SA", "10:00", "12:00", "in person"),
    ("MO,WE,FR", "10:00", "14:00", "in person"),
    ("MO,TU,WE,TH,FR,SA,SU", "00:00", "23:59", "phone"),
    ("TU,TH", "09:30", "12:00", "online"),
)
HELPLINE = (7,)
DAY_NAMES = {
    "MO": "Monday",
    "TU": "Tuesday",
    "WE": "Wednesday",
    "TH": "Thursday",
    "FR": "Friday",
    "SA": "Saturday",
    "SU": "Sunday",
}

R = ReferralMethod
FREE_UNDER_BENEFITS = "free for people on means-tested benefits (demonstration price)"

TEMPLATES: dict[str, tuple[Template, ...]] = {
    "housing": (
        Template(
            "Housing options advice",
            "advice on finding and keeping a home: tenancy rights, repairs, rent arrears and "
            "applying for social housing.",
        ),
        Template(
            "Private renters' rights clinic",
            "help for private tenants with disrepair, deposits, illegal eviction and notices "
            "to quit.",
            also=("legal_immigration",),
        ),
        Template(
            "Tenancy sustainment support",
            "one-to-one support for tenants at risk of losing their tenancy, with budgeting "
            "and links to other services.",
            also=("debt",),
            method=R.IN_APP,
        ),
        Template(
            "Housing conditions and overcrowding advice",
            "advice and advocacy for households living in overcrowded or unsafe homes.",
        ),
        Template(
            "Social housing application help",
            "help to register for social housing and to bid for homes.",
            hours=(2, 3, 6),
        ),
    ),
    "homelessness": (
        Template(
            "Homelessness prevention team",
            "assessment and a personal housing plan for anyone homeless or at risk of "
            "homelessness within 56 days.",
            also=("housing",),
            method=R.PHONE,
        ),
        Template(
            "Rough sleeper outreach",
            "early-morning outreach to people sleeping rough, with help into accommodation.",
            hours=HELPLINE,
            method=R.PHONE,
        ),
        Template(
            "Young people's supported housing",
            "supported accommodation and tenancy skills for young people who cannot live at home.",
            ages=(16, 25),
            eligibility="Young people aged 16 to 25 who are homeless or at risk.",
            also=("housing",),
        ),
        Template(
            "Day centre for people who are homeless",
            "showers, laundry, hot food and advice for people who are homeless or vulnerably "
            "housed.",
            also=("food",),
            method=R.SELF_REFERRAL,
        ),
        Template(
            "Winter night shelter",
            "emergency beds in cold weather, with breakfast and a housing adviser each morning.",
            hours=HELPLINE,
        ),
    ),
    "fuel_poverty": (
        Template(
            "Warm homes energy advice",
            "advice on cutting energy bills, switching tariffs and grants for heating and "
            "insulation.",
        ),
        Template(
            "Damp and mould home visits",
            "a home visit to find the cause of damp and mould and help with the landlord.",
            also=("housing",),
            method=R.IN_APP,
        ),
        Template(
            "Energy debt and fuel voucher support",
            "emergency fuel vouchers for prepayment meters and help with energy arrears.",
            also=("debt",),
        ),
        Template(
            "Winter warmth check for older people",
            "a free winter warmth check with simple measures such as draught-proofing.",
            ages=(65, None),
            eligibility="People aged 65 and over.",
        ),
        Template(
            "Home insulation grants advice",
            "help to apply for insulation and heating grants for low-income households.",
        ),
    ),
    "income_benefits": (
        Template(
            "Benefits check and claims help",
            "a full benefits check and help to claim everything you are entitled to.",
        ),
        Template(
            "Universal Credit help to claim",
            "help to make and manage a Universal Credit claim, online or by phone.",
            also=("digital_access",),
        ),
        Template(
            "Disability benefits form-filling",
            "help with Personal Independence Payment and Attendance Allowance forms.",
            also=("disability_support",),
        ),
        Template(
            "Pension Credit take-up service",
            "checks for Pension Credit and the help that comes with it.",
            ages=(66, None),
            eligibility="People of State Pension age.",
        ),
        Template(
            "Benefit appeals support",
            "support with mandatory reconsiderations and tribunal appeals.",
            also=("legal_immigration",),
            method=R.EMAIL,
        ),
    ),
    "debt": (
        Template(
            "Debt advice drop-in",
            "free, confidential debt advice: priority debts, bailiffs, payment plans and "
            "debt relief.",
            hours=(2, 3, 5, 6),
            method=R.SELF_REFERRAL,
        ),
        Template(
            "Money and budgeting coaching",
            "coaching sessions to build a budget, open a bank account and save.",
        ),
        Template(
            "Council tax and rent arrears advice",
            "help to deal with council tax and rent arrears before enforcement.",
            also=("housing",),
        ),
        Template(
            "Debt advice phone line",
            "debt advice by phone, with follow-up appointments where needed.",
            hours=(1,),
            method=R.PHONE,
        ),
        Template(
            "Breathing space and insolvency guidance",
            "advice on the Breathing Space scheme, Debt Relief Orders and bankruptcy.",
            also=("legal_immigration",),
        ),
    ),
    "employment": (
        Template(
            "Job club",
            "weekly job club with job search, applications and interview practice.",
            hours=(2, 3, 8),
            method=R.SELF_REFERRAL,
        ),
        Template(
            "Health and work coaching",
            "coaching for people out of work because of a health condition who want to "
            "return to work.",
            also=("mental_wellbeing",),
            method=R.IN_APP,
        ),
        Template(
            "Youth employment hub",
            "help into work, training or an apprenticeship for young people.",
            ages=(16, 24),
            eligibility="Young people aged 16 to 24 not in work, education or training.",
        ),
        Template(
            "CV and interview skills workshop",
            "a short workshop on writing a CV and preparing for interviews.",
            also=("education_skills",),
        ),
        Template(
            "Workplace rights advice",
            "advice on sick pay, reasonable adjustments, dismissal and discrimination at work.",
            also=("legal_immigration",),
            method=R.EMAIL,
        ),
    ),
    "education_skills": (
        Template(
            "ESOL classes",
            "English for speakers of other languages, from beginners to exam level.",
            ages=(16, None),
            eligibility="Adults aged 16 and over whose first language is not English.",
        ),
        Template(
            "Adult literacy and numeracy",
            "friendly small-group help with reading, writing and everyday maths.",
            ages=(19, None),
        ),
        Template(
            "Functional skills maths and English",
            "courses leading to functional skills qualifications.",
            ages=(19, None),
        ),
        Template(
            "Community learning courses",
            "short courses in the community for adults returning to learning.",
            cost=("Per course", 10.0, f"£10 a course; {FREE_UNDER_BENEFITS}"),
        ),
        Template(
            "Family learning sessions",
            "parents and children learning together: reading, number and play.",
            also=("parenting_early_years",),
            ages=(0, 11),
            eligibility="Parents and carers with children up to age 11.",
        ),
    ),
    "food": (
        Template(
            "Community food bank",
            "three days' emergency food on referral with a food bank voucher.",
            method=R.IN_APP,
            hours=(2, 3, 5, 6),
        ),
        Template(
            "Community pantry",
            "a membership food pantry: choose ten or more items a week for a small fee.",
            cost=("Weekly membership", 3.5, "£3.50 a week (demonstration price)"),
            method=R.SELF_REFERRAL,
        ),
        Template(
            "Lunch club and community meal",
            "a hot two-course lunch and company, once a week.",
            also=("social_isolation",),
            cost=("Per meal", 2.0, "£2 a meal; pay what you can (demonstration price)"),
        ),
        Template(
            "Holiday activities and food programme",
            "activities and a healthy meal for children in the school holidays.",
            ages=(5, 16),
            eligibility="Children aged 5 to 16 who get benefits-related free school meals.",
            also=("parenting_early_years",),
        ),
        Template(
            "Community fridge",
            "surplus food shared free with anyone who needs it, no questions asked.",
            method=R.SELF_REFERRAL,
        ),
    ),
    "social_isolation": (
        Template(
            "Befriending service for older people",
            "a volunteer befriender who visits or calls every week.",
            ages=(65, None),
            eligibility="People aged 65 and over who feel lonely or isolated.",
            method=R.IN_APP,
        ),
        Template(
            "Men's shed",
            "a workshop space where men meet, make and mend things together.",
            method=R.SELF_REFERRAL,
        ),
        Template(
            "Coffee morning and social group",
            "a weekly coffee morning with games, trips and a warm welcome.",
            hours=(2, 3, 5),
        ),
        Template(
            "Telephone befriending",
            "a friendly phone call once or twice a week from a trained volunteer.",
            hours=(1,),
            method=R.PHONE,
        ),
        Template(
            "Social prescribing link workers",
            "link workers who spend time with people to find activities and support that "
            "matter to them.",
            also=("mental_wellbeing",),
            method=R.IN_APP,
        ),
    ),
    "caring": (
        Template(
            "Carers' support and advice",
            "information, advice and emotional support for unpaid carers.",
        ),
        Template(
            "Young carers' group",
            "a group for young carers to have a break, have fun and get support.",
            ages=(8, 18),
            eligibility="Young carers aged 8 to 18.",
            hours=(4, 5),
        ),
        Template(
            "Carers' breaks",
            "short breaks and sitting services so that carers can have time for themselves.",
        ),
        Template(
            "Carer's assessment advice",
            "help to ask for and prepare for a carer's assessment.",
            also=("income_benefits",),
        ),
        Template(
            "Dementia carers' peer group",
            "a monthly peer group for people caring for someone with dementia.",
            also=("social_isolation",),
        ),
    ),
    "domestic_abuse": (
        Template(
            "Domestic abuse helpline",
            "confidential advice, safety planning and referral for anyone affected by "
            "domestic abuse.",
            hours=HELPLINE,
            method=R.PHONE,
        ),
        Template(
            "Independent domestic violence advisers",
            "specialist advisers supporting people at high risk of harm.",
            method=R.PHONE,
            ages=(16, None),
        ),
        Template(
            "Domestic abuse recovery group",
            "a group programme to understand abuse and rebuild confidence.",
            method=R.PHONE,
        ),
        Template(
            "Children and young people's domestic abuse support",
            "support for children and young people who have lived with domestic abuse.",
            ages=(5, 18),
            eligibility="Children and young people aged 5 to 18.",
            also=("parenting_early_years",),
            method=R.PHONE,
        ),
        Template(
            "Safe accommodation referrals",
            "refuge and safe accommodation for people fleeing domestic abuse.",
            also=("homelessness",),
            hours=HELPLINE,
            method=R.PHONE,
        ),
    ),
    "substance_use": (
        Template(
            "Alcohol and drug recovery service",
            "assessment, treatment and recovery support for alcohol and drug use.",
            ages=(18, None),
            method=R.SELF_REFERRAL,
        ),
        Template(
            "Alcohol advice clinic",
            "a drop-in clinic for advice on cutting down and alcohol checks.",
            hours=(2, 3, 4),
        ),
        Template(
            "Recovery peer support meeting",
            "peer-led mutual aid meetings for people in recovery.",
            also=("social_isolation",),
            hours=(4, 5),
            method=R.SELF_REFERRAL,
        ),
        Template(
            "Family support for substance use",
            "support for families affected by a relative's drinking or drug use.",
        ),
        Template(
            "Young people's substance use service",
            "confidential support for young people about alcohol and drugs.",
            ages=(11, 24),
            eligibility="Young people aged 11 to 24.",
        ),
    ),
    "mental_wellbeing": (
        Template(
            "Talking therapies",
            "talking therapies for low mood, stress and anxiety; refer yourself online or by "
            "phone.",
            ages=(16, None),
            method=R.SELF_REFERRAL,
        ),
        Template(
            "Mental health peer support group",
            "a weekly peer support group run by people with lived experience.",
            also=("social_isolation",),
        ),
        Template(
            "Crisis café",
            "an evening safe space for people in emotional distress.",
            hours=(4,),
            method=R.SELF_REFERRAL,
        ),
        Template(
            "Wellbeing and mindfulness course",
            "a six-week course in practical ways to look after your wellbeing.",
        ),
        Template(
            "Bereavement support",
            "one-to-one and group support after the death of someone close.",
        ),
    ),
    "physical_activity": (
        Template(
            "Walking for health group",
            "short, friendly led walks for people who want to be more active.",
            hours=(2, 5, 6),
            method=R.SELF_REFERRAL,
        ),
        Template(
            "Exercise on referral",
            "a 12-week supported gym and exercise programme on referral from a health "
            "professional.",
            cost=("Per session", 2.0, f"£2 a session; {FREE_UNDER_BENEFITS}"),
            ages=(16, None),
        ),
        Template(
            "Chair-based exercise",
            "gentle seated exercise for strength and balance.",
            ages=(60, None),
            eligibility="Older people and anyone with limited mobility.",
            also=("social_isolation",),
        ),
        Template(
            "Community multi-sport sessions",
            "free football, basketball and multi-sport sessions in local parks.",
            ages=(8, 19),
        ),
        Template(
            "Women-only swim and gym sessions",
            "women-only swimming and gym sessions with female staff.",
            cost=("Per session", 2.5, f"£2.50 a session; {FREE_UNDER_BENEFITS}"),
        ),
    ),
    "healthy_eating": (
        Template(
            "Weight management programme",
            "a 12-week programme on food, activity and habits for a healthier weight.",
            ages=(18, None),
            also=("physical_activity",),
            method=R.IN_APP,
        ),
        Template(
            "Cook and eat on a budget",
            "a practical cooking course: healthy meals for less.",
            also=("food",),
        ),
        Template(
            "Family healthy eating sessions",
            "fun sessions on healthy eating for families with young children.",
            also=("parenting_early_years",),
        ),
        Template(
            "Diabetes prevention sessions",
            "group sessions for people at risk of type 2 diabetes.",
            ages=(18, None),
            method=R.IN_APP,
        ),
        Template(
            "Community growing project",
            "grow, cook and share food on a community allotment.",
            also=("physical_activity", "social_isolation"),
            method=R.SELF_REFERRAL,
        ),
    ),
    "smoking": (
        Template(
            "Stop smoking service",
            "behavioural support and stop smoking medicines or vapes for 12 weeks.",
            ages=(12, None),
            method=R.SELF_REFERRAL,
        ),
        Template(
            "Stop smoking in pregnancy",
            "specialist stop smoking support for pregnant women and their partners.",
            also=("parenting_early_years",),
            method=R.IN_APP,
        ),
        Template(
            "Stop smoking drop-in clinic",
            "a weekly drop-in for carbon monoxide checks and support to quit.",
            hours=(2, 3, 4),
        ),
        Template(
            "Swap to stop vape support",
            "a free vape starter kit and support to switch from smoking.",
            ages=(18, None),
        ),
        Template(
            "Smokefree homes advice",
            "advice for families on keeping homes and cars smokefree.",
            also=("parenting_early_years",),
        ),
    ),
    "legal_immigration": (
        Template(
            "Immigration and asylum advice",
            "regulated immigration advice and help with applications and appeals.",
            method=R.EMAIL,
        ),
        Template(
            "Free legal advice clinic",
            "volunteer lawyers giving free initial advice on housing, family and consumer "
            "problems.",
            hours=(4,),
        ),
        Template(
            "Refugee and asylum seeker drop-in",
            "a welcoming drop-in with advice, English practice and practical help.",
            also=("education_skills",),
            method=R.SELF_REFERRAL,
        ),
        Template(
            "EU Settlement Scheme support",
            "help with EU Settlement Scheme applications and status problems.",
        ),
        Template(
            "Discrimination law advice",
            "advice for people treated unfairly at work or by services.",
            also=("employment",),
        ),
    ),
    "digital_access": (
        Template(
            "Digital skills drop-in",
            "help with getting online: email, forms, video calls and staying safe.",
            hours=(2, 3, 6),
            method=R.SELF_REFERRAL,
        ),
        Template(
            "Device and data lending scheme",
            "loan of a tablet or laptop with free mobile data.",
            method=R.IN_APP,
        ),
        Template(
            "Free computer and wi-fi access",
            "free computers, wi-fi and printing with staff on hand to help.",
            method=R.SELF_REFERRAL,
        ),
        Template(
            "Online health services help",
            "help to use the NHS App and to book appointments online.",
        ),
        Template(
            "Online safety and banking sessions",
            "sessions on shopping, banking and avoiding scams online.",
            ages=(50, None),
        ),
    ),
    "transport": (
        Template(
            "Community transport door-to-door",
            "accessible minibus trips for people who cannot use buses.",
            cost=("Per journey", 2.0, "£2 a journey (demonstration price)"),
            also=("disability_support",),
            method=R.PHONE,
        ),
        Template(
            "Patient transport advice",
            "advice on getting to hospital appointments and help with travel costs.",
            method=R.PHONE,
        ),
        Template(
            "Travel concessions advice",
            "help to apply for bus passes and other travel concessions.",
        ),
        Template(
            "Volunteer car scheme",
            "volunteer drivers for essential journeys to health and care appointments.",
            cost=("Per mile", 0.45, "45p a mile (demonstration price)"),
            method=R.PHONE,
        ),
        Template(
            "Cycle loan and cycle skills",
            "loan bikes and cycle training for adults.",
            also=("physical_activity",),
        ),
    ),
    "parenting_early_years": (
        Template(
            "Family hub stay and play",
            "stay and play sessions for babies and young children with their parents.",
            ages=(0, 5),
            eligibility="Families with children aged 0 to 5.",
            method=R.SELF_REFERRAL,
            hours=(2, 3, 6),
        ),
        Template(
            "Parenting course",
            "a ten-week parenting course for parents of children aged 2 to 12.",
            ages=(2, 12),
            eligibility="Parents and carers of children aged 2 to 12.",
        ),
        Template(
            "Baby feeding support group",
            "breastfeeding and infant feeding support from peer supporters.",
            ages=(0, 2),
            eligibility="Parents of babies up to age 2.",
        ),
        Template(
            "Perinatal peer support",
            "peer support for parents with low mood in pregnancy or after birth.",
            also=("mental_wellbeing",),
            method=R.IN_APP,
        ),
        Template(
            "Early years speech and language drop-in",
            "advice on talking and listening for parents of children under five.",
            ages=(0, 5),
            eligibility="Children aged 0 to 5 and their parents.",
        ),
    ),
    "disability_support": (
        Template(
            "Disability advice and advocacy",
            "independent advice and advocacy for disabled people.",
        ),
        Template(
            "Equipment and daily living aids",
            "loans of equipment and advice on aids for daily living.",
            method=R.IN_APP,
        ),
        Template(
            "Independent living skills",
            "support to build skills for living independently.",
            ages=(16, None),
        ),
        Template(
            "Learning disability day opportunities",
            "day activities and volunteering for adults with a learning disability.",
            ages=(18, None),
            eligibility="Adults with a learning disability.",
        ),
        Template(
            "Sight and hearing loss support",
            "rehabilitation, equipment and peer groups for people with sight or hearing loss.",
        ),
    ),
}

ORGANISATIONS: tuple[DemoOrganisation, ...] = (
    DemoOrganisation(
        "Aire Valley Advice Collective",
        "independent advice on money, benefits, housing, work and the law.",
        frozenset(
            {
                "housing",
                "debt",
                "income_benefits",
                "legal_immigration",
                "employment",
                "fuel_poverty",
            }
        ),
    ),
    DemoOrganisation(
        "Northside Housing Trust",
        "a housing association with tenancy and homelessness services.",
        frozenset({"housing", "homelessness", "fuel_poverty"}),
    ),
    DemoOrganisation(
        "Open Door Street Outreach",
        "outreach, day centre and recovery services for people who are homeless.",
        frozenset({"homelessness", "substance_use", "food"}),
    ),
    DemoOrganisation(
        "Warm Terraces Energy Project",
        "a community energy charity helping households stay warm for less.",
        frozenset({"fuel_poverty", "housing"}),
    ),
    DemoOrganisation(
        "Money Sense Community Interest Company",
        "debt advice and financial capability.",
        frozenset({"debt", "income_benefits"}),
    ),
    DemoOrganisation(
        "Bridgeway Employment Partnership",
        "employment support, skills and digital inclusion.",
        frozenset({"employment", "education_skills", "digital_access"}),
    ),
    DemoOrganisation(
        "Learning Together Adult College",
        "community adult learning.",
        frozenset({"education_skills", "digital_access", "parenting_early_years"}),
    ),
    DemoOrganisation(
        "Open Table Food Network",
        "food banks, pantries and community meals.",
        frozenset({"food", "social_isolation", "healthy_eating"}),
    ),
    DemoOrganisation(
        "Good Neighbours Befriending",
        "befriending, social groups and volunteer transport for older people.",
        frozenset({"social_isolation", "caring", "transport"}),
    ),
    DemoOrganisation(
        "Carers Together",
        "support for unpaid carers of all ages.",
        frozenset({"caring", "disability_support", "mental_wellbeing"}),
    ),
    DemoOrganisation(
        "Safe Haven Domestic Abuse Service",
        "specialist domestic abuse support and safe accommodation.",
        frozenset({"domestic_abuse"}),
    ),
    DemoOrganisation(
        "Fresh Start Recovery",
        "alcohol, drug and tobacco recovery services.",
        frozenset({"substance_use", "smoking", "mental_wellbeing"}),
    ),
    DemoOrganisation(
        "Mind the Gap Wellbeing",
        "a community mental wellbeing charity.",
        frozenset({"mental_wellbeing", "social_isolation"}),
    ),
    DemoOrganisation(
        "Active Neighbourhoods",
        "community sport and physical activity.",
        frozenset({"physical_activity", "healthy_eating"}),
    ),
    DemoOrganisation(
        "Healthy Living Service",
        "stop smoking, healthy eating and weight services.",
        frozenset({"smoking", "healthy_eating", "physical_activity"}),
    ),
    DemoOrganisation(
        "Sanctuary Legal Advice Centre",
        "free legal and immigration advice.",
        frozenset({"legal_immigration"}),
    ),
    DemoOrganisation(
        "Connected Communities Digital",
        "digital inclusion: devices, data and skills.",
        frozenset({"digital_access"}),
    ),
    DemoOrganisation(
        "Community Wheels Transport",
        "community and patient transport.",
        frozenset({"transport", "disability_support"}),
    ),
    DemoOrganisation(
        "Little Steps Family Hub",
        "a family hub for parents and young children.",
        frozenset({"parenting_early_years", "healthy_eating", "education_skills"}),
    ),
    DemoOrganisation(
        "Independent Living Alliance",
        "a disabled people's organisation.",
        frozenset({"disability_support", "caring"}),
    ),
    DemoOrganisation(
        "Young People's Hub",
        "support for young people with work, housing, wellbeing and caring.",
        frozenset(
            {
                "employment",
                "substance_use",
                "mental_wellbeing",
                "homelessness",
                "caring",
                "domestic_abuse",
            }
        ),
    ),
    DemoOrganisation(
        "Demo City Council Community Services",
        "the council's own community services.",
        frozenset(
            {
                "housing",
                "homelessness",
                "fuel_poverty",
                "income_benefits",
                "transport",
                "parenting_early_years",
                "disability_support",
                "smoking",
                "physical_activity",
            }
        ),
    ),
)

VENUES = (
    "Community Centre",
    "Library and Community Hub",
    "Neighbourhood Hub",
    "Church Hall",
    "Health Centre (community room)",
    "Advice Centre",
    "Family Hub",
    "Leisure Centre",
    "Community House",
)
ACCESSIBILITY = (
    "Step-free access and an accessible toilet.",
    "Hearing loop at reception; step-free access by the side entrance.",
    "Ground floor rooms only; accessible parking close by.",
    "Lift to all floors; quiet room available on request.",
)
LANGUAGES = (
    ("Urdu", "ur"),
    ("Polish", "pl"),
    ("Punjabi", "pa"),
    ("Arabic", "ar"),
    ("Romanian", "ro"),
    ("Kurdish", "ku"),
)
FIRST_NAMES = (
    "Sam", "Jo", "Alex", "Priya", "Hassan", "Aisha", "Tom", "Grace", "Kwame", "Megan",
    "Imran", "Olivia", "Tariq", "Zofia", "Daniel", "Nadia", "Ruth", "Ben", "Chloe", "Yusuf",
)  # fmt: skip
LAST_NAMES = (
    "Taylor", "Hussain", "Walker", "Khan", "Robinson", "Ali", "Wright", "Begum", "Green",
    "Nowak", "Hall", "Mensah", "Clarke", "Ahmed", "Wood", "Patel", "Turner", "Shaw",
)  # fmt: skip
ROLE_TITLES = ("Service coordinator", "Team leader", "Referrals coordinator", "Project worker")
ACCEPTING_NOTES = (
    "Accepting new referrals; we usually make contact within five working days.",
    "Accepting referrals; current wait about two weeks.",
    "Accepting referrals and self-referrals.",
)
NOT_ACCEPTING_NOTES = (
    "Not accepting new referrals at present: the waiting list is full. Drop-in still open.",
    "Referrals paused while the service is recommissioned; please choose another service.",
)


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def _hours_text(days: str, opens: str, closes: str) -> str:
    names = [DAY_NAMES[day] for day in days.split(",")]
    if len(names) == 7:
        when = "Every day"
    elif days == "MO,TU,WE,TH,FR":
        when = "Monday to Friday"
    else:
        when = ", ".join(f"{name}s" for name in names[:-1])
        when = f"{when} and {names[-1]}s" if when else f"{names[-1]}s"
    if (opens, closes) == ("00:00", "23:59"):
        return f"{when}, 24 hours"
    return f"{when}, {opens} to {closes}"


@dataclass
class _Rows:
    """Rows to upsert, by table, in an order that respects foreign keys."""

    by_model: dict[type[Base], list[dict[str, Any]]] = field(default_factory=dict)

    def add(self, model: type[Base], **values: Any) -> None:
        self.by_model.setdefault(model, []).append(values)


@dataclass(frozen=True, slots=True)
class DemoSummary:
    ltla_code: str
    ltla_name: str
    services: int
    organisations: int
    locations: int
    by_need: dict[str, int]
    by_decile: dict[int, int]
    created: int
    updated: int


def build_rows(today: date) -> tuple[_Rows, dict[str, str]]:
    """Every row of the demo directory, and each service's primary need by service id."""
    rng = random.Random(DEMO_SEED)
    authority = geography.ltla(DEMO_LTLA_CODE)
    lsoas = [geography.lsoa(code) for code in sorted(authority.lsoa21_codes)]
    # Services cluster where need is greatest: the most deprived LSOAs count double.
    weights = [2.0 if item.iod2025.imd.decile <= 3 else 1.0 for item in lsoas]
    rows = _Rows()
    organisations: list[DemoOrganisation] = []
    for org in ORGANISATIONS:
        slug = _slug(org.name)
        organisations.append(DemoOrganisation(org.name, org.description, org.needs, slug))
        rows.add(
            Organization,
            id=_key("organization", slug),
            name=org.name + DEMO_SUFFIX,
            alternate_name=None,
            description=f"{DEMO_PREFIX}a fictional organisation in {authority.name}: "
            f"{org.description}",
            email=f"info@{slug}.example",
            website=f"https://{slug}.example/",
            logo=None,
            uri=None,
            parent_organization_id=None,
        )
    primary: dict[str, str] = {}
    used: set[tuple[str, str]] = set()
    index = 0
    statuses = (
        [ServiceStatus.INACTIVE] * INACTIVE_COUNT
        + [ServiceStatus.TEMPORARILY_CLOSED] * TEMPORARILY_CLOSED_COUNT
        + [ServiceStatus.ACTIVE] * (len(NEEDS) * SERVICES_PER_NEED)
    )[: len(NEEDS) * SERVICES_PER_NEED]
    rng.shuffle(statuses)
    for item in NEEDS:
        templates = TEMPLATES[item.code]
        providers = [org for org in organisations if item.code in org.needs]
        for number in range(SERVICES_PER_NEED):
            template = templates[number % len(templates)]
            org = rng.choice(providers)
            place = rng.choices(lsoas, weights)[0]
            while (template.name, place.ward24_code) in used:  # one of a kind per ward
                place = rng.choices(lsoas, weights)[0]
            used.add((template.name, place.ward24_code))
            key = f"{item.code}:{number}"
            service_id = _key("service", key)
            primary[service_id] = item.code
            _add_service(
                rows,
                rng,
                today,
                index=index,
                key=key,
                service_id=service_id,
                need_code=item.code,
                template=template,
                org=org,
                place=place,
                authority=authority,
                status=statuses[index],
            )
            index += 1
    return rows, primary


def _add_service(
    rows: _Rows,
    rng: random.Random,
    today: date,
    *,
    index: int,
    key: str,
    service_id: str,
    need_code: str,
    template: Template,
    org: DemoOrganisation,
    place: geography.Lsoa,
    authority: geography.Area,
    status: ServiceStatus,
) -> None:
    ward = place.ward24_name
    name = f"{template.name}, {ward}{DEMO_SUFFIX}"
    service_slug = _slug(f"{template.name} {ward}")
    location_id = _key("location", key)
    venue = rng.choice(VENUES)
    rows.add(
        Location,
        id=location_id,
        location_type="physical",
        name=f"{ward} {venue}{DEMO_SUFFIX}",
        description=f"{DEMO_PREFIX}a fictional venue in {place.lsoa21_name} "
        f"({place.lsoa21_code}), {ward} ward.",
        latitude=place.interior_point.latitude,
        longitude=place.interior_point.longitude,
        external_identifier=None,
        external_identifier_type=None,
        lsoa21_code=place.lsoa21_code,
    )
    rows.add(
        Address,
        id=_key("address", key),
        location_id=location_id,
        attention=None,
        address_1=f"{ward} {venue}",
        address_2=f"Demonstration address in LSOA {place.lsoa21_name} ({place.lsoa21_code})",
        city=authority.name,
        region=None,
        state_province=DEMO_COUNTY,
        postal_code="",
        country="GB",
        address_type="physical",
    )
    rows.add(
        Accessibility,
        id=_key("accessibility", key),
        location_id=location_id,
        description=rng.choice(ACCESSIBILITY),
        details=None,
        url=None,
    )
    minimum_age, maximum_age = template.ages or (None, None)
    eligibility = template.eligibility
    if eligibility is None:
        eligibility = f"Anyone living in {authority.name}" + (
            f" aged {minimum_age:g} and over." if minimum_age is not None else "."
        )
    accepting = status is ServiceStatus.ACTIVE and rng.random() < 0.85
    if accepting:
        note = rng.choice(ACCEPTING_NOTES)
    elif status is ServiceStatus.ACTIVE:
        note = rng.choice(NOT_ACCEPTING_NOTES)
    else:
        note = f"Service {status.value}: not accepting referrals."
    method = (
        template.method
        or rng.choices((R.IN_APP, R.EMAIL, R.PHONE, R.SELF_REFERRAL), (4, 2, 2, 2))[0]
    )
    stale = rng.random() < STALE_SHARE
    reviewed_days_ago = rng.randint(181, 400) if stale else rng.randint(0, 180)
    org_id = _key("organization", org.slug)
    rows.add(
        Service,
        id=service_id,
        organization_id=org_id,
        name=name,
        alternate_name=None,
        description=f"{DEMO_PREFIX}{template.description[0].upper()}{template.description[1:]}"
        f" Run by {org.name} (fictional) in {ward}, {authority.name}.",
        url=f"https://{org.slug}.example/services/{service_slug}",
        email=f"{service_slug}@{org.slug}.example",
        status=status,
        fees=None,
        accreditations=None,
        eligibility_description=eligibility,
        minimum_age=minimum_age,
        maximum_age=maximum_age,
        assured_date=None,
        assurer_email=None,
        alert=(
            "Temporarily closed (demonstration record)."
            if status is ServiceStatus.TEMPORARILY_CLOSED
            else None
        ),
        last_reviewed=today - timedelta(days=reviewed_days_ago),
        reviewed_by_user_id=None,
        accepting_referrals=accepting,
        accepting_referrals_note=note,
        referral_method=method,
    )
    rows.add(
        ServiceAtLocation,
        id=_key("service_at_location", key),
        service_id=service_id,
        location_id=location_id,
        description=None,
    )
    first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
    contact_id = _key("contact", key)
    rows.add(
        Contact,
        id=contact_id,
        service_id=service_id,
        organization_id=None,
        name=f"{first} {last}{DEMO_SUFFIX}",
        title=rng.choice(ROLE_TITLES),
        department=None,
        email=f"{first.lower()}.{last.lower()}@{org.slug}.example",
    )
    rows.add(
        Phone,
        id=_key("phone", key),
        service_id=service_id,
        contact_id=None,
        location_id=None,
        number=f"{DRAMA_PHONE_PREFIX}{SERVICE_PHONE_BASE + index:04d}",
        extension=None,
        type="voice",
        description="Main line (fictional drama number)",
    )
    rows.add(
        Phone,
        id=_key("contact_phone", key),
        service_id=None,
        contact_id=contact_id,
        location_id=None,
        number=f"{DRAMA_PHONE_PREFIX}{CONTACT_PHONE_BASE + index:04d}",
        extension=None,
        type="voice",
        description="Direct line (fictional drama number)",
    )
    choices = template.hours or tuple(range(len(SCHEDULES) - 2))
    picked = sorted(set(rng.sample(choices, k=min(len(choices), rng.choice((1, 1, 2))))))
    for number, schedule_index in enumerate(picked):
        days, opens, closes, attending = SCHEDULES[schedule_index]
        rows.add(
            Schedule,
            id=_key("schedule", key, str(number)),
            service_id=service_id,
            service_at_location_id=None,
            valid_from=None,
            valid_to=None,
            dtstart=None,
            freq="WEEKLY",
            interval=1,
            byday=days,
            bymonthday=None,
            opens_at=opens,
            closes_at=closes,
            description=_hours_text(days, opens, closes),
            schedule_link=None,
            attending_type=attending,
            notes=None,
        )
    option, amount, amount_description = template.cost or ("Free", None, "Free of charge")
    rows.add(
        CostOption,
        id=_key("cost_option", key),
        service_id=service_id,
        valid_from=None,
        valid_to=None,
        option=option,
        amount=amount,
        amount_description=amount_description,
    )
    rows.add(
        Language,
        id=_key("language", key, "en"),
        service_id=service_id,
        phone_id=None,
        name="English",
        code="en",
    )
    if rng.random() < 0.3:
        language, code = rng.choice(LANGUAGES)
        rows.add(
            Language,
            id=_key("language", key, "other"),
            service_id=service_id,
            phone_id=None,
            name=language,
            code=code,
        )
    area = authority.name if rng.random() < 0.7 else f"{ward} ward, {authority.name}"
    rows.add(
        ServiceArea,
        id=_key("service_area", key),
        service_id=service_id,
        name=area,
        extent=None,
        extent_type=None,
        uri=None,
        service_area=area,
    )
    if rng.random() < 0.5:
        rows.add(
            Funding,
            id=_key("funding", key),
            service_id=service_id,
            source="Fictional demonstration funding",
        )
    for code in (need_code, *template.also):
        rows.add(
            Attribute,
            id=need_attribute_id(service_id, code),
            link_id=service_id,
            link_type=None,
            link_entity=SERVICE_ENTITY,
            taxonomy_term_id=need_term_id(code),
            value=None,
            label=NEEDS_BY_CODE[code].label,
        )


def _upsert(
    session: Session, model: type[Base], rows: Sequence[dict[str, Any]]
) -> tuple[list[str], int]:
    """Insert rows not there yet, update those that differ; (ids created, number updated)."""
    id_column = model.__table__.c.id
    existing: dict[str, Any] = {}
    ids = [row["id"] for row in rows]
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        records: Iterable[Any] = session.scalars(select(model).where(id_column.in_(chunk)))
        existing.update((record.id, record) for record in records)
    created: list[str] = []
    updated = 0
    for row in rows:
        record = existing.get(row["id"])
        if record is None:
            session.add(model(**row))
            created.append(row["id"])
            continue
        changed = False
        for name, value in row.items():
            if getattr(record, name) != value:
                setattr(record, name, value)
                changed = True
        if changed:
            updated += 1
            if hasattr(record, "last_modified"):
                record.last_modified = utc_now()
    return created, updated


def load_demo(session: Session, context: AuditContext) -> list[str]:
    """Create or refresh the demonstration directory; return the lines to print."""
    summary = load_demo_directory(session, context)
    by_need = ", ".join(f"{code} {count}" for code, count in summary.by_need.items())
    deciles = ", ".join(f"{decile}: {count}" for decile, count in summary.by_decile.items())
    return [
        f"Demo directory: {summary.services} services from {summary.organisations} "
        f"organisations in {summary.ltla_name} ({summary.ltla_code}) "
        f"({summary.created} rows created, {summary.updated} updated)",
        f"  by need: {by_need}",
        f"  {summary.locations} locations by IMD 2025 decile of their LSOA "
        f"(1 = most deprived): {deciles}",
    ]


def load_demo_directory(
    session: Session, context: AuditContext, *, today: date | None = None
) -> DemoSummary:
    """Upsert the demo directory (and the needs taxonomy it uses); return what it holds."""
    today = today or date.today()
    ensure_needs_taxonomy(session)
    rows, primary = build_rows(today)
    created_total, updated_total = 0, 0
    created_services: list[str] = []
    for model, model_rows in rows.by_model.items():
        created, updated = _upsert(session, model, model_rows)
        created_total += len(created)
        updated_total += updated
        if model is Service:
            created_services = created
        session.flush()
    names = {row["id"]: row["name"] for row in rows.by_model[Service]}
    for service_id in created_services:
        session.add(
            RecordChange(
                entity_type="service",
                entity_id=service_id,
                user_id=context.user_id,
                source="demo",
                change=json.dumps({"name": [None, names[service_id]]}),
            )
        )
    service_ids = list(primary)
    counts: Counter[str] = Counter()
    for start in range(0, len(service_ids), 500):
        chunk = service_ids[start : start + 500]
        query = (
            select(TaxonomyTerm.need_code, func.count(Attribute.link_id.distinct()))
            .join(Attribute, Attribute.taxonomy_term_id == TaxonomyTerm.id)
            .where(
                Attribute.link_id.in_(chunk),
                Attribute.link_entity == SERVICE_ENTITY,
                TaxonomyTerm.need_code.is_not(None),
            )
            .group_by(TaxonomyTerm.need_code)
        )
        for need_code, count in session.execute(query):
            counts[need_code or ""] += count
    by_need = {item.code: counts.get(item.code, 0) for item in NEEDS}
    deciles = Counter(
        geography.lsoa(row["lsoa21_code"]).iod2025.imd.decile for row in rows.by_model[Location]
    )
    authority = geography.ltla(DEMO_LTLA_CODE)
    summary = DemoSummary(
        ltla_code=authority.code,
        ltla_name=authority.name,
        services=len(rows.by_model[Service]),
        organisations=len(rows.by_model[Organization]),
        locations=len(rows.by_model[Location]),
        by_need=by_need,
        by_decile=dict(sorted(deciles.items())),
        created=created_total,
        updated=updated_total,
    )
    record_event(
        session,
        context,
        "directory.demo.load",
        subject_type="directory",
        subject_id=authority.code,
        detail={
            "services": summary.services,
            "rows_created": created_total,
            "rows_updated": updated_total,
        },
    )
    return summary


__all__ = ["DEMO_LTLA_CODE", "DemoSummary", "build_rows", "load_demo", "load_demo_directory"]
