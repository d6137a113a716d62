"""Observation and Condition: each identified need as the SDOH Observation of its SNOMED CT
finding and as a health concern, read and searched. Both share the need's id. Who sees which
is `access.visible_needs`; every read and search is audited with how many sensitive needs
it showed, and the sensitive ones are named by person."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from fhir.resources.R4B.resource import Resource
from sqlalchemy import ColumnElement, false, select, true
from sqlalchemy.orm import Session

from healthequity.audit.schemas import AuditContext
from healthequity.auth.schemas import Principal
from healthequity.fhir_api.access import audit_sensitive, audit_view, visible_needs
from healthequity.fhir_api.exceptions import not_found
from healthequity.fhir_api.search import (
    SearchQuery,
    date_conditions,
    each_occurrence,
    is_value,
    page_of,
    reference_id,
    token,
)
from healthequity.social_history.fhir import (
    HEALTH_CONCERN,
    NEED_SYSTEM,
    SDOH,
    SNOMED,
    SOCIAL_HISTORY,
    condition_resources,
    observation_resources,
)
from healthequity.social_history.models import IdentifiedNeed, NeedStatus

CLINICAL_STATUS_SYSTEM = "http://terminology.hl7.org/CodeSystem/condition-clinical"
OBSERVATION_STATUS_SYSTEM = "http://hl7.org/fhir/observation-status"
OBSERVATION, CONDITION = "Observation", "Condition"
Builder = Callable[[Sequence[IdentifiedNeed]], Sequence[Resource]]
BUILDERS: dict[str, Builder] = {
    OBSERVATION: observation_resources,
    CONDITION: condition_resources,
}
# The categories every need's resource carries, besides the need itself.
FIXED_CATEGORIES = {
    OBSERVATION: (SOCIAL_HISTORY, SDOH),
    CONDITION: (HEALTH_CONCERN, SDOH),
}


def read_need(
    session: Session,
    context: AuditContext,
    principal: Principal,
    resource_type: str,
    need_id: str,
) -> Resource:
    need = session.scalar(
        select(IdentifiedNeed).where(IdentifiedNeed.id == need_id, visible_needs(principal))
    )
    if need is None:
        raise not_found(f"no {resource_type} {need_id!r} among those you can see")
    audit_view(session, context, resource_type, "read", [need], sensitive=int(need.sensitive))
    audit_sensitive(session, context, resource_type, [(need.person_id, _sensitive_ids([need]))])
    return BUILDERS[resource_type]([need])[0]


def _sensitive_ids(needs: Sequence[IdentifiedNeed]) -> list[str]:
    return [need.id for need in needs if need.sensitive]


def _category(resource_type: str, value: str) -> ColumnElement[bool]:
    wanted = token(value)
    for fixed in FIXED_CATEGORIES[resource_type]:
        if wanted.matches_system(fixed["system"]) and wanted.code in (None, fixed["code"]):
            return true()
    if not wanted.matches_system(NEED_SYSTEM):
        return false()
    return true() if wanted.code is None else IdentifiedNeed.need_code == wanted.code


def _code(value: str) -> ColumnElement[bool]:
    wanted = token(value)
    if not wanted.matches_system(SNOMED):
        return false()
    return true() if wanted.code is None else IdentifiedNeed.snomed_code == wanted.code


def _status(value: str) -> ColumnElement[bool]:
    wanted = token(value)
    final = wanted.code == "final" and wanted.matches_system(OBSERVATION_STATUS_SYSTEM)
    return true() if final else false()


def _clinical_status(value: str) -> ColumnElement[bool]:
    wanted = token(value)
    if not wanted.matches_system(CLINICAL_STATUS_SYSTEM):
        return false()
    return is_value(IdentifiedNeed.status, NeedStatus, wanted.code)


def search_needs(
    session: Session,
    context: AuditContext,
    principal: Principal,
    query: SearchQuery,
) -> tuple[list[Resource], int]:
    resource_type = query.resource_type
    conditions = [visible_needs(principal)]
    conditions += each_occurrence(query, "_id", lambda v: IdentifiedNeed.id == v)
    conditions += each_occurrence(
        query,
        "patient",
        lambda v: IdentifiedNeed.person_id == reference_id("patient", v, "Patient"),
    )
    conditions += each_occurrence(query, "category", lambda v: _category(resource_type, v))
    conditions += each_occurrence(query, "code", _code)
    conditions += each_occurrence(query, "status", _status)
    conditions += each_occurrence(query, "clinical-status", _clinical_status)
    conditions += date_conditions(query, ("date", "recorded-date"), IdentifiedNeed.recorded_at)
    needs, total = page_of(
        session,
        select(IdentifiedNeed).where(*conditions),
        query,
        IdentifiedNeed.recorded_at.desc(),
        IdentifiedNeed.id,
    )
    sensitive = sum(need.sensitive for need in needs)
    audit_view(session, context, resource_type, "search", needs, sensitive=sensitive)
    audit_sensitive(
        session,
        context,
        resource_type,
        [(need.person_id, _sensitive_ids([need])) for need in needs],
    )
    return list(BUILDERS[resource_type](needs)), total
