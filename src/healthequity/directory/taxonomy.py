"""The built-in needs taxonomy in the database, and how services are matched to needs.

The vocabulary of social needs (`healthequity.needs`) is kept in the directory as one ORUK
taxonomy with one term per need. Services are tagged with terms through ORUK attributes.
Terms of imported taxonomies (for example the LGA service types) are kept as they come and
a curator may map each to a need; matching a service to a need always goes through the
term's `need_code`, so a service tagged only with an imported term counts once its term is
mapped.

Identifiers are UUIDs (ORUK requires them), derived with uuid5 from a fixed namespace so
that they are the same in every database and every run.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from healthequity.audit.schemas import AuditContext
from healthequity.audit.service import record_event
from healthequity.directory.models import Attribute, RecordChange, Service, TaxonomyTerm
from healthequity.directory.models import Taxonomy as TaxonomyRow
from healthequity.needs import NEEDS, NEEDS_BY_CODE, need

# The namespace of every identifier healthequity derives for directory records.
DIRECTORY_NAMESPACE = uuid.UUID("5d0c5a3e-8f1b-4c55-9a4e-2f6b1c9d7e10")

# The stable key of the built-in taxonomy; its row id is the UUID derived from it.
NEEDS_TAXONOMY_KEY = "healthequity-needs"
NEEDS_TAXONOMY_NAME = "healthequity social needs"
NEEDS_TAXONOMY_VERSION = "1"
NEEDS_TAXONOMY_DESCRIPTION = (
    "The social needs that health professionals ask about in a social history and refer "
    "people on for (Working for Health Equity, UCL Institute of Health Equity, 2013): "
    "one term per need."
)

SERVICE_ENTITY = "service"


def stable_id(*parts: str) -> str:
    """A UUID (as a string) derived from `parts`: the same for the same parts, always."""
    return str(uuid.uuid5(DIRECTORY_NAMESPACE, ":".join(parts)))


NEEDS_TAXONOMY_ID = stable_id("taxonomy", NEEDS_TAXONOMY_KEY)


def need_term_id(need_code: str) -> str:
    """The id of the built-in taxonomy's term for this need (UnknownNeed if not a need)."""
    return stable_id("taxonomy_term", NEEDS_TAXONOMY_KEY, need(need_code).code)


def need_attribute_id(service_id: str, need_code: str) -> str:
    """The id of the attribute that tags this service with this need's built-in term."""
    return stable_id("attribute", SERVICE_ENTITY, service_id, need_term_id(need_code))


class UnknownTaxonomyTerm(LookupError):
    """A taxonomy term id that is not in the directory."""


def ensure_needs_taxonomy(session: Session) -> TaxonomyRow:
    """Create or update the built-in needs taxonomy and its terms (one per need).

    Idempotent: a second run changes nothing. Terms of needs no longer in the vocabulary
    are kept (services may still be tagged with them) but lose their need mapping.
    """
    taxonomy = session.get(TaxonomyRow, NEEDS_TAXONOMY_ID)
    if taxonomy is None:
        taxonomy = TaxonomyRow(id=NEEDS_TAXONOMY_ID)
        session.add(taxonomy)
    _set(
        taxonomy,
        name=NEEDS_TAXONOMY_NAME,
        description=NEEDS_TAXONOMY_DESCRIPTION,
        uri=None,
        version=NEEDS_TAXONOMY_VERSION,
    )
    existing = {
        term.id: term
        for term in session.scalars(
            select(TaxonomyTerm).where(TaxonomyTerm.taxonomy_id == NEEDS_TAXONOMY_ID)
        )
    }
    wanted = set()
    for item in NEEDS:
        term_id = need_term_id(item.code)
        wanted.add(term_id)
        term = existing.get(term_id)
        if term is None:
            term = TaxonomyTerm(id=term_id, taxonomy_id=NEEDS_TAXONOMY_ID)
            session.add(term)
        _set(
            term,
            code=item.code,
            name=item.label,
            description=item.description,
            parent_id=None,
            term_uri=None,
            need_code=item.code,
        )
    for term_id, term in existing.items():
        if term_id not in wanted and term.need_code is not None:
            term.need_code = None
    session.flush()
    return taxonomy


def map_term_to_need(
    session: Session, context: AuditContext, term_id: str, need_code: str | None
) -> TaxonomyTerm:
    """Map a taxonomy term (of an imported taxonomy) to a need, or unmap it with None.

    Validates the need code (UnknownNeed) and the term (UnknownTaxonomyTerm); records the
    change in the directory history and the audit log. Mapping a term to the need it
    already has changes and records nothing. The built-in needs terms map to themselves
    and cannot be remapped.
    """
    if need_code is not None:
        need_code = need(need_code).code
    term = session.get(TaxonomyTerm, term_id)
    if term is None:
        raise UnknownTaxonomyTerm(f"no taxonomy term with id {term_id!r} in the directory")
    if term.taxonomy_id == NEEDS_TAXONOMY_ID and need_code != term.need_code:
        raise ValueError(
            f"term {term_id!r} is the built-in term for need {term.need_code!r} "
            "and cannot be mapped to another need"
        )
    before = term.need_code
    if before == need_code:
        return term
    term.need_code = need_code
    session.add(
        RecordChange(
            entity_type="taxonomy_term",
            entity_id=term.id,
            user_id=context.user_id,
            source="curator",
            change=json.dumps({"need_code": [before, need_code]}, sort_keys=True),
        )
    )
    record_event(
        session,
        context,
        "directory.taxonomy_term.map_need",
        subject_type="directory_taxonomy_term",
        subject_id=term.id,
        detail={"need_code": [before, need_code], "term_name": term.name},
    )
    return term


def _order_of_needs(codes: Iterable[str]) -> list[str]:
    """Need codes in the vocabulary's order, once each; codes not in it last, sorted."""
    unique = set(codes)
    known = [item.code for item in NEEDS if item.code in unique]
    return known + sorted(unique - set(NEEDS_BY_CODE))


def needs_of_service(session: Session, service_id: str) -> list[str]:
    """The needs a service meets: the need codes of every term it is tagged with (built-in
    or imported and mapped by a curator), in the vocabulary's order."""
    codes = session.scalars(
        select(TaxonomyTerm.need_code)
        .join(Attribute, Attribute.taxonomy_term_id == TaxonomyTerm.id)
        .where(
            Attribute.link_id == service_id,
            Attribute.link_entity == SERVICE_ENTITY,
            TaxonomyTerm.need_code.is_not(None),
        )
        .distinct()
    )
    return _order_of_needs(code for code in codes if code is not None)


def services_meeting_needs(need_codes: Iterable[str]) -> Select[str]:
    """A query of the ids of services that meet any of these needs (through the term's
    need mapping), for use as a subquery: `Service.id.in_(services_meeting_needs(...))`."""
    codes = sorted({need(code).code for code in need_codes})
    return (
        select(Attribute.link_id)
        .join(TaxonomyTerm, Attribute.taxonomy_term_id == TaxonomyTerm.id)
        .where(Attribute.link_entity == SERVICE_ENTITY, TaxonomyTerm.need_code.in_(codes))
        .distinct()
    )


@dataclass(frozen=True, slots=True)
class NeedTagging:
    """What `tag_service_with_needs` changed: need codes added and removed."""

    added: tuple[str, ...]
    removed: tuple[str, ...]

    @property
    def changed(self) -> bool:
        return bool(self.added or self.removed)


def tag_service_with_needs(
    session: Session, service: Service, need_codes: Iterable[str]
) -> NeedTagging:
    """Tag a service with exactly these needs of the built-in taxonomy.

    Adds an attribute (service -> need term) for each need it lacks and removes those of
    needs not given; attributes with terms of other (imported) taxonomies are left alone.
    Validates every code first (UnknownNeed). Creates the needs taxonomy if it is missing.
    """
    wanted = _order_of_needs(need(code).code for code in need_codes)
    if session.get(TaxonomyRow, NEEDS_TAXONOMY_ID) is None:
        ensure_needs_taxonomy(session)
    current = {
        attribute.taxonomy_term_id: attribute
        for attribute in session.scalars(
            select(Attribute)
            .join(TaxonomyTerm, Attribute.taxonomy_term_id == TaxonomyTerm.id)
            .where(
                Attribute.link_id == service.id,
                Attribute.link_entity == SERVICE_ENTITY,
                TaxonomyTerm.taxonomy_id == NEEDS_TAXONOMY_ID,
            )
        )
    }
    current_codes = {
        attribute.taxonomy_term.need_code or attribute.taxonomy_term.code or ""
        for attribute in current.values()
    }
    wanted_terms = {need_term_id(code): code for code in wanted}
    added = [code for code in wanted if code not in current_codes]
    removed_ids = [term_id for term_id in current if term_id not in wanted_terms]
    removed = _order_of_needs(
        current[term_id].taxonomy_term.need_code or current[term_id].taxonomy_term.code or ""
        for term_id in removed_ids
    )
    for code in added:
        session.add(
            Attribute(
                id=need_attribute_id(service.id, code),
                link_id=service.id,
                link_entity=SERVICE_ENTITY,
                taxonomy_term_id=need_term_id(code),
                label=NEEDS_BY_CODE[code].label,
            )
        )
    for term_id in removed_ids:
        session.delete(current[term_id])
    session.flush()
    return NeedTagging(tuple(added), tuple(removed))


def _set(row: object, **values: object) -> bool:
    """Set attributes that differ; True if any did (so unchanged rows stay clean)."""
    changed = False
    for name, value in values.items():
        if getattr(row, name) != value:
            setattr(row, name, value)
            changed = True
    return changed


__all__ = [
    "DIRECTORY_NAMESPACE",
    "NEEDS_TAXONOMY_ID",
    "NEEDS_TAXONOMY_KEY",
    "NEEDS_TAXONOMY_NAME",
    "NeedTagging",
    "UnknownTaxonomyTerm",
    "ensure_needs_taxonomy",
    "map_term_to_need",
    "need_attribute_id",
    "need_term_id",
    "needs_of_service",
    "services_meeting_needs",
    "stable_id",
    "tag_service_with_needs",
]
