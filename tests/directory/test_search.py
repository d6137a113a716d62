"""Directory search: ranking, distance, free text with spelling slips, age, opening times,
referrals, stale records and the place searched from. Seeds its own small directory."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import pytest

from healthequity import geography
from healthequity.config import InvalidSetting, load_settings
from healthequity.directory import origins, search
from healthequity.directory.models import (
    Address,
    Attribute,
    Location,
    Organization,
    Phone,
    ReferralMethod,
    Schedule,
    Service,
    ServiceAtLocation,
    ServiceStatus,
    Taxonomy,
    TaxonomyTerm,
)
from healthequity.places.models import Postcode
from healthequity.store import Database

# Leeds city centre, and points at known distances north of it.
ORIGIN = (53.8, -1.55)
TODAY = date(2026, 11, 23)  # a Monday
MONDAY_10AM = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)  # GMT: 10:00 in London
SATURDAY_11AM = datetime(2026, 11, 21, 11, 0, tzinfo=UTC)
SUMMER_MONDAY_0830_UTC = datetime(2026, 7, 6, 8, 30, tzinfo=UTC)  # 09:30 in London (BST)
WINTER_MONDAY_0830_UTC = datetime(2026, 11, 23, 8, 30, tzinfo=UTC)  # 08:30 in London
TEST_POSTCODE = "LS1 4AP"


def north(miles: float) -> tuple[float, float]:
    """A point `miles` due north of the origin."""
    return (ORIGIN[0] + miles / (search.EARTH_RADIUS_MILES * math.pi / 180), ORIGIN[1])


@dataclass(frozen=True)
class Seed:
    name: str
    needs: tuple[str, ...]
    miles: float
    reviewed_days_ago: int | None
    status: ServiceStatus = ServiceStatus.ACTIVE
    accepting: bool = True
    min_age: float | None = None
    max_age: float | None = None
    byday: str | None = "MO,TU,WE,TH,FR"
    opens: str = "09:00"
    closes: str = "17:00"
    description: str = "Demonstration record for tests."


SEEDS = (
    Seed("Debt advice centre", ("debt", "income_benefits"), 1.0, 10, min_age=18),
    Seed("Money help", ("debt",), 0.5, 5),
    Seed("Money help drop-in", ("debt",), 0.5, 100, description="Walk in for help with money."),
    Seed("Benefits clinic", ("income_benefits",), 2.0, 400, accepting=False),
    Seed("Far away debt service", ("debt",), 20.0, 3),
    Seed("Closed debt service", ("debt",), 0.2, 1, status=ServiceStatus.INACTIVE),
    Seed(
        "Youth food bank",
        ("food",),
        1.5,
        None,
        min_age=11,
        max_age=18,
        byday="SA",
        opens="10:00",
        closes="12:00",
    ),
)


def service_id(name: str) -> str:
    return "svc-" + name.lower().replace(" ", "-")


def seed_directory(database: Database) -> None:
    """The services above, one location each, tagged with need terms of a test taxonomy."""
    with database.session() as session:
        session.add(Taxonomy(id="tax-test-needs", name="Test needs"))
        codes = sorted({code for seed in SEEDS for code in seed.needs})
        for code in codes:
            session.add(
                TaxonomyTerm(
                    id=f"term-{code}",
                    name=code.replace("_", " "),
                    need_code=code,
                    taxonomy_id="tax-test-needs",
                )
            )
        session.add(Organization(id="org-1", name="Test Advice Network", email="org@example.org"))
        session.add(
            Postcode(
                postcode=TEST_POSTCODE, lsoa21_code=None, latitude=ORIGIN[0], longitude=ORIGIN[1]
            )
        )
        session.flush()
        for seed in SEEDS:
            sid = service_id(seed.name)
            lat, lon = north(seed.miles)
            session.add(
                Service(
                    id=sid,
                    organization_id="org-1",
                    name=seed.name,
                    description=seed.description,
                    status=seed.status,
                    accepting_referrals=seed.accepting,
                    accepting_referrals_note=None if seed.accepting else "Waiting list full",
                    referral_method=ReferralMethod.PHONE,
                    minimum_age=seed.min_age,
                    maximum_age=seed.max_age,
                    eligibility_description="Lives in the test area.",
                    fees="Free",
                    last_reviewed=(
                        TODAY - timedelta(days=seed.reviewed_days_ago)
                        if seed.reviewed_days_ago is not None
                        else None
                    ),
                )
            )
            session.add(
                Location(id=f"loc-{sid}", name=f"{seed.name} office", latitude=lat, longitude=lon)
            )
            session.add(
                Address(
                    id=f"adr-{sid}",
                    location_id=f"loc-{sid}",
                    address_1="1 Test Street",
                    city="Leeds",
                    postal_code="LS1 1AA",
                )
            )
            session.flush()
            session.add(
                ServiceAtLocation(id=f"sal-{sid}", service_id=sid, location_id=f"loc-{sid}")
            )
            session.add(Phone(id=f"ph-{sid}", service_id=sid, number="0113 496 0000"))
            if seed.byday:
                session.add(
                    Schedule(
                        id=f"sch-{sid}",
                        service_id=sid,
                        freq="WEEKLY",
                        byday=seed.byday,
                        opens_at=seed.opens,
                        closes_at=seed.closes,
                    )
                )
            for code in seed.needs:
                session.add(
                    Attribute(id=f"att-{sid}-{code}", link_id=sid, taxonomy_term_id=f"term-{code}")
                )


@pytest.fixture
def directory(database: Database) -> Database:
    seed_directory(database)
    return database


def names(results: list[search.SearchResult]) -> list[str]:
    return [result.name for result in results]


def run(database: Database, **kwargs: object) -> list[search.SearchResult]:
    kwargs.setdefault("now", MONDAY_10AM)
    with database.session() as session:
        return search.search_services(session, **kwargs)  # type: ignore[arg-type]


def test_ranked_by_needs_matched_then_distance_then_review(directory: Database) -> None:
    results = run(directory, needs=["debt", "income_benefits"], near=ORIGIN)
    assert names(results) == [
        "Debt advice centre",  # both needs
        "Money help",  # one need, 0.5 miles, checked 5 days ago
        "Money help drop-in",  # one need, 0.5 miles, checked 100 days ago
        "Benefits clinic",
        "Far away debt service",
    ]
    assert [need.code for need in results[0].matched_needs] == ["debt", "income_benefits"]
    assert [need.code for need in results[1].matched_needs] == ["debt"]


def test_distance_in_miles_and_within(directory: Database) -> None:
    results = run(directory, needs=["debt"], near=ORIGIN, within_miles=3)
    assert "Far away debt service" not in names(results)
    by_name = {result.name: result for result in results}
    assert by_name["Debt advice centre"].distance_miles == pytest.approx(1.0, abs=0.01)
    assert by_name["Money help"].distance_miles == pytest.approx(0.5, abs=0.01)
    assert by_name["Debt advice centre"].nearest_location == "Debt advice centre office"
    wide = run(directory, needs=["debt"], near=ORIGIN, within_miles=25)
    assert by_name.keys() < {r.name for r in wide}
    far = next(r for r in wide if r.name == "Far away debt service")
    assert far.distance_miles == pytest.approx(20.0, abs=0.05)


def test_haversine_known_distance() -> None:
    # London (Charing Cross) to Leeds (city station): about 169 miles as the crow flies.
    assert search.haversine_miles(51.5073, -0.1276, 53.7950, -1.5480) == pytest.approx(170, abs=3)


def test_bounding_box_contains_the_circle() -> None:
    min_lat, max_lat, min_lon, max_lon = search.bounding_box(*ORIGIN, 5)
    for bearing in range(0, 360, 15):
        # Points 4.99 miles away in every direction fall inside the box.
        lat = ORIGIN[0] + 4.99 / 69.055 * math.cos(math.radians(bearing))
        lon = ORIGIN[1] + 4.99 / (69.055 * math.cos(math.radians(lat))) * math.sin(
            math.radians(bearing)
        )
        assert min_lat <= lat <= max_lat
        assert min_lon <= lon <= max_lon


def test_free_text_tolerates_spelling_slips(directory: Database) -> None:
    assert names(run(directory, text="det advise"))[:1] == ["Debt advice centre"]
    assert "Debt advice centre" in names(run(directory, text="debt advce"))
    assert "Benefits clinic" in names(run(directory, text="benefts"))
    assert "Youth food bank" not in names(run(directory, text="det advise"))
    assert names(run(directory, text="xylophone lessons")) == []
    # Need labels count as text too: "food" finds the food bank by its need.
    assert "Youth food bank" in names(run(directory, text="food"))


def test_token_similarity() -> None:
    assert search.token_similarity("advice", "advice") == 1.0
    assert search.token_similarity("advi", "advice") == 1.0
    assert 0 < search.token_similarity("advise", "advice") < 1
    assert 0 < search.token_similarity("det", "debt") < 1
    assert search.token_similarity("food", "debt") == 0.0


def test_age_eligibility(directory: Database) -> None:
    teenager = names(run(directory, age=15))
    assert "Youth food bank" in teenager
    assert "Debt advice centre" not in teenager  # 18 and over
    assert "Money help" in teenager  # no age limits
    adult = names(run(directory, age=40))
    assert "Youth food bank" not in adult
    assert "Debt advice centre" in adult


def test_open_now_at_a_fixed_time(directory: Database) -> None:
    monday = names(run(directory, open_now=True, now=MONDAY_10AM))
    assert "Debt advice centre" in monday
    assert "Youth food bank" not in monday
    saturday = names(run(directory, open_now=True, now=SATURDAY_11AM))
    assert saturday == ["Youth food bank"]
    # London time, not UTC: 08:30 UTC is 09:30 in summer (open) and 08:30 in winter (closed).
    assert "Money help" in names(run(directory, open_now=True, now=SUMMER_MONDAY_0830_UTC))
    assert names(run(directory, open_now=True, now=WINTER_MONDAY_0830_UTC)) == []
    result = next(r for r in run(directory, now=MONDAY_10AM) if r.name == "Money help")
    assert result.open_now is True
    assert result.opening_times == "Mon\N{EN DASH}Fri 09:00\N{EN DASH}17:00"


def test_opening_times_text() -> None:
    def schedule(byday: str, opens: str, closes: str) -> Schedule:
        return Schedule(id=byday, freq="WEEKLY", byday=byday, opens_at=opens, closes_at=closes)

    dash = "\N{EN DASH}"
    text = search.opening_times_text(
        [
            schedule("MO,TU,WE,TH,FR", "09:00", "17:00"),
            schedule("SA", "10:00", "13:00"),
            schedule("SU", "10:00", "13:00"),
        ]
    )
    assert text == f"Mon{dash}Fri 09:00{dash}17:00; Sat, Sun 10:00{dash}13:00"
    assert search.opening_times_text([schedule("MO,WE", "09:00", "12:00")]) == (
        f"Mon, Wed 09:00{dash}12:00"
    )
    assert search.opening_times_text([]) is None


def test_accepting_referrals_filter(directory: Database) -> None:
    everything = run(directory, needs=["income_benefits"])
    clinic = next(r for r in everything if r.name == "Benefits clinic")
    assert not clinic.accepting_referrals
    assert clinic.how_to_refer == "Not accepting referrals now (Waiting list full)"
    accepting = names(run(directory, needs=["income_benefits"], accepting_referrals=True))
    assert accepting == ["Debt advice centre"]
    centre = next(r for r in everything if r.name == "Debt advice centre")
    assert centre.how_to_refer == "Refer by phone: 0113 496 0000"


def test_stale_marking_and_checked_days(directory: Database) -> None:
    now = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
    by_name = {r.name: r for r in run(directory, now=now, include_inactive=True)}
    assert by_name["Benefits clinic"].stale  # 400 days
    assert by_name["Benefits clinic"].checked == "checked 400 days ago"
    assert not by_name["Debt advice centre"].stale
    assert by_name["Debt advice centre"].checked == "checked 10 days ago"
    assert by_name["Youth food bank"].stale  # never checked
    assert by_name["Youth food bank"].checked == "never checked"
    strict = {r.name: r for r in run(directory, now=now, stale_after_days=7)}
    assert strict["Debt advice centre"].stale
    assert not strict["Money help"].stale


def test_stale_days_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("HEALTHEQUITY_DIRECTORY_STALE_DAYS", raising=False)
    assert load_settings().directory_stale_days == 180
    monkeypatch.setenv("HEALTHEQUITY_DIRECTORY_STALE_DAYS", "90")
    assert load_settings().directory_stale_days == 90
    monkeypatch.setenv("HEALTHEQUITY_DIRECTORY_STALE_DAYS", "soon")
    with pytest.raises(InvalidSetting, match="whole number"):
        load_settings()


def test_inactive_hidden_unless_asked(directory: Database) -> None:
    assert "Closed debt service" not in names(run(directory, needs=["debt"]))
    assert "Closed debt service" in names(run(directory, needs=["debt"], include_inactive=True))


def test_resolve_origin(directory: Database) -> None:
    with directory.session() as session:
        origin = search.resolve_origin(session, postcode="ls14ap")
        assert origin is not None
        assert (origin.latitude, origin.longitude) == ORIGIN
        point = search.resolve_origin(session, latitude=53.0, longitude=-1.0)
        assert point is not None
        assert point.latitude == 53.0
        lsoa = search.resolve_origin(session, lsoa="e01000001")
        assert lsoa is not None
        assert "E01000001" in lsoa.label
        assert search.resolve_origin(session) is None


def test_unknown_postcode_suggests_nearby_postcode_or_area(directory: Database) -> None:
    with directory.session() as session:
        with pytest.raises(search.OriginError) as unknown:
            search.resolve_origin(session, postcode="ZZ9 9ZZ")
        message = str(unknown.value)
        assert "could not find the postcode ZZ9 9ZZ" in message
        assert "nearby postcode" in message
        assert "area" in message
        with pytest.raises(search.OriginError, match="not a postcode"):
            search.resolve_origin(session, postcode="hello")
        with pytest.raises(search.OriginError, match="not an LSOA code"):
            search.resolve_origin(session, lsoa="E0100")


def test_within_needs_a_place(directory: Database) -> None:
    with directory.session() as session, pytest.raises(search.OriginError):
        search.search_services(session, within_miles=3)


def test_unknown_need_is_an_error(directory: Database) -> None:
    with directory.session() as session, pytest.raises(ValueError, match="unknown need"):
        search.search_services(session, needs=["unicorns"])


# --- Where from: what people type in the "where" box ------------------------------------

# Real Leeds places in the shipped geography (2024 wards).
ARMLEY = "E05011385"  # Armley ward, Leeds
GIPTON_AND_HAREHILLS = "E05011394"
LEEDS = "E08000035"  # the local authority
LEEDS_AND_LANGLEY = "E05015604"  # a ward in Maidstone
HAREWOOD_LEEDS, HAREWOOD_TEST_VALLEY = "E05011396", "E05012097"


def place(database: Database, text: str) -> origins.Place:
    with database.session() as session:
        found = origins.resolve_place(session, text)
    assert found is not None
    return found


def interior_points(code: str) -> set[tuple[float, float]]:
    area = geography.ward(code) if code.startswith("E05") else geography.ltla(code)
    return {
        (point.latitude, point.longitude)
        for point in (geography.lsoa(lsoa).interior_point for lsoa in area.lsoa21_codes)
    }


def test_place_names_of_leeds(directory: Database) -> None:
    harehills = place(directory, "Harehills")
    assert harehills.origin.label == "the centre of Gipton & Harehills ward, Leeds"
    # Measured from one of the ward's own LSOAs, not from somewhere between them.
    origin = harehills.origin
    assert (origin.latitude, origin.longitude) in interior_points(GIPTON_AND_HAREHILLS)
    assert harehills.others == ()
    armley = place(directory, "  armley ")
    assert armley.origin.label == "the centre of Armley ward, Leeds"
    assert (armley.origin.latitude, armley.origin.longitude) in interior_points(ARMLEY)
    # "and" for "&", and codes, find the same places.
    assert place(directory, "Gipton and Harehills").origin == harehills.origin
    assert place(directory, ARMLEY.lower()).origin == armley.origin
    assert place(directory, "Chapel Allerton").origin.label == (
        "the centre of Chapel Allerton ward, Leeds"
    )


def test_an_exact_name_is_taken_and_the_others_offered(directory: Database) -> None:
    leeds = place(directory, "Leeds")
    assert leeds.origin.label == "the centre of Leeds"
    assert (leeds.origin.latitude, leeds.origin.longitude) in interior_points(LEEDS)
    assert place(directory, LEEDS).origin == leeds.origin
    assert leeds.others == (
        origins.PlaceChoice("Leeds & Langley ward, Maidstone", LEEDS_AND_LANGLEY),
    )


def test_a_name_of_several_places_is_not_guessed(directory: Database) -> None:
    with directory.session() as session:
        with pytest.raises(origins.PlaceNotClear) as harewood:
            origins.resolve_place(session, "Harewood")
        assert str(harewood.value) == "'Harewood' could mean 2 places. Choose the one you mean."
        assert harewood.value.choices == (
            origins.PlaceChoice("Harewood ward, Leeds", HAREWOOD_LEEDS),
            origins.PlaceChoice("Harewood ward, Test Valley", HAREWOOD_TEST_VALLEY),
        )
        # Each choice's code means just that place.
        assert origins.resolve_place(session, HAREWOOD_LEEDS) is not None
        with pytest.raises(origins.PlaceNotClear) as beeston:
            origins.resolve_place(session, "Beeston")
        labels = [choice.label for choice in beeston.value.choices]
        assert "Beeston & Holbeck ward, Leeds" in labels
        assert beeston.value.matches == len(labels) == 6
        # Many matches: the first few are offered, local authorities first.
        with pytest.raises(origins.PlaceNotClear) as sutton:
            origins.resolve_place(session, "Sutton")
        assert sutton.value.choices[0] == origins.PlaceChoice(
            "Sutton (local authority)", "E09000029"
        )
        with pytest.raises(origins.PlaceNotClear) as letter:
            origins.resolve_place(session, "a")
        assert len(letter.value.choices) == origins.MAX_CHOICES < letter.value.matches


def test_a_place_that_cannot_be_found(directory: Database) -> None:
    with directory.session() as session:
        with pytest.raises(search.OriginError) as nowhere:
            origins.resolve_place(session, "Xyzzyville")
        assert not isinstance(nowhere.value, origins.PlaceNotClear)
        assert str(nowhere.value) == (
            "We could not find a place called 'Xyzzyville'. Enter a postcode, or the name of "
            "a ward or local authority, or choose the area (LSOA code) instead."
        )
        # Chapeltown is a Leeds neighbourhood, not a ward: the shipped geography does not
        # know it, and a name that is merely similar is offered, not taken.
        with pytest.raises(origins.PlaceNotClear) as chapeltown:
            origins.resolve_place(session, "Chapeltown")
        assert str(chapeltown.value).startswith(
            "We could not find a place called 'Chapeltown'. Choose one of the places"
        )
        with pytest.raises(origins.PlaceNotClear) as slip:
            origins.resolve_place(session, "Armly")
        assert slip.value.choices[0] == origins.PlaceChoice("Armley ward, Leeds", ARMLEY)
        with pytest.raises(search.OriginError, match="'LS1 4A' is not a postcode"):
            origins.resolve_place(session, "LS1 4A")
        assert origins.resolve_place(session, "   ") is None


def test_postcodes_and_lsoa_codes_in_the_where_box(directory: Database) -> None:
    postcode = place(directory, "ls14ap")
    assert (postcode.origin.latitude, postcode.origin.longitude) == ORIGIN
    assert postcode.origin.label == TEST_POSTCODE
    lsoa = place(directory, "e01011363")
    assert lsoa.origin.label == "Leeds 071E (E01011363)"
    with directory.session() as session, pytest.raises(search.OriginError, match="ZZ9 9ZZ"):
        origins.resolve_place(session, "ZZ9 9ZZ")


def test_postcode_district(directory: Database) -> None:
    with directory.session() as session:
        for code, latitude in (("LS9 0AA", 53.79), ("LS9 7AB", 53.80), ("LS9 9ZZ", 53.83)):
            session.add(
                Postcode(postcode=code, lsoa21_code=None, latitude=latitude, longitude=-1.5)
            )
        # Another district that sorts among LS9's if spaces are ignored, far away.
        session.add(Postcode(postcode="LS98 1AA", lsoa21_code=None, latitude=60.0, longitude=-1.5))
        session.add(Postcode(postcode="LS9 6ZZ", lsoa21_code=None, latitude=None, longitude=None))
    district = place(directory, "ls9")
    # The mean of 53.79, 53.80 and 53.83 is 53.8067: LS9 7AB is the postcode nearest it.
    assert district.origin == search.Origin(53.80, -1.5, "the centre of postcode district LS9")
    with directory.session() as session, pytest.raises(search.OriginError) as unknown:
        origins.resolve_place(session, "LS7")
    assert str(unknown.value).startswith("We could not find the postcode district LS7.")


def test_central_point_is_weighted_and_one_of_the_points() -> None:
    heavy, light, middle = (53.0, -1.0, 8.0), (53.0, -2.0, 1.0), (53.0, -1.6, 1.0)
    # Weighted mean longitude -1.16: nearest the heavy point (unweighted, -1.53: the middle).
    assert origins.central_point([heavy, light, middle]) == (53.0, -1.0)
    assert origins.central_point([(53.0, -1.0, 1.0), light, middle]) == (53.0, -1.6)
