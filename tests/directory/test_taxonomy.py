"""The built-in needs taxonomy, tagging services with needs, and curators mapping imported
terms to needs (matching goes through the term's need mapping)."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
from sqlalchemy import event, func, select
from sqlalchemy.orm import Session

from healthequity.audit.models import AuditEvent
from healthequity.audit.schemas import AuditContext
from healthequity.auth.models import Role
from healthequity.directory.models import (
    Attribute,
    Organization,
    RecordChange,
    Service,
    Taxonomy,
    TaxonomyTerm,
)
from healthequity.directory.taxonomy import (
    NEEDS_TAXONOMY_ID,
    UnknownTaxonomyTerm,
    ensure_needs_taxonomy,
    map_term_to_need,
    need_term_id,
    needs_of_service,
    services_meeting_needs,
    stable_id,
    tag_service_with_needs,
)
from healthequity.needs import NEEDS, UnknownNeed
from healthequity.store import Database

CONTEXT = AuditContext(purpose="test")


def _snapshot(session: Session) -> list[tuple[Any, ...]]:
    terms = session.scalars(select(TaxonomyTerm).order_by(TaxonomyTerm.id))
    taxonomies = session.scalars(select(Taxonomy).order_by(Taxonomy.id))
    return [
        *((t.id, t.name, t.description, t.uri, t.version) for t in taxonomies),
        *(
            (t.id, t.code, t.name, t.description, t.taxonomy_id, t.need_code, t.parent_id)
            for t in terms
        ),
    ]


def _service(session: Session, name: str) -> Service:
    organisation_id = stable_id("test", "organization")
    if session.get(Organization, organisation_id) is None:
        session.add(Organization(id=organisation_id, name="Test organisation"))
    service = Service(
        id=stable_id("test", "service", name), organization_id=organisation_id, name=name
    )
    session.add(service)
    session.flush()
    return service


def test_needs_taxonomy_has_every_need_exactly_once(database: Database) -> None:
    with database.session() as session:
        taxonomy = ensure_needs_taxonomy(session)
        assert taxonomy.id == NEEDS_TAXONOMY_ID
        uuid.UUID(taxonomy.id)  # ORUK ids are UUIDs
    with database.session() as session:
        assert session.scalar(select(func.count()).select_from(Taxonomy)) == 1
        terms = list(
            session.scalars(
                select(TaxonomyTerm).where(TaxonomyTerm.taxonomy_id == NEEDS_TAXONOMY_ID)
            )
        )
        assert sorted(term.need_code or "" for term in terms) == sorted(n.code for n in NEEDS)
        assert len(terms) == len(NEEDS)
        for term in terms:
            assert term.code == term.need_code
            assert term.id == need_term_id(term.code or "")
            uuid.UUID(term.id)
        labels = {term.need_code: term.name for term in terms}
        assert labels == {item.code: item.label for item in NEEDS}


def test_ensuring_the_taxonomy_again_changes_nothing(database: Database) -> None:
    with database.session() as session:
        ensure_needs_taxonomy(session)
    with database.session() as session:
        before = _snapshot(session)
    with database.session() as session:
        changes: list[int] = []

        def count_changes(flushing: Session, *_: object) -> None:
            dirty = [row for row in flushing.dirty if flushing.is_modified(row)]
            changes.append(len(flushing.new) + len(dirty) + len(flushing.deleted))

        event.listen(session, "before_flush", count_changes)
        ensure_needs_taxonomy(session)
        assert sum(changes) == 0
    with database.session() as session:
        assert _snapshot(session) == before


def test_term_ids_are_stable_uuids() -> None:
    assert need_term_id("debt") == need_term_id("debt")
    assert need_term_id("debt") != need_term_id("housing")
    assert uuid.UUID(need_term_id("debt")).version == 5
    with pytest.raises(UnknownNeed):
        need_term_id("not-a-need")


def test_tagging_a_service_sets_exactly_the_needs_given(database: Database) -> None:
    with database.session() as session:
        ensure_needs_taxonomy(session)
        service = _service(session, "Advice drop-in")
        tagging = tag_service_with_needs(session, service, ["debt", "housing", "debt"])
        assert tagging.added == ("housing", "debt")
        assert tagging.removed == ()
        assert needs_of_service(session, service.id) == ["housing", "debt"]
        again = tag_service_with_needs(session, service, ["housing", "debt"])
        assert not again.changed
        changed = tag_service_with_needs(session, service, ["debt", "food"])
        assert (changed.added, changed.removed) == (("food",), ("housing",))
        with pytest.raises(UnknownNeed):
            tag_service_with_needs(session, service, ["debt", "astrology"])
    with database.session() as session:
        assert needs_of_service(session, stable_id("test", "service", "Advice drop-in")) == [
            "debt",
            "food",
        ]
        assert session.scalar(select(func.count()).select_from(Attribute)) == 2
        matching = set(session.scalars(services_meeting_needs(["food"])))
        assert matching == {stable_id("test", "service", "Advice drop-in")}
        assert set(session.scalars(services_meeting_needs(["housing"]))) == set()


def test_tagging_creates_the_taxonomy_when_missing(database: Database) -> None:
    with database.session() as session:
        service = _service(session, "Food bank")
        tag_service_with_needs(session, service, ["food"])
        assert needs_of_service(session, service.id) == ["food"]
        assert session.get(Taxonomy, NEEDS_TAXONOMY_ID) is not None


@pytest.mark.usefixtures("fast_password_hashing")
def test_mapping_an_imported_term_makes_its_services_match_the_need(
    database: Database, make_user: Any
) -> None:
    curator = make_user(Role.CURATOR)
    context = AuditContext(
        user_id=curator.user_id, organisation_id=curator.organisation_id, purpose="curation"
    )
    imported_taxonomy = stable_id("test", "lga-service-types")
    imported_term = stable_id("test", "lga-service-types", "debt-counselling")
    with database.session() as session:
        ensure_needs_taxonomy(session)
        session.add(
            Taxonomy(id=imported_taxonomy, name="LGA service types (test copy)", description="")
        )
        session.add(
            TaxonomyTerm(
                id=imported_term,
                code="LGA-123",
                name="Debt counselling",
                taxonomy_id=imported_taxonomy,
            )
        )
        service = _service(session, "Imported debt service")
        session.add(
            Attribute(
                id=stable_id("test", "attribute"),
                link_id=service.id,
                link_entity="service",
                taxonomy_term_id=imported_term,
            )
        )
        session.flush()
        assert needs_of_service(session, service.id) == []
        assert list(session.scalars(services_meeting_needs(["debt"]))) == []

    with database.session() as session:
        term = map_term_to_need(session, context, imported_term, "debt")
        assert term.need_code == "debt"

    service_id = stable_id("test", "service", "Imported debt service")
    with database.session() as session:
        assert needs_of_service(session, service_id) == ["debt"]
        assert list(session.scalars(services_meeting_needs(["debt"]))) == [service_id]
        changes = list(session.scalars(select(RecordChange)))
        assert len(changes) == 1
        assert changes[0].entity_type == "taxonomy_term"
        assert changes[0].entity_id == imported_term
        assert changes[0].user_id == curator.user_id
        assert changes[0].source == "curator"
        assert json.loads(changes[0].change) == {"need_code": [None, "debt"]}
        events = list(
            session.scalars(
                select(AuditEvent).where(AuditEvent.action == "directory.taxonomy_term.map_need")
            )
        )
        assert len(events) == 1
        assert events[0].subject_id == imported_term
        assert events[0].user_id == curator.user_id

    with database.session() as session:
        # The same mapping again records nothing; unmapping records the change.
        map_term_to_need(session, context, imported_term, "debt")
        map_term_to_need(session, context, imported_term, None)
    with database.session() as session:
        assert needs_of_service(session, service_id) == []
        changes = list(session.scalars(select(RecordChange).order_by(RecordChange.id)))
        assert [json.loads(change.change) for change in changes] == [
            {"need_code": [None, "debt"]},
            {"need_code": ["debt", None]},
        ]


def test_mapping_refuses_unknown_needs_and_terms(database: Database) -> None:
    with database.session() as session:
        ensure_needs_taxonomy(session)
        with pytest.raises(UnknownNeed, match="expected one of"):
            map_term_to_need(session, CONTEXT, need_term_id("debt"), "astrology")
        with pytest.raises(UnknownTaxonomyTerm):
            map_term_to_need(session, CONTEXT, stable_id("no", "such", "term"), "debt")
        with pytest.raises(ValueError, match="built-in term"):
            map_term_to_need(session, CONTEXT, need_term_id("debt"), "housing")
        assert session.scalar(select(func.count()).select_from(RecordChange)) == 0
        assert session.scalar(select(func.count()).select_from(AuditEvent)) == 0
