"""The postcode directory in the database, and the area look-up API and pages.

`tests/data/postcodes_sample.csv` is a small NSPL-format file made for these tests: its
postcode-to-LSOA mappings are illustrative, not ONS's.
"""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from healthequity.cli.main import cli
from healthequity.geography import InvalidPostcode, PostcodeFileError, UnknownPostcode
from healthequity.places import service
from healthequity.places.models import Postcode
from healthequity.store import Database

SAMPLE = Path(__file__).parent / "data" / "postcodes_sample.csv"


def sample_rows() -> list[dict[str, str]]:
    with SAMPLE.open(newline="") as file:
        return list(csv.DictReader(file))


def postcode_count(database: Database) -> int:
    with database.session() as session:
        return session.scalar(select(func.count()).select_from(Postcode)) or 0


def test_load_sample_and_look_up(database: Database) -> None:
    rows = sample_rows()
    with database.session() as session:
        assert service.load_postcode_directory(session, SAMPLE, batch_size=3) == len(rows)
    assert postcode_count(database) == len({row["pcds"] for row in rows})
    with database.session() as session:
        assert service.postcode_to_lsoa(session, "sw1a1aa") == "E01004731"
        assert service.postcode_to_lsoa(session, "  SW1A   1AA ") == "E01004731"
        record = service.find_postcode(session, "SW1A 1AA")
    assert record.latitude == pytest.approx(51.49889)
    assert record.longitude == pytest.approx(-0.135185)


def test_reloading_updates_and_duplicates_nothing(database: Database, tmp_path: Path) -> None:
    with database.session() as session:
        service.load_postcode_directory(session, SAMPLE)
    before = postcode_count(database)
    changed = tmp_path / "changed.csv"
    text = SAMPLE.read_text().replace('"E01004731"', '"E01000001"', 1)
    changed.write_text(text)
    with database.session() as session:
        service.load_postcode_directory(session, changed)
    assert postcode_count(database) == before
    with database.session() as session:
        assert service.postcode_to_lsoa(session, "SW1A 1AA") == "E01000001"


def test_unknown_and_malformed_postcodes(database: Database) -> None:
    with database.session() as session:
        service.load_postcode_directory(session, SAMPLE)
        with pytest.raises(UnknownPostcode, match="ZZ9 9ZZ"):
            service.postcode_to_lsoa(session, "ZZ9 9ZZ")
        with pytest.raises(InvalidPostcode, match="'not a postcode'"):
            service.postcode_to_lsoa(session, "not a postcode")


def test_postcode_without_lsoa_is_unknown(database: Database) -> None:
    without_lsoa = next(row["pcds"] for row in sample_rows() if not row["lsoa21cd"])
    with database.session() as session:
        service.load_postcode_directory(session, SAMPLE)
        with pytest.raises(UnknownPostcode, match="no LSOA"):
            service.postcode_to_lsoa(session, without_lsoa)


def test_missing_columns_named_and_nothing_loaded(database: Database, tmp_path: Path) -> None:
    broken = tmp_path / "broken.csv"
    broken.write_text("pcds,oa21cd\nSW1A 1AA,E00000001\n")
    with pytest.raises(PostcodeFileError) as caught, database.session() as session:
        service.load_postcode_directory(session, broken)
    assert "lsoa21cd" in str(caught.value)
    assert "lat" in str(caught.value)
    assert "long" in str(caught.value)
    assert "broken.csv" in str(caught.value)
    assert postcode_count(database) == 0


def test_bad_row_after_good_batches_loads_nothing(database: Database, tmp_path: Path) -> None:
    lines = SAMPLE.read_text().splitlines()
    bad = tmp_path / "bad.csv"
    bad.write_text("\n".join([*lines, lines[-1].replace(lines[-1].split(",")[2], '"NOT A PC"')]))
    with pytest.raises(PostcodeFileError, match=r"line \d+, column pcds"), database.session() as s:
        service.load_postcode_directory(s, bad, batch_size=2)
    assert postcode_count(database) == 0


def test_cli_load_postcodes(database_url: str, database: Database, tmp_path: Path) -> None:
    runner = CliRunner()
    env = {"HEALTHEQUITY_DATABASE_URL": database_url}
    result = runner.invoke(cli, ["geography", "load-postcodes", str(SAMPLE)], env=env)
    assert result.exit_code == 0, result.output
    assert f"loaded {len(sample_rows())} postcodes" in result.output
    broken = tmp_path / "broken.csv"
    broken.write_text("pcd,lat\nSW1A 1AA,51.5\n")
    result = runner.invoke(cli, ["geography", "load-postcodes", str(broken)], env=env)
    assert result.exit_code == 2
    assert "missing column(s) pcds, lsoa21cd, long" in result.output
    result = runner.invoke(cli, ["geography", "postcode", "sw1a1aa"], env=env)
    assert result.exit_code == 0
    assert '"lsoa21_code": "E01004731"' in result.output


def test_areas_api(client: TestClient, database: Database) -> None:
    lsoa = client.get("/api/areas/lsoa/e01000001").json()
    assert lsoa["lsoa21_name"] == "City of London 001A"
    assert lsoa["icb24_code_nhs"] == "QMF"
    assert lsoa["iod2025"]["imd"] == {"decile": 8, "rank": 26525, "score": 8.742}
    assert client.get("/api/areas/lsoa/E01999999").status_code == 404
    assert client.get("/api/areas/lsoa/banana").status_code == 422
    manchester = client.get("/api/areas", params={"q": "manchester", "level": "ltla"}).json()
    assert manchester[0]["code"] == "E08000003"
    area = client.get("/api/areas/ltla/E08000003").json()
    assert area["name"] == "Manchester"
    assert len(area["lsoa21_codes"]) == manchester[0]["lsoa_count"]
    icb = client.get("/api/areas/icb/QMF").json()
    assert icb["code"] == "E54000029"


def test_postcode_api(client: TestClient, database: Database) -> None:
    with database.session() as session:
        service.load_postcode_directory(session, SAMPLE)
    body = client.get("/api/postcodes/sw1a1aa").json()
    assert body["postcode"] == "SW1A 1AA"
    assert body["lsoa21_code"] == "E01004731"
    assert client.get("/api/postcodes/ZZ9 9ZZ").status_code == 404
    assert "expected a UK postcode" in client.get("/api/postcodes/xx").json()["detail"]


def test_area_pages(client: TestClient, database: Database) -> None:
    page = client.get("/areas", params={"q": "Manchester"})
    assert page.status_code == 200
    assert 'href="/areas/ltla/E08000003"' in page.text
    page = client.get("/areas/lsoa/E01000001")
    assert "City of London 001A" in page.text
    assert "IMD 2025 decile 8 of 10" in page.text
    page = client.get("/areas/ltla/E08000003")
    assert "Manchester" in page.text
    assert "(most deprived)" in page.text
    assert client.get("/areas/ltla/E08999999").status_code == 404


def test_imd_decile_profile_adds_up() -> None:
    from healthequity import geography

    area = geography.ltla("E08000003")
    profile = service.imd_decile_profile(area)
    assert [row.decile for row in profile] == list(range(1, 11))
    assert sum(row.lsoa_count for row in profile) == len(area.lsoa21_codes)
    assert sum(row.usual_residents_2021 for row in profile) == area.usual_residents_2021
    assert sum(row.share_of_residents for row in profile) == pytest.approx(1.0)
