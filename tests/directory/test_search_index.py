"""The search index stays true to the database: every write to a searched table renews the
revision token (by trigger, whatever wrote it), a search after a change sees the change, a
rolled-back write leaves no trace, and each database has its own index."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import delete, select, text, update
from sqlalchemy.orm import Session

from healthequity.directory import search, search_index
from healthequity.directory.models import (
    Attribute,
    DirectoryRevision,
    Location,
    Phone,
    Schedule,
    Service,
    TaxonomyTerm,
)
from healthequity.store import Database

from .test_search import MONDAY_10AM, ORIGIN, names, run, seed_directory


@pytest.fixture
def directory(database: Database) -> Database:
    seed_directory(database)
    return database


def token(database: Database) -> str:
    with database.session() as session:
        value = session.scalar(select(DirectoryRevision.token))
    assert value
    return value


@pytest.mark.parametrize(
    "change",
    [
        update(Service).where(Service.id == "svc-money-help").values(name="Money matters"),
        update(Location).values(latitude=Location.latitude + 0.001),
        update(TaxonomyTerm).where(TaxonomyTerm.id == "term-food").values(need_code="housing"),
        delete(Attribute).where(Attribute.id == "att-svc-money-help-debt"),
        delete(Phone).where(Phone.service_id == "svc-money-help"),
        update(Schedule).values(opens_at="08:00"),
        text("UPDATE directory_organization SET name = 'Renamed network'"),
    ],
    ids=["service", "location", "term", "attribute", "phone", "schedule", "organisation"],
)
def test_every_write_to_a_searched_table_renews_the_token(
    directory: Database, change: object
) -> None:
    before = token(directory)
    with directory.session() as session:
        session.execute(change)
    assert token(directory) != before


def test_writes_elsewhere_leave_the_token_alone(directory: Database) -> None:
    before = token(directory)
    with directory.session() as session:
        session.execute(text("UPDATE directory_address SET city = 'Leeds'"))
    assert token(directory) == before


def test_a_search_after_a_change_sees_it(directory: Database) -> None:
    assert "Money help" in names(run(directory, needs=["debt"]))
    with directory.session() as session:
        service = session.get(Service, "svc-money-help")
        assert service is not None
        service.name = "Money matters"
    found = names(run(directory, needs=["debt"]))
    assert "Money matters" in found
    assert "Money help" not in found
    # A term mapped to another need moves every service that uses it.
    with directory.session() as session:
        session.execute(
            update(TaxonomyTerm).where(TaxonomyTerm.id == "term-food").values(need_code="debt")
        )
    assert "Youth food bank" in names(run(directory, needs=["debt"], now=MONDAY_10AM))


def test_a_rolled_back_write_leaves_no_trace(directory: Database) -> None:
    with Session(directory.engine) as session:
        session.execute(update(Service).values(name="Uncommitted name"))
        during = search.search_services(session, needs=["debt"], now=MONDAY_10AM)
        assert {result.name for result in during} == {"Uncommitted name"}
        session.rollback()
        after = search.search_services(session, needs=["debt"], now=MONDAY_10AM)
    assert "Uncommitted name" not in names(after)
    assert "Money help" in names(run(directory, needs=["debt"]))


def test_an_unchanged_directory_keeps_its_index(directory: Database) -> None:
    with directory.session() as session:
        first = search_index.current_index(session)
    with directory.session() as session:
        assert search_index.current_index(session) is first
    with directory.session() as session:
        session.execute(update(Service).values(accepting_referrals=True))
    with directory.session() as session:
        assert search_index.current_index(session) is not first


def test_each_database_has_its_own_index(
    directory: Database, tmp_path_factory: pytest.TempPathFactory, sqlite_template: Path
) -> None:
    path = tmp_path_factory.mktemp("other") / "other.db"
    shutil.copyfile(sqlite_template, path)
    other = Database(f"sqlite:///{path}")
    try:
        assert run(other, needs=["debt"]) == []
        assert "Money help" in names(run(directory, needs=["debt"]))
    finally:
        other.dispose()


def test_distance_and_nearest_location_from_the_index(directory: Database) -> None:
    results = run(directory, needs=["debt"], near=ORIGIN, within_miles=1.2)
    assert [(r.name, r.distance_miles) for r in results] == [
        ("Money help", 0.5),
        ("Money help drop-in", 0.5),
        ("Debt advice centre", 1.0),
    ]
    assert results[0].nearest_location == "Money help office"


def test_vectorised_haversine_matches_known_distances() -> None:
    # London (Trafalgar Square) to Leeds (City Square): about 170 miles.
    miles = search_index.haversine_miles(
        51.5073, -0.1276, np.array([53.7950, 51.5073]), np.array([-1.5480, -0.1276])
    )
    assert miles[0] == pytest.approx(170, abs=3)
    assert miles[1] == 0


def test_similar_words_reach_slips_and_beginnings(directory: Database) -> None:
    with directory.session() as session:
        index = search_index.current_index(session)
    similar = dict(index.similar_words("advise"))
    assert similar.get("advice") == pytest.approx(0.8)
    assert dict(index.similar_words("mon")).get("money") == 1.0
    assert index.similar_words("zzzzzz") == []
