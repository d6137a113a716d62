"""Directory search speed: 50,000 generated services over England's LSOAs.

Run by hand (not in CI): `.venv/bin/python benchmarks/directory_bench.py [--services N]
[--database-url URL]`. Without a URL it builds a fresh SQLite database in a temporary folder.

1. In-process: the query "need + within 5 miles + free text" from random LSOAs, timed
   through `search_services` (p50, p95), against a naive full scan in the same run (load
   every service, location and need, filter and rank in Python) as the baseline, and the ratio.
2. Over HTTP: the real server (`healthequity serve`) answering `/api/directory/search` to
   20 concurrent clients with an API token: requests per second, p50, p95 and errors.
"""

from __future__ import annotations

import argparse
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections import defaultdict
from datetime import date, timedelta
from pathlib import Path

import httpx
from sqlalchemy import insert, select

from healthequity import geography
from healthequity.audit.schemas import AuditContext
from healthequity.auth import service as auth_service
from healthequity.auth.models import OrganisationKind, Role
from healthequity.directory import search
from healthequity.directory.models import (
    Attribute,
    Location,
    Organization,
    Schedule,
    Service,
    ServiceAtLocation,
    Taxonomy,
    TaxonomyTerm,
)
from healthequity.needs import NEEDS
from healthequity.store import Database, upgrade

REPO_ROOT = Path(__file__).resolve().parents[1]
NEED = "debt"
MILES = 5.0
TEXTS = ("advice", "debt advise", "money help", "benefts")
KINDS = ("advice service", "support group", "drop-in", "helpline", "project", "hub")
WORDS = {
    "debt": "debt advice money budgeting arrears",
    "income_benefits": "benefits advice income welfare rights",
    "food": "food bank meals pantry",
    "housing": "housing advice tenancy repairs",
}


def generate(database: Database, count: int, rng: random.Random) -> list[tuple[float, float]]:
    """`count` services, one location each at a random LSOA's interior point (jittered)."""
    points = [(x.interior_point.latitude, x.interior_point.longitude) for x in geography.lsoas()]
    today = date.today()
    with database.session() as session:
        session.add(Taxonomy(id="bench-needs", name="Benchmark needs"))
        for need in NEEDS:
            session.add(
                TaxonomyTerm(
                    id=f"bench-{need.code}",
                    name=need.label,
                    need_code=need.code,
                    taxonomy_id="bench-needs",
                )
            )
        session.flush()
        organisations = [
            {"id": f"org-{i}", "name": f"Bench organisation {i}", "description": ""}
            for i in range(count // 50 + 1)
        ]
        session.execute(insert(Organization), organisations)
        services, locations, links, attributes, schedules = [], [], [], [], []
        for i in range(count):
            needs = rng.sample(NEEDS, rng.choice((1, 1, 2)))
            main = needs[0]
            lat, lon = rng.choice(points)
            sid = f"svc-{i}"
            words = WORDS.get(main.code, main.label.lower())
            services.append(
                {
                    "id": sid,
                    "organization_id": f"org-{i // 50}",
                    "name": f"{main.label} {rng.choice(KINDS)} {i}",
                    "description": f"Generated service offering {words}. {main.description}",
                    "status": "active",
                    "accepting_referrals": rng.random() < 0.85,
                    "last_reviewed": today - timedelta(days=rng.randint(0, 400)),
                }
            )
            locations.append(
                {
                    "id": f"loc-{i}",
                    "name": f"Location {i}",
                    "latitude": lat + rng.uniform(-0.004, 0.004),
                    "longitude": lon + rng.uniform(-0.006, 0.006),
                }
            )
            links.append({"id": f"sal-{i}", "service_id": sid, "location_id": f"loc-{i}"})
            for need in needs:
                attributes.append(
                    {
                        "id": f"att-{i}-{need.code}",
                        "link_id": sid,
                        "link_entity": "service",
                        "taxonomy_term_id": f"bench-{need.code}",
                    }
                )
            schedules.append(
                {
                    "id": f"sch-{i}",
                    "service_id": sid,
                    "freq": "WEEKLY",
                    "byday": "MO,TU,WE,TH,FR",
                    "opens_at": "09:00",
                    "closes_at": "17:00",
                }
            )
        for model, rows in (
            (Service, services),
            (Location, locations),
            (ServiceAtLocation, links),
            (Attribute, attributes),
            (Schedule, schedules),
        ):
            for start in range(0, len(rows), 5000):
                session.execute(insert(model), rows[start : start + 5000])
    # Planner statistics, as autovacuum (PostgreSQL) or a routine ANALYZE would gather them.
    with database.engine.connect() as connection:
        connection.exec_driver_sql("ANALYZE")
        connection.commit()
    return points


def naive_search(database: Database, near: tuple[float, float], text: str) -> list[str]:
    """The baseline: read everything, then filter and rank in Python."""
    with database.session() as session:
        services = {
            row.id: row
            for row in session.execute(
                select(Service.id, Service.name, Service.description, Service.last_reviewed)
            )
        }
        where: dict[str, list[tuple[float, float]]] = defaultdict(list)
        for service_id, lat, lon in session.execute(
            select(ServiceAtLocation.service_id, Location.latitude, Location.longitude).join(
                Location, Location.id == ServiceAtLocation.location_id
            )
        ):
            where[service_id].append((lat, lon))
        meets: dict[str, set[str]] = defaultdict(set)
        for link_id, code in session.execute(
            select(Attribute.link_id, TaxonomyTerm.need_code).join(
                TaxonomyTerm, TaxonomyTerm.id == Attribute.taxonomy_term_id
            )
        ):
            meets[link_id].add(code)
    found = []
    documents = {}
    for sid, row in services.items():
        if NEED not in meets[sid]:
            continue
        miles = min(
            (search.haversine_miles(near[0], near[1], lat, lon) for lat, lon in where[sid]),
            default=None,
        )
        if miles is None or miles > MILES:
            continue
        found.append((miles, sid))
        documents[sid] = (search.tokens(row.name), search.tokens(row.description))
    scores = search.text_scores(text, documents)
    return [sid for _miles, sid in sorted(found) if sid in scores]


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def in_process(database: Database, points: list[tuple[float, float]], rng: random.Random) -> None:
    origins = [rng.choice(points) for _ in range(300)]
    timings: list[float] = []
    sizes: list[int] = []
    with database.session() as session:
        for i, near in enumerate(origins):
            start = time.perf_counter()
            results = search.search_services(
                session, needs=[NEED], near=near, within_miles=MILES, text=TEXTS[i % len(TEXTS)]
            )
            timings.append(time.perf_counter() - start)
            sizes.append(len(results))
    naive: list[float] = []
    for i, near in enumerate(origins[:10]):
        start = time.perf_counter()
        naive_search(database, near, TEXTS[i % len(TEXTS)])
        naive.append(time.perf_counter() - start)
    p95 = percentile(timings, 0.95)
    naive_median = statistics.median(naive)
    print(f"in-process: {len(timings)} queries 'need {NEED} + within {MILES:g} miles + text'")
    print(
        f"  p50 {statistics.median(timings) * 1000:.1f} ms, p95 {p95 * 1000:.1f} ms "
        f"(target under 30 ms); results per query: median {statistics.median(sizes):.0f}, "
        f"max {max(sizes)}"
    )
    print(
        f"  naive full scan (baseline): median {naive_median * 1000:.0f} ms over "
        f"{len(naive)} queries; ratio naive median / search p95: {naive_median / p95:.0f}x"
    )


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 (local server)
            return bool(response.status == 200)
    except (urllib.error.URLError, OSError):
        return False


def over_http(
    database: Database,
    url: str,
    points: list[tuple[float, float]],
    rng: random.Random,
    clients: int,
    seconds: float,
) -> None:
    with database.session() as session:
        organisation = auth_service.ensure_organisation(
            session, "Benchmark", OrganisationKind.PRACTICE
        )
        token = auth_service.create_api_token(
            session,
            AuditContext(purpose="benchmark"),
            name="directory benchmark",
            organisation=organisation,
            roles=[Role.CLINICIAN],
        ).secret
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    script = Path(sys.executable).with_name("healthequity")
    env = {**os.environ, "HEALTHEQUITY_DATABASE_URL": url, "HEALTHEQUITY_LOG_LEVEL": "WARNING"}
    env["HEALTHEQUITY_ASSETS_DIR"] = str(REPO_ROOT / "assets" / "node_modules")
    process = subprocess.Popen(
        [str(script), "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30
        while not _answers(f"{base}/healthz"):
            if process.poll() is not None or time.monotonic() > deadline:
                raise SystemExit("the server did not start")
            time.sleep(0.1)
        timings: list[float] = []
        errors: list[str] = []
        lock = threading.Lock()
        stop = time.monotonic() + seconds

        def client(seed: int) -> None:
            local = random.Random(seed)
            with httpx.Client(
                base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=10
            ) as http:
                while time.monotonic() < stop:
                    lat, lon = local.choice(points)
                    params = {
                        "need": NEED,
                        "lat": lat,
                        "lon": lon,
                        "within": MILES,
                        "q": local.choice(TEXTS),
                    }
                    start = time.perf_counter()
                    try:
                        response = http.get("/api/directory/search", params=params)
                        ok = response.status_code == 200
                        problem = f"HTTP {response.status_code}"
                    except httpx.HTTPError as error:
                        ok, problem = False, str(error)
                    elapsed = time.perf_counter() - start
                    with lock:
                        timings.append(elapsed)
                        if not ok:
                            errors.append(problem)

        started = time.perf_counter()
        threads = [threading.Thread(target=client, args=(rng.random(),)) for _ in range(clients)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        wall = time.perf_counter() - started
        print(f"HTTP: {clients} concurrent clients for {wall:.1f} s, one server process")
        print(
            f"  {len(timings) / wall:.0f} requests/s (target 200), "
            f"p50 {statistics.median(timings) * 1000:.1f} ms, "
            f"p95 {percentile(timings, 0.95) * 1000:.1f} ms (target under 100 ms), "
            f"errors {len(errors)}" + (f" (first: {errors[0]})" if errors else "")
        )
    finally:
        process.terminate()
        process.wait(timeout=10)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--services", type=int, default=50_000)
    parser.add_argument("--database-url", help="an empty database (default: temporary SQLite)")
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=15.0)
    parser.add_argument("--no-http", action="store_true")
    args = parser.parse_args()
    rng = random.Random(20261122)
    with tempfile.TemporaryDirectory() as folder:
        url = args.database_url or f"sqlite:///{Path(folder) / 'bench.db'}"
        database = Database(url)
        upgrade(database.engine)
        start = time.perf_counter()
        points = generate(database, args.services, rng)
        print(f"generated {args.services:,} services in {time.perf_counter() - start:.1f} s")
        in_process(database, points, rng)
        if not args.no_http:
            over_http(database, url, points, rng, args.clients, args.seconds)
        database.dispose()


if __name__ == "__main__":
    main()
