"""Copy the Open Referral UK v3 schemas the directory validates against into the package.

Usage: python scripts/build_oruk_schemas.py [ORUK_DIR]

ORUK_DIR defaults to ../shared/data/oruk beside the repository. Copies the compiled body
schemas (the responses of /services/{id}, /services, /service_at_locations...), the
per-table taxonomy and taxonomy_term schemas, the OpenAPI description and its Page wrapper,
and writes an ATTRIBUTION note. The copies are committed; rerun when the profile changes.
"""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_SOURCE = REPO_ROOT.parent / "shared" / "data" / "oruk"
TARGET = REPO_ROOT / "src" / "healthequity" / "directory" / "oruk_schemas"

COMPILED = (
    "service.json",
    "service_list.json",
    "service_at_location.json",
    "service_at_location_list.json",
    "organization.json",
    "organization_list.json",
)
PER_TABLE = ("taxonomy.json", "taxonomy_term.json")

ATTRIBUTION = """\
These JSON schemas are copied unchanged (page.json is extracted from openapi.json) from the
Open Referral UK profile, version 3.0, of the Human Services Data Specification (HSDS):
https://github.com/openreferral/uk-profile

Open Referral UK and HSDS are published under the Creative Commons Attribution-ShareAlike 4.0
International licence (CC BY-SA 4.0): https://creativecommons.org/licenses/by-sa/4.0/
These copies are distributed under the same licence.

Regenerate with: python scripts/build_oruk_schemas.py
"""


def build(source: Path, target: Path = TARGET) -> list[Path]:
    schema_dir = source / "schema"
    if not (schema_dir / "compiled" / "service.json").is_file():
        raise SystemExit(f"no ORUK schemas in {source} (expected schema/compiled/service.json)")
    target.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    for name in COMPILED:
        written.append(Path(shutil.copyfile(schema_dir / "compiled" / name, target / name)))
    for name in PER_TABLE:
        written.append(Path(shutil.copyfile(schema_dir / name, target / name)))
    written.append(Path(shutil.copyfile(schema_dir / "openapi.json", target / "openapi.json")))
    openapi = json.loads((schema_dir / "openapi.json").read_text(encoding="utf-8"))
    page = target / "page.json"
    page.write_text(
        json.dumps(openapi["components"]["schemas"]["Page"], indent=2) + "\n", encoding="utf-8"
    )
    written.append(page)
    attribution = target / "ATTRIBUTION"
    attribution.write_text(ATTRIBUTION, encoding="utf-8")
    written.append(attribution)
    return written


def main() -> None:
    source = Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_SOURCE
    for path in build(source):
        print(path.relative_to(REPO_ROOT))


if __name__ == "__main__":
    main()
