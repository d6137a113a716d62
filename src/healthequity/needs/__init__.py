"""The vocabulary of social needs: one list, used by the service directory (to match
services to needs) and by the social history (to record a person's needs).

Pure data, no database: a need is identified by its stable `code`.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Need:
    code: str
    label: str
    description: str
    # Visible only to clinical roles that hold the record (PRODUCT.md, quality bars).
    sensitive: bool = False


NEEDS: tuple[Need, ...] = (
    Need(
        "housing",
        "Housing",
        "Unsafe, unsuitable, overcrowded or insecure housing; help to find or keep a home.",
    ),
    Need(
        "homelessness",
        "Homelessness",
        "Homeless or at risk of losing a home; rough sleeping; temporary accommodation.",
    ),
    Need(
        "fuel_poverty",
        "Cold or damp home and fuel poverty",
        "A home that is cold, damp or mouldy; unable to afford heating or energy.",
    ),
    Need(
        "income_benefits",
        "Income and benefits",
        "Low income; claiming every benefit one is entitled to, disability and carers' included.",
    ),
    Need("debt", "Debt", "Problem debt, arrears, bailiffs; budgeting and money advice."),
    Need(
        "employment",
        "Employment",
        "Out of work or at risk of losing work; job search, return to work, workplace rights.",
    ),
    Need(
        "education_skills",
        "Education and skills",
        "Literacy, numeracy, English for speakers of other languages, adult learning.",
    ),
    Need("food", "Food", "Not enough food; food banks, community meals, help with food costs."),
    Need(
        "social_isolation",
        "Social isolation and loneliness",
        "Lonely or cut off from others; befriending, community groups, social activities.",
    ),
    Need(
        "caring",
        "Caring responsibilities",
        "Looking after someone ill, disabled or older; carers' support and breaks.",
    ),
    Need(
        "domestic_abuse",
        "Domestic abuse",
        "Abuse or control by a partner or family member; safety planning and specialist advice.",
        sensitive=True,
    ),
    Need(
        "substance_use",
        "Substance use and alcohol",
        "Harmful use of alcohol or drugs; treatment, recovery and family support.",
    ),
    Need(
        "mental_wellbeing",
        "Mental wellbeing",
        "Low mood, stress or anxiety; talking therapies, peer support, wellbeing activities.",
    ),
    Need(
        "physical_activity",
        "Physical activity",
        "Getting more active; walking groups, exercise on referral, sport.",
    ),
    Need(
        "healthy_eating",
        "Healthy eating and weight",
        "Diet and weight; cooking skills, weight management.",
    ),
    Need("smoking", "Smoking", "Stopping smoking or vaping; stop smoking services."),
    Need(
        "legal_immigration",
        "Legal and immigration advice",
        "Legal problems; immigration status, asylum and the right to services.",
        sensitive=True,
    ),
    Need(
        "digital_access",
        "Digital access",
        "No device, data or skills to get online; digital inclusion support.",
    ),
    Need(
        "transport",
        "Transport",
        "Unable to travel to services, work or shops; community and patient transport.",
    ),
    Need(
        "parenting_early_years",
        "Parenting and early years",
        "Support for parents and young children; family hubs, children's centres.",
    ),
    Need(
        "disability_support",
        "Disability support",
        "Living with a disability; aids, adaptations, advocacy and independent living.",
    ),
)

NEEDS_BY_CODE: dict[str, Need] = {need.code: need for need in NEEDS}


class UnknownNeed(LookupError):
    """A need code that is not in the vocabulary."""


def need(code: str) -> Need:
    """The need with this code; UnknownNeed (listing the codes) if there is none."""
    try:
        return NEEDS_BY_CODE[code]
    except KeyError:
        raise UnknownNeed(
            f"unknown need {code!r}: expected one of {', '.join(NEEDS_BY_CODE)}"
        ) from None


__all__ = ["NEEDS", "NEEDS_BY_CODE", "Need", "UnknownNeed", "need"]
