"""Two people update one referral at the same moment, from the same version, each in a
thread of their own with their own session and connection: exactly one wins, the other is
told the referral is stale, reads it again and retries, and both changes are kept. On SQLite
the second writer waits on the busy timeout for the first to commit (WAL mode)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from healthequity.referrals import service
from healthequity.referrals.exceptions import StaleReferral
from healthequity.referrals.models import Referral, ReferralEvent, ReferralEventKind, ReferralStatus
from healthequity.store import Database

from .conftest import TODAY, World, context_of, refer

S = ReferralStatus
ROUNDS = 4
NEW_FOLLOW_UP = TODAY + timedelta(days=10)


def race(
    database: Database, referral_id: str, writers: dict[str, Callable[..., object]]
) -> dict[str, str]:
    """Run the writers at once; each reads the referral, waits for the others to have read
    it too, then writes with the version it read. A writer told its version is stale reads
    again and retries. What happened to each writer, first time round."""
    barrier = threading.Barrier(len(writers))
    first_try: dict[str, str] = {}
    failures: list[BaseException] = []

    def run(name: str, write: Callable[..., object]) -> None:
        try:
            with database.session() as session:
                seen = session.get(Referral, referral_id)
                assert seen is not None
                version = seen.version
                barrier.wait(timeout=30)
                write(session, version)
            first_try[name] = "committed"
        except StaleReferral as stale:
            where = "at the update" if isinstance(stale.__context__, StaleDataError) else "on read"
            first_try[name] = f"stale {stale.expected_version}->{stale.current_version} {where}"
            with database.session() as session:
                fresh = session.get(Referral, referral_id)
                assert fresh is not None
                write(session, fresh.version)
        except BaseException as error:  # surfaced in the test's thread below
            failures.append(error)

    threads = [threading.Thread(target=run, args=item) for item in writers.items()]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not failures, failures
    return first_try


def status_and_follow_up_writers(
    world: World, referral_id: str
) -> dict[str, Callable[..., object]]:
    """The provider starts work while the link worker moves the follow-up date."""
    provider, link_worker = world.provider, world.link_worker

    def start(session: Session, version: int) -> object:
        return service.change_status(
            session, context_of(provider), referral_id, S.IN_PROGRESS, version, actor=provider
        )

    def move_follow_up(session: Session, version: int) -> object:
        return service.reschedule_follow_up(
            session,
            context_of(link_worker),
            referral_id,
            version,
            NEW_FOLLOW_UP,
            note="Chased the provider",
            actor=link_worker,
            today=TODAY,
        )

    return {"provider starts": start, "link worker moves the follow-up": move_follow_up}


def test_two_concurrent_writers_never_lose_an_update(world: World) -> None:
    provider = world.provider
    for _ in range(ROUNDS):
        with world.database.session() as session:
            referral = refer(session, world)
            service.change_status(
                session, context_of(provider), referral.id, S.ACCEPTED, 1, actor=provider
            )
            referral_id = referral.id
        outcome = race(
            world.database, referral_id, status_and_follow_up_writers(world, referral_id)
        )
        # Exactly one won. The other had read version 2 as well, so the comparison with the
        # version it read passed, and the versioned UPDATE (matching no row) caught it.
        assert sorted(outcome.values()) == ["committed", "stale 2->3 at the update"], outcome
        with world.database.session() as session:
            stored = session.get(Referral, referral_id)
            assert stored is not None
            assert (stored.status, stored.follow_up_on, stored.version) == (
                S.IN_PROGRESS,
                NEW_FOLLOW_UP,
                4,
            )
            kinds = [
                (event.kind, event.to_status)
                for event in session.scalars(
                    select(ReferralEvent)
                    .where(ReferralEvent.referral_id == referral_id)
                    .order_by(ReferralEvent.id)
                )
            ]
            assert kinds[:2] == [
                (ReferralEventKind.STATUS, S.REQUESTED),
                (ReferralEventKind.STATUS, S.ACCEPTED),
            ]
            assert sorted(kinds[2:]) == sorted(
                [(ReferralEventKind.STATUS, S.IN_PROGRESS), (ReferralEventKind.FOLLOW_UP, None)]
            )


def test_the_same_change_twice_at_once_is_made_once(world: World) -> None:
    """Two provider users accept the same referral at once: one acceptance is recorded, and
    the other, reading again, finds it accepted and has nothing left to do."""
    provider = world.provider
    with world.database.session() as session:
        referral_id = refer(session, world).id

    def accept(session: Session, version: int) -> None:
        current = session.get(Referral, referral_id)
        if current is not None and current.status != S.ACCEPTED:
            service.change_status(
                session, context_of(provider), referral_id, S.ACCEPTED, version, actor=provider
            )

    outcome = race(world.database, referral_id, {"first": accept, "second": accept})
    assert sorted(outcome.values()) == ["committed", "stale 1->2 at the update"], outcome
    with world.database.session() as session:
        statuses = session.scalars(
            select(ReferralEvent.to_status).where(ReferralEvent.referral_id == referral_id)
        ).all()
        assert sorted(statuses) == sorted([S.REQUESTED, S.ACCEPTED])
