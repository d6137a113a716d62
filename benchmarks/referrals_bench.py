"""Referrals at national scale, on PostgreSQL: 1,000,000 people, 3,000,000 questionnaire
responses and 2,000,000 referrals generated over England's real LSOAs.

Run by hand (not in CI): `.venv/bin/python benchmarks/referrals_bench.py [--database-url
URL] [--reuse]`. Without a URL it uses database `he_referrals_bench` on the PostgreSQL
server at 127.0.0.1:5432, dropped and made afresh unless `--reuse` is given (generating
takes a few minutes).

1. A caseload page (`referrals.service.caseload`: one user's open referrals, soonest
   follow-up first, with the count for paging) and the overdue list
   (`referrals.service.overdue`), each for 200 random referrers: p50 and p95, with the
   indexes the referrals tables declare; then the same calls with those indexes dropped
   (the baseline), and the ratio. Target: p95 under 150 ms.
2. Status changes by 8 concurrent writers, each with its own connection, on a shared pool
   of referrals small enough that writers collide: every change passes the version it
   saw; a stale one re-reads and tries again. Changes per second (target 300), retries,
   and a check that no update was lost (each referral's version and its status events
   match the changes that succeeded).
"""

from __future__ import annotations

import argparse
import random
import statistics
import threading
import time
import uuid
from collections import Counter
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url

from healthequity import geography
from healthequity.audit.schemas import AuditContext
from healthequity.auth.models import Role
from healthequity.auth.schemas import Principal
from healthequity.needs import NEEDS
from healthequity.referrals import lifecycle
from healthequity.referrals import service as referrals
from healthequity.referrals.exceptions import StaleReferral
from healthequity.referrals.models import Referral, ReferralEvent, ReferralStatus
from healthequity.store import Database, upgrade

DEFAULT_URL = "postgresql+psycopg://127.0.0.1:5432/he_referrals_bench"
PRACTICES = 200
USERS_PER_PRACTICE = 10
SERVICES = 5000
TODAY = date(2026, 11, 23)
QUESTIONNAIRE = "https://healthequity.example/fhir/Questionnaire/social-history-core"
# Statuses of generated referrals: most closed, as in a service that has run for years.
STATUS_WEIGHTS = {
    ReferralStatus.DRAFT: 1,
    ReferralStatus.REQUESTED: 8,
    ReferralStatus.RECEIVED: 4,
    ReferralStatus.ACCEPTED: 6,
    ReferralStatus.REJECTED: 6,
    ReferralStatus.IN_PROGRESS: 10,
    ReferralStatus.COMPLETED: 50,
    ReferralStatus.CANCELLED: 8,
    ReferralStatus.FAILED: 7,
}
# The indexes chosen for the caseload and overdue lists (see referrals/models.py).
CHOSEN_INDEXES = {
    "ix_referral_requester_status_follow_up": "referral (requester_user_id, status, follow_up_on)",
    "ix_referral_requester_attendance_check": "referral (requester_user_id, attendance_check_on)",
}
NEXT_STATUS = {
    ReferralStatus.REQUESTED: ReferralStatus.RECEIVED,
    ReferralStatus.RECEIVED: ReferralStatus.ACCEPTED,
    ReferralStatus.ACCEPTED: ReferralStatus.IN_PROGRESS,
    ReferralStatus.IN_PROGRESS: ReferralStatus.COMPLETED,
}


def _copy(connection: object, table: str, columns: list[str], rows: object) -> None:
    """COPY rows (tuples; None for NULL) into a table, in batches."""
    cursor = connection.cursor()  # type: ignore[attr-defined]
    statement = f"COPY {table} ({', '.join(columns)}) FROM STDIN"
    with cursor.copy(statement) as copy:
        for row in rows:  # type: ignore[attr-defined]
            copy.write_row(row)


def generate(database: Database, people: int, responses: int, referral_count: int) -> None:
    rng = random.Random(20261123)
    lsoas = [record.lsoa21_code for record in geography.lsoas()]
    now = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
    raw = database.engine.raw_connection()
    try:
        started = time.perf_counter()
        _copy(
            raw,
            "organisation",
            ["id", "name", "kind", "created_at"],
            ((i, f"Bench practice {i}", "practice", now) for i in range(1, PRACTICES + 1)),
        )
        users = [
            (p * 100 + u, p) for p in range(1, PRACTICES + 1) for u in range(USERS_PER_PRACTICE)
        ]
        _copy(
            raw,
            "user_account",
            [
                "id",
                "email",
                "display_name",
                "password_hash",
                "organisation_id",
                "is_active",
                "failed_logins",
                "created_at",
            ],
            (
                (uid, f"user{uid}@bench.invalid", f"User {uid}", "!", org, True, 0, now)
                for uid, org in users
            ),
        )
        _copy(
            raw,
            "user_role",
            ["user_id", "role"],
            ((uid, "clinician" if uid % 3 else "link_worker") for uid, _org in users),
        )
        person_ids = [str(uuid.UUID(int=rng.getrandbits(128), version=4)) for _ in range(people)]
        person_org = [rng.randint(1, PRACTICES) for _ in range(people)]
        _copy(
            raw,
            "person",
            [
                "id",
                "given_name",
                "family_name",
                "name_key",
                "date_of_birth",
                "sex",
                "lsoa21_code",
                "gp_registration",
                "interpreter_needed",
                "no_telephone",
                "text_messages_ok",
                "email_ok",
                "letters_ok",
                "organisation_id",
                "created_at",
                "updated_at",
                "version",
            ],
            (
                (
                    pid,
                    f"Given{i % 5000}",
                    f"Family{i % 20000}",
                    f"given{i % 5000} family{i % 20000}",
                    date(1930, 1, 1) + timedelta(days=rng.randrange(33000)),
                    rng.choice(("female", "male")),
                    rng.choice(lsoas),
                    "registered",
                    False,
                    False,
                    True,
                    True,
                    True,
                    person_org[i],
                    now,
                    now,
                    1,
                )
                for i, pid in enumerate(person_ids)
            ),
        )
        raw.commit()
        print(f"  {people:,} people in {time.perf_counter() - started:.0f} s", flush=True)

        response_ids = [
            str(uuid.UUID(int=rng.getrandbits(128), version=4)) for _ in range(responses)
        ]
        response_person = [rng.randrange(people) for _ in range(responses)]
        _copy(
            raw,
            "questionnaire_response",
            [
                "id",
                "person_id",
                "questionnaire_url",
                "questionnaire_version",
                "status",
                "source",
                "answers",
                "authored_at",
            ],
            (
                (
                    rid,
                    person_ids[response_person[i]],
                    QUESTIONNAIRE,
                    "1.0.0",
                    "completed",
                    "clinician",
                    '{"money-enough": ["no"]}',
                    now - timedelta(days=rng.randrange(1500)),
                )
                for i, rid in enumerate(response_ids)
            ),
        )
        raw.commit()
        print(f"  {responses:,} responses in {time.perf_counter() - started:.0f} s", flush=True)

        statuses = list(STATUS_WEIGHTS)
        weights = list(STATUS_WEIGHTS.values())
        services = [(f"svc-{i}", f"dir-org-{i // 10}") for i in range(SERVICES)]
        need_ids: list[str] = []
        referral_rows = []
        for _ in range(referral_count):
            response = rng.randrange(responses)
            person = response_person[response]
            org = person_org[person]
            user = org * 100 + rng.randrange(USERS_PER_PRACTICE)
            status = rng.choices(statuses, weights)[0]
            created = now - timedelta(days=rng.randrange(1500), minutes=rng.randrange(1440))
            service_id, provider = rng.choice(services)
            social = rng.random() < 0.2
            accepted = status in (ReferralStatus.ACCEPTED, ReferralStatus.IN_PROGRESS)
            referral_rows.append(
                (
                    str(uuid.UUID(int=rng.getrandbits(128), version=4)),
                    person,
                    response,
                    service_id,
                    provider,
                    status.value,
                    social,
                    user,
                    org,
                    (created + timedelta(days=14)).date(),
                    (created + timedelta(days=42)).date() if social and accepted else None,
                    created,
                )
            )
            need_ids.append(str(uuid.UUID(int=rng.getrandbits(128), version=4)))
        need_codes = [rng.choice(NEEDS).code for _ in range(referral_count)]
        _copy(
            raw,
            "identified_need",
            [
                "id",
                "person_id",
                "response_id",
                "question_link_id",
                "need_code",
                "level",
                "snomed_code",
                "snomed_display",
                "sensitive",
                "wants_help",
                "status",
                "recorded_at",
            ],
            (
                (
                    need_ids[i],
                    person_ids[row[1]],
                    response_ids[row[2]],
                    "money-enough",
                    need_codes[i],
                    "need",
                    "1184702004",
                    "Financial insecurity (finding)",
                    False,
                    True,
                    "active",
                    row[11],
                )
                for i, row in enumerate(referral_rows)
            ),
        )
        consent_of_person: dict[int, str] = {}
        consents = []
        for row in referral_rows:
            if row[1] not in consent_of_person:
                consent_of_person[row[1]] = str(uuid.UUID(int=rng.getrandbits(128), version=4))
                consents.append((consent_of_person[row[1]], row))
        _copy(
            raw,
            "referral_consent",
            [
                "id",
                "person_id",
                "status",
                "shared_information",
                "recipient_organization_id",
                "recipient_name",
                "purpose",
                "expires_on",
                "recorded_at",
                "recorded_by_user_id",
            ],
            (
                (
                    consent_id,
                    person_ids[row[1]],
                    "active",
                    "Name, contact details, the needs referred for",
                    row[4],
                    "Bench provider",
                    "Referral for help",
                    TODAY + timedelta(days=365),
                    row[11],
                    row[7],
                )
                for consent_id, row in consents
            ),
        )
        _copy(
            raw,
            "referral",
            [
                "id",
                "person_id",
                "service_id",
                "service_name",
                "provider_organization_id",
                "consent_id",
                "status",
                "is_social_prescription",
                "requester_user_id",
                "requester_organisation_id",
                "follow_up_on",
                "attendance_check_on",
                "created_at",
                "updated_at",
                "version",
            ],
            (
                (
                    row[0],
                    person_ids[row[1]],
                    row[3],
                    f"Service {row[3]}",
                    row[4],
                    consent_of_person[row[1]],
                    row[5],
                    row[6],
                    row[7],
                    row[8],
                    row[9],
                    row[10],
                    row[11],
                    row[11],
                    1,
                )
                for row in referral_rows
            ),
        )
        _copy(
            raw,
            "referral_need",
            ["referral_id", "identified_need_id", "need_code"],
            ((row[0], need_ids[i], need_codes[i]) for i, row in enumerate(referral_rows)),
        )
        raw.commit()
        print(
            f"  {referral_count:,} referrals, needs and consents in "
            f"{time.perf_counter() - started:.0f} s",
            flush=True,
        )
    finally:
        raw.close()
    analyse(database)


def analyse(database: Database) -> None:
    engine = database.engine.execution_options(isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.exec_driver_sql("ANALYZE")


def principal_of(user_id: int) -> Principal:
    return Principal(
        display_name=f"User {user_id}",
        organisation_id=user_id // 100,
        organisation_name=f"Bench practice {user_id // 100}",
        roles=frozenset({Role.CLINICIAN}),
        user_id=user_id,
    )


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def time_lists(database: Database, users: list[int]) -> dict[str, list[float]]:
    timings: dict[str, list[float]] = {"caseload": [], "overdue": []}
    for user_id in users:
        context = AuditContext(user_id=user_id, purpose="benchmark")
        for name in timings:
            start = time.perf_counter()
            with database.session() as session:
                if name == "caseload":
                    page = referrals.caseload(session, context, user_id, today=TODAY)
                    assert page.items or page.total == 0
                else:
                    referrals.overdue(session, context, user_id=user_id, today=TODAY)
            timings[name].append(time.perf_counter() - start)
    return timings


def lists(database: Database, rng: random.Random) -> None:
    users = [
        p * 100 + rng.randrange(USERS_PER_PRACTICE)
        for p in rng.choices(range(1, PRACTICES + 1), k=200)
    ]
    with database.session() as session:
        per_user = session.scalar(
            select(func.count()).select_from(Referral).where(Referral.requester_user_id == users[0])
        )
        open_ = session.scalar(
            select(func.count())
            .select_from(Referral)
            .where(
                Referral.requester_user_id == users[0],
                Referral.status.in_(lifecycle.OPEN_STATUSES),
            )
        )
    print(f"a referrer has about {per_user:,} referrals, {open_:,} of them open")
    time_lists(database, users[:10])  # warm the caches
    chosen = time_lists(database, users)
    engine = database.engine.execution_options(isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        for name in CHOSEN_INDEXES:
            connection.exec_driver_sql(f"DROP INDEX {name}")
    try:
        analyse(database)
        time_lists(database, users[:5])
        baseline = time_lists(database, users[:50])
    finally:
        with engine.connect() as connection:
            for name, definition in CHOSEN_INDEXES.items():
                connection.exec_driver_sql(f"CREATE INDEX {name} ON {definition}")
        analyse(database)
    for name in ("caseload", "overdue"):
        p95, base95 = percentile(chosen[name], 0.95), percentile(baseline[name], 0.95)
        print(
            f"{name}: p50 {statistics.median(chosen[name]) * 1000:.1f} ms, "
            f"p95 {p95 * 1000:.1f} ms over {len(chosen[name])} referrers (target under 150 ms); "
            f"without the chosen indexes (baseline) p95 {base95 * 1000:.0f} ms; "
            f"ratio {base95 / p95:.0f}x"
        )


def status_changes(database: Database, rng: random.Random, writers: int, seconds: float) -> None:
    with database.session() as session:
        pool = [
            (referral_id, user_id)
            for referral_id, user_id in session.execute(
                select(Referral.id, Referral.requester_user_id)
                .where(Referral.status == ReferralStatus.REQUESTED)
                .order_by(Referral.id)
                .limit(20_000)
            )
        ]
        versions_before = dict(
            session.execute(
                select(Referral.id, Referral.version).where(Referral.id.in_([p[0] for p in pool]))
            ).all()
        )
    # Small enough that writers collide now and then, big enough not to run out of work
    # (each referral takes four changes to complete).
    hot = pool[:3000]
    done: Counter[str] = Counter()
    stale = Counter[str]()
    errors: list[str] = []
    lock = threading.Lock()
    stop = time.monotonic() + seconds

    def writer(seed: int) -> None:
        local = random.Random(seed)
        while time.monotonic() < stop:
            referral_id, user_id = local.choice(hot)
            actor = principal_of(user_id)
            context = AuditContext(user_id=user_id, purpose="benchmark")
            for _attempt in range(5):
                try:
                    with database.session() as session:
                        row = session.execute(
                            select(Referral.status, Referral.version).where(
                                Referral.id == referral_id
                            )
                        ).one()
                        status, version = row
                        following = NEXT_STATUS.get(status)
                        if following is None:
                            break
                        referrals.change_status(
                            session,
                            context,
                            referral_id,
                            following,
                            version,
                            outcome="Helped" if following == ReferralStatus.COMPLETED else None,
                            actor=actor,
                            today=TODAY,
                        )
                    with lock:
                        done[referral_id] += 1
                    break
                except StaleReferral:
                    with lock:
                        stale[referral_id] += 1
                except Exception as error:
                    with lock:
                        errors.append(f"{type(error).__name__}: {error}")
                    break

    started = time.perf_counter()
    threads = [threading.Thread(target=writer, args=(rng.random(),)) for _ in range(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - started
    changes = sum(done.values())
    with database.session() as session:
        versions = dict(
            session.execute(
                select(Referral.id, Referral.version).where(Referral.id.in_(list(done)))
            ).all()
        )
        events = dict(
            session.execute(
                select(ReferralEvent.referral_id, func.count())
                .where(
                    ReferralEvent.referral_id.in_(list(done)),
                    ReferralEvent.to_status.is_not(None),
                )
                .group_by(ReferralEvent.referral_id)
            ).all()
        )
    lost = [
        referral_id
        for referral_id, count in done.items()
        if versions[referral_id] - versions_before[referral_id] != count
        or events.get(referral_id, 0) != count
    ]
    print(
        f"status changes: {writers} writers for {wall:.1f} s: {changes / wall:.0f} changes/s "
        f"(target 300); {changes:,} changes on {len(done)} referrals, "
        f"{sum(stale.values())} stale attempts retried, {len(errors)} errors"
        + (f" (first: {errors[0]})" if errors else "")
        + f"; lost updates: {len(lost)}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=DEFAULT_URL)
    parser.add_argument("--people", type=int, default=1_000_000)
    parser.add_argument("--responses", type=int, default=3_000_000)
    parser.add_argument("--referrals", type=int, default=2_000_000)
    parser.add_argument("--writers", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--reuse", action="store_true", help="keep the data of an earlier run")
    parser.add_argument("--only", choices=("lists", "status"), help="run one part only")
    args = parser.parse_args()
    url = make_url(args.database_url)
    if url.get_backend_name() != "postgresql":
        raise SystemExit("this benchmark runs on PostgreSQL: give a postgresql+psycopg:// URL")
    if not args.reuse:
        admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{url.database}" WITH (FORCE)'))
            connection.execute(text(f'CREATE DATABASE "{url.database}"'))
        admin.dispose()
    database = Database(url.render_as_string(hide_password=False))
    if not args.reuse:
        upgrade(database.engine)
        print(
            f"generating {args.people:,} people, {args.responses:,} responses and "
            f"{args.referrals:,} referrals over {sum(1 for _ in geography.lsoas()):,} LSOAs",
            flush=True,
        )
        generate(database, args.people, args.responses, args.referrals)
    rng = random.Random(7)
    if args.only != "status":
        lists(database, rng)
    if args.only != "lists":
        status_changes(database, rng, args.writers, args.seconds)
    database.dispose()


if __name__ == "__main__":
    main()
