"""Postcode normalisation and reading ONS postcode directories.

tests/data/postcodes_sample.csv is laid out as the NSPL is, but its postcode-to-LSOA
mappings are made up for these tests: each postcode is given a real LSOA and that LSOA's
interior point, not the postcode's own.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from healthequity.geography import (
    InvalidPostcode,
    PostcodeFileError,
    PostcodeRecord,
    UnknownPostcode,
    lsoa,
    normalise_postcode,
    postcode_to_lsoa,
    read_postcode_directory,
)

SAMPLE = Path(__file__).resolve().parents[1] / "data" / "postcodes_sample.csv"


def read_all(path: Path, batch_size: int = 10_000) -> list[PostcodeRecord]:
    with read_postcode_directory(path, batch_size) as reader:
        return [record for batch in reader for record in batch]


def sample_lines() -> list[str]:
    return SAMPLE.read_text(encoding="utf-8").splitlines()


def write_lines(path: Path, lines: list[str]) -> Path:
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("sw1a1aa", "SW1A 1AA"),
        (" SW1A  1AA ", "SW1A 1AA"),
        ("m11ae", "M1 1AE"),
        ("B33 8TH", "B33 8TH"),
        ("cr26xh", "CR2 6XH"),
        ("dn551pt", "DN55 1PT"),
        ("w1a 0ax", "W1A 0AX"),
        ("ec1a1bb", "EC1A 1BB"),
        ("gir0aa", "GIR 0AA"),
    ],
)
def test_normalise_gives_pcds_form(value: str, expected: str) -> None:
    assert normalise_postcode(value) == expected


LETTER = st.sampled_from("ABCDEFGHIJKLMNOPQRSTUVWXYZ")
DIGIT = st.sampled_from("0123456789")
OUTWARD = st.one_of(
    st.tuples(LETTER, DIGIT),
    st.tuples(LETTER, DIGIT, DIGIT),
    st.tuples(LETTER, LETTER, DIGIT),
    st.tuples(LETTER, LETTER, DIGIT, DIGIT),
    st.tuples(LETTER, DIGIT, LETTER),
    st.tuples(LETTER, LETTER, DIGIT, LETTER),
).map("".join)
INWARD = st.tuples(DIGIT, LETTER, LETTER).map("".join)


@given(outward=OUTWARD, inward=INWARD, data=st.data())
def test_any_spacing_and_case_round_trip(outward: str, inward: str, data: st.DataObject) -> None:
    canonical = f"{outward} {inward}"
    typed = "".join(
        data.draw(st.sampled_from([char, char.lower()])) + data.draw(st.sampled_from(["", " "]))
        for char in outward + inward
    )
    assert normalise_postcode(typed) == canonical
    assert normalise_postcode(canonical) == canonical


@pytest.mark.parametrize(
    "value",
    ["", "SW1A", "1AA SW1", "SW1A 1AAA", "SWW1A 1AA", "SW1A 11A", "S 1AA", "\u017fW1A 1AA"],
)
def test_malformed_postcode_is_invalid(value: str) -> None:
    with pytest.raises(InvalidPostcode) as raised:
        normalise_postcode(value)
    assert repr(value) in str(raised.value)


def test_reads_every_row_of_the_sample() -> None:
    records = {record.postcode: record for record in read_all(SAMPLE)}
    assert len(records) == len(sample_lines()) - 1
    assert records["SW1A 1AA"] == PostcodeRecord("SW1A 1AA", "E01004731", 51.49889, -0.135185)
    assert records["M1 1AE"].lsoa21_code == "E01005061"


def test_no_grid_reference_gives_no_coordinates() -> None:
    records = {record.postcode: record for record in read_all(SAMPLE)}
    assert records["GIR 0AA"] == PostcodeRecord("GIR 0AA", "E01006920", None, None)


def test_blank_or_pseudo_lsoa_gives_no_lsoa() -> None:
    records = {record.postcode: record for record in read_all(SAMPLE)}
    assert records["BX1 1LT"].lsoa21_code is None
    assert records["JE2 3XP"].lsoa21_code is None  # ONS pseudo-code L99999999


def test_sample_lsoas_are_real_and_located_at_their_interior_points() -> None:
    for record in read_all(SAMPLE):
        if record.lsoa21_code is not None and record.latitude is not None:
            point = lsoa(record.lsoa21_code).interior_point
            assert (record.latitude, record.longitude) == (point.latitude, point.longitude)


def test_batches_and_progress() -> None:
    with read_postcode_directory(SAMPLE, batch_size=5) as reader:
        assert reader.bytes_read < reader.size_bytes == SAMPLE.stat().st_size
        sizes = [len(batch) for batch in reader]
        assert reader.bytes_read == reader.size_bytes
    rows = len(sample_lines()) - 1
    assert sizes == [5] * (rows // 5) + [rows % 5]


def test_header_names_match_in_any_case(tmp_path: Path) -> None:
    header, *rows = sample_lines()
    upper = write_lines(tmp_path / "upper.csv", [header.upper(), *rows])
    assert read_all(upper) == read_all(SAMPLE)


def test_missing_columns_are_all_named_before_any_batch(tmp_path: Path) -> None:
    header, *rows = sample_lines()
    names = header.split(",")
    dropped = [names.index('"lsoa21cd"'), names.index('"long"')]
    lines = [
        ",".join(field for i, field in enumerate(line.split(",")) if i not in dropped)
        for line in [header, *rows]
    ]
    path = write_lines(tmp_path / "no_lsoa.csv", lines)
    with pytest.raises(PostcodeFileError) as raised:
        read_postcode_directory(path)
    message = str(raised.value)
    assert str(path) in message
    assert "lsoa21cd, long" in message
    assert "pcds" not in message.split(":")[1]


def test_empty_file_lacks_every_column(tmp_path: Path) -> None:
    path = write_lines(tmp_path / "empty.csv", [])
    with pytest.raises(PostcodeFileError, match="pcds, lsoa21cd, lat, long"):
        read_postcode_directory(path)


@pytest.mark.parametrize(
    ("old", "new", "column", "expected"),
    [
        ('"M1 1AE"', '"M1 1A"', "pcds", "expected a postcode, got 'M1 1A'"),
        ('"53.470306"', '"north"', "lat", "expected a number of degrees from -90 to 90"),
        ('"-2.207787"', '""', "long", "expected a number of degrees from -180 to 180"),
    ],
)
def test_bad_row_is_named_by_line_and_column(
    tmp_path: Path, old: str, new: str, column: str, expected: str
) -> None:
    lines = sample_lines()
    line = next(number for number, text in enumerate(lines, start=1) if '"M1 1AE"' in text)
    lines[line - 1] = lines[line - 1].replace(old, new)
    path = write_lines(tmp_path / "bad.csv", lines)
    with pytest.raises(PostcodeFileError) as raised:
        read_all(path)
    assert str(raised.value).startswith(f"{path}, line {line}, column {column}: {expected}")


def test_short_row_is_named_by_line(tmp_path: Path) -> None:
    lines = [*sample_lines(), '"ZZ1 1ZZ","ZZ1  1ZZ"']
    path = write_lines(tmp_path / "short.csv", lines)
    with pytest.raises(PostcodeFileError, match=f"line {len(lines)}, column pcds: expected 35"):
        read_all(path)


def test_missing_file_is_a_postcode_file_error(tmp_path: Path) -> None:
    with pytest.raises(PostcodeFileError, match="cannot open"):
        read_postcode_directory(tmp_path / "absent.csv")


def test_postcode_to_lsoa() -> None:
    directory = {record.postcode: record.lsoa21_code for record in read_all(SAMPLE)}
    assert postcode_to_lsoa("sw1a1aa", directory) == "E01004731"
    with pytest.raises(UnknownPostcode, match="'bx1 1lt': the postcode directory gives it no"):
        postcode_to_lsoa("bx1 1lt", directory)
    with pytest.raises(UnknownPostcode, match="'ZZ1 1ZZ': not in the postcode directory"):
        postcode_to_lsoa("ZZ1 1ZZ", directory)
    with pytest.raises(InvalidPostcode, match="'not a postcode'"):
        postcode_to_lsoa("not a postcode", directory)
