"""Importing ORUK services: from JSON files, from a feed's API (served here by the app
itself), and from the CSV template; all or nothing, or skipping the invalid; the CLI."""

from __future__ import annotations

import csv
import json
import shutil
import socket
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from click.testing import CliRunner, Result
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from healthequity.cli.main import cli
from healthequity.config import Settings
from healthequity.directory import importer, oruk
from healthequity.directory.exceptions import FeedUnavailable, ImportRejected
from healthequity.directory.models import (
    Attribute,
    Location,
    RecordChange,
    Service,
    ServiceAtLocation,
    TaxonomyTerm,
)
from healthequity.directory.taxonomy import NEEDS_TAXONOMY_ID, need_term_id
from healthequity.store import Database
from healthequity.web.app import create_app

from .test_oruk import full_record, make_record

DATA = Path(__file__).resolve().parents[1] / "data" / "oruk"
ASSETS_DIR = Path(__file__).resolve().parents[2] / "assets" / "node_modules"


def count(database: Database, model: type) -> int:
    with database.session() as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


def hundred_with_one_invalid() -> list[dict[str, Any]]:
    records = [make_record(n) for n in range(100)]
    records[56]["service_at_locations"][0]["location"]["location_type"] = "floating"
    return records


def labelled(records: list[dict[str, Any]]) -> list[importer.LabelledRecord]:
    return [importer.LabelledRecord(oruk.record_label(r, i), r) for i, r in enumerate(records)]


def test_one_invalid_among_a_hundred_imports_nothing(database: Database) -> None:
    records = hundred_with_one_invalid()
    bad_id = records[56]["id"]
    with pytest.raises(ImportRejected) as caught, database.session() as session:
        importer.import_records(session, labelled(records))
    message = str(caught.value)
    assert f"{bad_id} at /service_at_locations/0/location/location_type" in message
    assert "1 of 100 records invalid" in message
    assert count(database, Service) == 0


def test_skip_invalid_imports_the_rest_and_reports_one(database: Database) -> None:
    records = hundred_with_one_invalid()
    with database.session() as session:
        report = importer.import_records(session, labelled(records), skip_invalid=True)
    assert len(report.imported) == 99
    assert report.rejected == [records[56]["id"]]
    assert report.problems[0].where == "/service_at_locations/0/location/location_type"
    assert report.as_json()["rejected"] == 1
    assert count(database, Service) == 99


def test_a_record_that_cannot_be_stored_is_named(database: Database) -> None:
    records = [make_record(1), make_record(2)]
    records[1]["service_at_locations"][0]["location"]["addresses"][0]["postal_code"] = "X" * 40
    with (
        pytest.raises(ImportRejected, match="postal_code: longer than 10"),
        database.session() as session,
    ):
        importer.import_records(session, labelled(records))
    assert count(database, Service) == 0
    with database.session() as session:
        report = importer.import_records(session, labelled(records), skip_invalid=True)
    assert report.imported == [records[0]["id"]]
    assert count(database, Service) == 1


def test_json_file_one_record_list_or_page(tmp_path: Path, database: Database) -> None:
    one = tmp_path / "one.json"
    one.write_text(json.dumps(full_record()), encoding="utf-8")
    many = tmp_path / "many.json"
    many.write_text(json.dumps([make_record(n) for n in range(3)]), encoding="utf-8")
    page = tmp_path / "page.json"
    page.write_text(json.dumps({"contents": [make_record(9)]}), encoding="utf-8")
    with database.session() as session:
        for path, expected in ((one, 1), (many, 3), (page, 1), (many, 3)):
            assert len(importer.import_source(session, str(path)).imported) == expected
    assert count(database, Service) == 5  # many.json twice: updated, not duplicated


# --- Feeds: the app itself serves one, over HTTP on 127.0.0.1 ---------------------------


class _Server:
    def __init__(self, database_url: str) -> None:
        settings = Settings(
            database_url=database_url,
            secret_key="test-secret",
            assets_dir=ASSETS_DIR,
            environment="test",
            log_level="WARNING",
        )
        self.database = Database(database_url)
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        config = uvicorn.Config(
            create_app(settings, self.database),
            host="127.0.0.1",
            port=self.port,
            log_level="warning",
            lifespan="on",
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/oruk/"

    def start(self) -> None:
        self.thread.start()
        deadline = time.monotonic() + 15
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("the test feed server did not start")
            time.sleep(0.02)

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(10)
        self.database.dispose()


@pytest.fixture
def feed(sqlite_template: Path, tmp_path: Path) -> Iterator[_Server]:
    """An ORUK feed: the app on a SQLite database of its own (the source of the import)."""
    path = tmp_path / "feed.db"
    shutil.copyfile(sqlite_template, path)
    server = _Server(f"sqlite:///{path}")
    server.start()
    yield server
    server.stop()


def everything(client: Any, base: str = "/oruk/") -> dict[str, Any]:
    """Everything the ORUK API publishes, page by page, fully nested."""

    def pages(path: str) -> list[Any]:
        items: list[Any] = []
        page = 1
        while True:
            body = client.get(f"{base}{path}", params={"page": page, "per_page": 7}).json()
            items.extend(body["contents"])
            if body["last_page"]:
                return items
            page += 1

    services = pages("services")
    return {
        "services": services,
        "full": [client.get(f"{base}services/{s['id']}").json() for s in services],
        "service_at_locations": pages("service_at_locations"),
        "taxonomies": pages("taxonomies"),
        "taxonomy_terms": pages("taxonomy_terms"),
    }


def test_round_trip_through_the_api(
    feed: _Server, database: Database, client: TestClient, tmp_path: Path
) -> None:
    """Export everything through the API, import it into an empty database, export again.

    (Every demo record's API responses are validated in test_oruk; here a varied directory
    of the full fixture, records made in code and the CSV template's, with needs terms.)
    """
    sheet = write_csv(
        tmp_path / "sheet.csv",
        [csv_row(), csv_row(service_name="Welfare rights", needs="income_benefits;debt")],
    )
    with feed.database.session() as session:
        oruk.service_from_oruk(session, full_record())
        for number in range(40):
            oruk.service_from_oruk(session, make_record(number))
        importer.import_source(session, str(sheet))
    progress: list[tuple[int, int]] = []
    with database.session() as session:
        report = importer.import_source(
            session, feed.url, on_fetch=lambda d, t: progress.append((d, t))
        )
    assert report.problems == []
    assert progress[-1][0] == progress[-1][1] == len(report.imported)
    with httpx.Client(base_url=feed.url.removesuffix("/oruk/")) as source:
        before = everything(source)
    after = everything(client)
    assert len(after["services"]) == len(report.imported) == 43
    for key in before:
        assert after[key] == before[key], key

    # Re-importing the feed updates and duplicates nothing.
    sizes = {model: count(database, model) for model in (Service, ServiceAtLocation, Location)}
    changes = count(database, RecordChange)
    with database.session() as session:
        importer.import_source(session, feed.url)
    assert {model: count(database, model) for model in sizes} == sizes
    assert count(database, RecordChange) == changes


def test_feed_with_one_invalid_record_imports_nothing(feed: _Server, database: Database) -> None:
    """A feed that publishes an invalid record: all or nothing, or skip and report it."""
    records = [make_record(n) for n in range(10)]
    with feed.database.session() as session:
        for record in records:
            oruk.service_from_oruk(session, record)
        # Break one record behind the API's back, as a faulty feed would serve it.
        session.flush()
        session.get(
            ServiceAtLocation, records[3]["service_at_locations"][0]["id"]
        ).location.location_type = "floating"  # type: ignore[union-attr]
    expected = f"{records[3]['id']} at /service_at_locations/0"
    with pytest.raises(ImportRejected, match=expected), database.session() as session:
        importer.import_source(session, feed.url)
    assert count(database, Service) == 0
    with database.session() as session:
        report = importer.import_source(session, feed.url, skip_invalid=True)
    assert (len(report.imported), report.rejected) == (9, [records[3]["id"]])


def test_unreachable_feed_fails_clearly_after_the_retries() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    started = time.monotonic()
    with pytest.raises(FeedUnavailable) as caught:
        importer.fetch_feed(f"http://127.0.0.1:{port}/oruk", retries=3, backoff=0.05, timeout=1)
    assert time.monotonic() - started >= 0.15  # waited 0.05 s then 0.1 s between attempts
    message = str(caught.value)
    assert f"the feed at http://127.0.0.1:{port}/oruk/ could not be reached" in message
    assert "after 3 attempts" in message


def test_feed_retries_a_failing_server_then_succeeds() -> None:
    record = make_record(1)
    calls: list[str] = []

    def answer(request: httpx.Request) -> httpx.Response:
        calls.append(request.url.path)
        if len(calls) == 1:
            return httpx.Response(503)
        if request.url.path.endswith("/services"):
            page = {"total_items": 1, "total_pages": 1, "page_number": 1, "size": 1}
            return httpx.Response(200, json={**page, "contents": [{"id": record["id"]}]})
        if request.url.path.endswith(f"/services/{record['id']}"):
            return httpx.Response(200, json=record)
        return httpx.Response(404)

    fetched = importer.fetch_feed(
        "https://feed.example/api", backoff=0, transport=httpx.MockTransport(answer)
    )
    assert [item.record for item in fetched.services] == [record]
    assert (fetched.taxonomies, fetched.taxonomy_terms) == ([], [])
    assert calls[:2] == ["/api/services", "/api/services"]


# --- The CSV template ---------------------------------------------------------------------


def write_csv(path: Path, rows: list[dict[str, str]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=importer.CSV_HEADER)
        writer.writeheader()
        writer.writerows(rows)
    return path


def csv_row(**values: str) -> dict[str, str]:
    row = {
        "organization_name": "Hillside Food Bank",
        "service_name": "Emergency food parcels",
        "service_description": "Three days of food, by referral or drop-in.",
        "service_email": "help@hillside.example.org",
        "phone": "0113 496 0000",
        "needs": "food;income_benefits",
        "address_1": "2 Church Lane",
        "city": "Leeds",
        "postcode": "sw1a 1aa",
        "opening_days": "MO,TH",
        "opens_at": "10:00",
        "closes_at": "13:00",
    }
    row.update(values)
    return row


def test_csv_template_import(tmp_path: Path, database: Database) -> None:
    path = write_csv(
        tmp_path / "services.csv",
        [csv_row(), csv_row(address_1="9 Market Street", postcode="SW1A 2AA")],
    )
    with database.session() as session:
        report = importer.import_source(session, str(path))
    assert len(report.imported) == 1  # one service at two locations
    assert count(database, ServiceAtLocation) == 2
    with database.session() as session:
        service = session.scalars(select(Service)).one()
        record = oruk.service_to_oruk(service)
        assert oruk.validate("service", record) == []
        assert record["phones"][0]["number"] == "0113 496 0000"
        assert {a["taxonomy_term_id"] for a in record["attributes"]} == {
            need_term_id("food"),
            need_term_id("income_benefits"),
        }
        term = session.get(TaxonomyTerm, need_term_id("food"))
        assert term is not None
        assert (term.taxonomy_id, term.need_code) == (NEEDS_TAXONOMY_ID, "food")
        postcodes = {
            a["postal_code"]
            for s in record["service_at_locations"]
            for a in s["location"]["addresses"]
        }
        assert postcodes == {"SW1A 1AA", "SW1A 2AA"}
    with database.session() as session:
        importer.import_source(session, str(path))
    assert (count(database, Service), count(database, ServiceAtLocation)) == (1, 2)
    assert count(database, Attribute) == 2


def test_csv_bad_row_names_row_and_column(tmp_path: Path, database: Database) -> None:
    path = write_csv(
        tmp_path / "services.csv",
        [
            csv_row(),
            csv_row(service_name="Benefits advice", postcode="not a postcode"),
            csv_row(service_name="Debt advice", needs="debt;money", opens_at="25:00"),
        ],
    )
    with pytest.raises(ImportRejected) as caught, database.session() as session:
        importer.import_source(session, str(path))
    problems = {(p.record, p.where) for p in caught.value.problems}
    assert problems == {("row 3", "postcode"), ("row 4", "needs"), ("row 4", "opens_at")}
    assert "row 3 at postcode: 'not a postcode' is not a UK postcode" in str(caught.value)
    assert count(database, Service) == 0
    with database.session() as session:
        report = importer.import_source(session, str(path), skip_invalid=True)
    assert len(report.imported) == 1
    assert report.rejected == ["row 3", "row 4"]


# --- The command line ---------------------------------------------------------------------


@pytest.fixture
def run(database_url: str) -> Callable[..., Result]:
    def _run(*arguments: str) -> Result:
        env = {"HEALTHEQUITY_DATABASE_URL": database_url}
        return CliRunner().invoke(cli, list(arguments), env=env)

    return _run


def test_cli_template_import_export(
    run: Callable[..., Result], tmp_path: Path, database: Database
) -> None:
    template = tmp_path / "template.csv"
    result = run("directory", "template", str(template))
    assert result.exit_code == 0, result.output
    assert template.read_text(encoding="utf-8").strip() == ",".join(importer.CSV_HEADER)

    source = tmp_path / "services.json"
    source.write_text(json.dumps(hundred_with_one_invalid()), encoding="utf-8")
    result = run("directory", "import", str(source))
    assert result.exit_code == 2
    assert result.stderr.count("\n") == 1
    assert "nothing imported: 1 of 100 records invalid" in result.stderr
    assert "--skip-invalid" in result.stderr

    report = tmp_path / "report.json"
    result = run("directory", "import", str(source), "--skip-invalid", "--report", str(report))
    assert result.exit_code == 0, result.output
    assert "imported 99 of 100 services; 1 invalid, not imported" in result.stdout
    assert json.loads(report.read_text(encoding="utf-8"))["rejected"] == 1

    exported = tmp_path / "export.json"
    result = run("directory", "export", str(exported))
    assert result.exit_code == 0, result.output
    records = json.loads(exported.read_text(encoding="utf-8"))
    assert len(records) == 99
    assert all(oruk.validate("service", record) == [] for record in records)


def test_cli_unreachable_feed_and_missing_file(run: Callable[..., Result], tmp_path: Path) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    result = run(
        "directory", "import", f"http://127.0.0.1:{port}/oruk/", "--retries", "2", "--timeout", "1"
    )
    assert result.exit_code == 2
    assert result.stderr.startswith("healthequity: error: the feed at http://127.0.0.1:")
    assert "after 2 attempts" in result.stderr
    result = run("directory", "import", str(tmp_path / "missing.json"))
    assert result.exit_code == 2
    assert "neither a URL nor a file" in result.stderr
    broken = tmp_path / "broken.json"
    broken.write_text("{", encoding="utf-8")
    result = run("directory", "import", str(broken))
    assert result.exit_code == 2
    assert "broken.json is not JSON" in result.stderr
