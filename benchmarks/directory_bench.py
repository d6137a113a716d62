"""Directory search speed: 50,000 generated services over England's LSOAs.

Run by hand (not in CI): `.venv/bin/python benchmarks/directory_bench.py [--services N]
[--database-url URL]`. Without a URL it builds a fresh SQLite database in a temporary folder.

1. In-process: the query "need + within 5 miles + free text" from random LSOAs, timed
   through `search_services` (p50, p95), against a naive full scan in the same run (load
   every service, location and need, filter and rank in Python) as the baseline, and the ratio.
2. Over HTTP: the real server (`healthequity serve --workers 2`, one process per core)
   answering `/api/directory/search` to 20 concurrent clients with an API token, after a
   warm-up that is not counted: requests per second, p50, p95 and errors.
"""

from __future__ import annotations

import argparse
import http.client
import math
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
import urllib.parse
import urllib.request
from collections import defaultdict
from datetime import date, timedelta
from pathlib import Path

from sqlalchemy import insert, select

from healthequity import geography
from healthequity.audit.schemas import AuditContext
from healthequity.auth import service as auth_service
from healthequity.auth.models import OrganisationKind, Role
from healthequity.directory import search, search_index
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
from healthequity.directory.text import query_tokens, tokens
from healthequity.needs import NEEDS, NEEDS_BY_CODE
from healthequity.store import Database, upgrade

REPO_ROOT = Path(__file__).resolve().parents[1]
NEED = "debt"
MILES = 5.0
WARM_UP_SECONDS = 5.0
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
    """The baseline: read everything, then filter in Python, with the same rules as the
    search (the need through the terms; every word, or a near miss of it, in the name, the
    description, the organisation's name or the terms)."""
    with database.session() as session:
        services = {
            row.id: row
            for row in session.execute(
                select(
                    Service.id, Service.name, Service.description, Organization.name.label("o")
                ).join(Organization, Organization.id == Service.organization_id)
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
        terms: dict[str, list[str]] = defaultdict(list)
        for link_id, code, term in session.execute(
            select(Attribute.link_id, TaxonomyTerm.need_code, TaxonomyTerm.name).join(
                TaxonomyTerm, TaxonomyTerm.id == Attribute.taxonomy_term_id
            )
        ):
            meets[link_id].add(code)
            terms[link_id] += [term, NEEDS_BY_CODE[code].label]
    found = []
    for sid, row in services.items():
        if NEED not in meets[sid]:
            continue
        miles = min((_haversine(near, point) for point in where[sid]), default=None)
        if miles is None or miles > MILES:
            continue
        words = tokens(" ".join((row.name, row.description, row.o, *terms[sid])))
        if _holds_every_word(words, text):
            found.append((miles, sid))
    return [sid for _miles, sid in sorted(found)]


def _haversine(a: tuple[float, float], b: tuple[float, float]) -> float:
    phi1, phi2 = math.radians(a[0]), math.radians(b[0])
    dlambda = math.radians(b[1] - a[1])
    h = (
        math.sin((phi2 - phi1) / 2) ** 2
        + math.cos(phi1) * math.cos(phi2) * math.sin(dlambda / 2) ** 2
    )
    return 2 * search.EARTH_RADIUS_MILES * math.asin(min(1.0, math.sqrt(h)))


def _holds_every_word(words: frozenset[str], text: str) -> bool:
    return all(
        any(search.token_similarity(wanted, word) > 0 for word in words)
        for wanted in query_tokens(text)
    )


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def in_process(database: Database, points: list[tuple[float, float]], rng: random.Random) -> None:
    origins = [rng.choice(points) for _ in range(300)]
    timings: list[float] = []
    sizes: list[int] = []
    found: list[set[str]] = []
    with database.session() as session:
        start = time.perf_counter()
        index = search_index.current_index(session)
        built = time.perf_counter() - start
        for i, near in enumerate(origins):
            start = time.perf_counter()
            results = search.search_services(
                session,
                needs=[NEED],
                near=near,
                within_miles=MILES,
                text=TEXTS[i % len(TEXTS)],
                limit=search.MAX_LIMIT,
            )
            timings.append(time.perf_counter() - start)
            sizes.append(len(results))
            found.append({result.id for result in results})
    naive: list[float] = []
    agree = 0
    for i, near in enumerate(origins[:10]):
        start = time.perf_counter()
        expected = naive_search(database, near, TEXTS[i % len(TEXTS)])
        naive.append(time.perf_counter() - start)
        agree += set(expected) == found[i]
    p95 = percentile(timings, 0.95)
    naive_median = statistics.median(naive)
    print(
        f"search index: {len(index.services):,} services, {len(index.location_service):,} "
        f"located, {len(index.vocabulary):,} words; built in {built:.2f} s (once per server "
        "process, and again after each change to the directory)"
    )
    print(f"in-process: {len(timings)} queries 'need {NEED} + within {MILES:g} miles + text'")
    print(
        f"  p50 {statistics.median(timings) * 1000:.1f} ms, p95 {p95 * 1000:.1f} ms "
        f"(target under 30 ms); results per query: median {statistics.median(sizes):.0f}, "
        f"max {max(sizes)}"
    )
    print(
        f"  naive full scan (baseline): median {naive_median * 1000:.0f} ms over "
        f"{len(naive)} queries; ratio naive median / search p95: {naive_median / p95:.0f}x; "
        f"same services found in {agree} of {len(naive)}"
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
    workers: int,
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
        [str(script), "serve", "--port", str(port), "--workers", str(workers)],
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
        headers = {"Authorization": f"Bearer {token}"}

        def client(seed: float, until: float, counted: bool) -> None:
            # The standard library's HTTP client, one kept-alive connection per client: it
            # costs little CPU, so that the figures are the server's, not the load's.
            local = random.Random(seed)
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            try:
                while time.monotonic() < until:
                    lat, lon = local.choice(points)
                    query = urllib.parse.urlencode(
                        {
                            "need": NEED,
                            "lat": lat,
                            "lon": lon,
                            "within": MILES,
                            "q": local.choice(TEXTS),
                        }
                    )
                    start = time.perf_counter()
                    try:
                        connection.request("GET", f"/api/directory/search?{query}", headers=headers)
                        response = connection.getresponse()
                        response.read()
                        ok = response.status == 200
                        problem = f"HTTP {response.status}"
                    except (OSError, http.client.HTTPException) as error:
                        ok, problem = False, repr(error)
                        connection.close()
                        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
                    elapsed = time.perf_counter() - start
                    if counted:
                        with lock:
                            timings.append(elapsed)
                            if not ok:
                                errors.append(problem)
            finally:
                connection.close()

        def load(seconds: float, counted: bool) -> float:
            started = time.perf_counter()
            until = time.monotonic() + seconds
            threads = [
                threading.Thread(target=client, args=(rng.random(), until, counted))
                for _ in range(clients)
            ]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            return time.perf_counter() - started

        # Each server process builds its search index as it starts; let that finish first.
        load(WARM_UP_SECONDS, counted=False)
        wall = load(seconds, counted=True)
        print(
            f"HTTP: {clients} concurrent clients for {wall:.1f} s after {WARM_UP_SECONDS:g} s "
            "not counted, "
            f"{workers} server process{'es' if workers > 1 else ''}"
        )
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
    parser.add_argument("--workers", type=int, default=2, help="server processes (one per core)")
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
            over_http(database, url, points, rng, args.clients, args.seconds, args.workers)
        database.dispose()


if __name__ == "__main__":
    main()
