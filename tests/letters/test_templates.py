"""Letter templates in the database, on each database: the built-in ones copied in once and
versioned with their files; an organisation's own, which its organisation administrators
create and change (every change a new version, a change from an older version refused);
and who is offered which."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import pytest
from sqlalchemy import func, select

from healthequity.audit.models import AuditEvent
from healthequity.auth.models import Role
from healthequity.letters import service
from healthequity.letters.exceptions import (
    InvalidTemplate,
    StaleTemplate,
    TemplateNotEditable,
    TemplateNotFound,
)
from healthequity.letters.models import LetterTemplate, LetterTemplateVersion, RecipientKind
from healthequity.store import Database

from .conftest import PRACTICE, Practice, principal_of

EDIT = service.TemplateEdit(
    name="Supporting a school place appeal",
    recipient_kind="other",
    body="Dear Sir or Madam,\n\nRe: {{ person.name }}\n\nI support the appeal.\n",
)


def _count(database: Database, model: Any) -> int:
    with database.session() as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


def test_built_in_templates_are_copied_in_once_with_their_first_version(
    practice: Practice,
) -> None:
    builtins = service.builtin_templates()
    with practice.database.session() as session:
        offered = service.templates_to_write(session, practice.clinician)
        service.sync_builtin_templates(session)
    assert [t.id for t in offered[: len(builtins)]] == [
        b.template_id
        for b in sorted(builtins, key=lambda b: list(RecipientKind).index(b.recipient_kind))
    ]
    assert offered[0].recipient_kind is RecipientKind.HOUSING_OFFICE
    assert all(t.builtin and t.version == 1 and t.active for t in offered)
    assert _count(practice.database, LetterTemplate) == len(builtins)
    assert _count(practice.database, LetterTemplateVersion) == len(builtins)


def test_a_built_in_template_with_a_new_version_in_its_file_gets_a_new_version(
    practice: Practice, monkeypatch: pytest.MonkeyPatch
) -> None:
    with practice.database.session() as session:
        service.sync_builtin_templates(session)
    first, *others = service.builtin_templates()
    newer = dataclasses.replace(first, version=2, body=first.body + "\nP.S. New paragraph.")
    monkeypatch.setattr(service, "builtin_templates", lambda: (newer,))
    with practice.database.session() as session:
        service.sync_builtin_templates(session)
        template = session.get(LetterTemplate, first.template_id)
        assert template is not None
        assert (template.version, template.body) == (2, newer.body)
        versions = service.template_versions(session, first.template_id)
        assert [(v.version, v.body) for v in versions] == [(2, newer.body), (1, first.body)]
        # No longer shipped: no longer offered, but kept for the letters written from them.
        gone = [session.get(LetterTemplate, other.template_id) for other in others]
        assert all(t is not None and not t.active for t in gone)
        offered = service.templates_to_write(session, practice.clinician)
    assert [t.id for t in offered] == [first.template_id]


def test_an_organisation_administrator_adds_a_template_offered_to_their_organisation_only(
    practice: Practice, make_user: Any
) -> None:
    lead = principal_of(make_user(Role.ORG_ADMIN, organisation=PRACTICE), name="Pat Lead")
    elsewhere = principal_of(make_user(Role.CLINICIAN, organisation="Elsewhere"), "Elsewhere")
    with practice.database.session() as session:
        template = service.create_template(session, practice.context(lead), lead, EDIT)
        template_id = template.id
    with practice.database.session() as session:
        ours = [t.id for t in service.templates_to_write(session, practice.clinician)]
        theirs = [t.id for t in service.templates_to_write(session, elsewhere)]
        assert template_id in ours
        assert template_id not in theirs
        with pytest.raises(TemplateNotFound):
            service.get_template(session, elsewhere, template_id)
        stored = service.get_template(session, practice.clinician, template_id)
        assert (stored.name, stored.version, stored.organisation_id) == (
            EDIT.name,
            1,
            lead.organisation_id,
        )
        [version] = service.template_versions(session, template_id)
        assert (version.body, version.created_by_user_id) == (EDIT.body, lead.user_id)
        [event] = session.scalars(
            select(AuditEvent).where(AuditEvent.action == "letters.template.create")
        )
        assert (event.subject_id, event.user_id) == (template_id, lead.user_id)
        assert json.loads(event.detail or "") == {"active": True, "name": EDIT.name, "version": 1}


def test_clinicians_may_not_add_templates(practice: Practice) -> None:
    with practice.database.session() as session, pytest.raises(TemplateNotEditable):
        service.create_template(session, practice.context(), practice.clinician, EDIT)


def test_a_template_that_is_not_valid_is_refused_naming_each_field_and_line(
    practice: Practice, make_user: Any
) -> None:
    lead = principal_of(make_user(Role.ORG_ADMIN, organisation=PRACTICE))
    wrong = service.TemplateEdit(
        name="  ",
        recipient_kind="landlord",
        body="Dear Sir,\r\n\r\nRe: {{ person.name }}\r\n{{ person.adress }}\r\n"
        "{{ clinician.title }}",
    )
    with practice.database.session() as session, pytest.raises(InvalidTemplate) as raised:
        service.create_template(session, practice.context(lead), lead, wrong)
    assert raised.value.errors == [
        ("name", "Enter a name for the template"),
        ("recipient_kind", "Choose who letters from this template are for"),
        (
            "body",
            "Line 4: there is no placeholder person.adress: use one of person.name, "
            "person.first_name, person.last_name, person.date_of_birth, person.age, "
            "person.nhs_number, person.postcode",
        ),
        (
            "body",
            "Line 5: there is no placeholder clinician.title: use one of clinician.name, "
            "clinician.role, clinician.organisation, clinician.email",
        ),
    ]
    assert _count(practice.database, LetterTemplate) == 0


def test_every_change_is_a_new_version_and_a_change_from_an_old_version_is_refused(
    practice: Practice, make_user: Any
) -> None:
    lead = principal_of(make_user(Role.ORG_ADMIN, organisation=PRACTICE))
    context = practice.context(lead)
    with practice.database.session() as session:
        template_id = service.create_template(session, context, lead, EDIT).id
    changed = dataclasses.replace(EDIT, body=EDIT.body + "\nThank you.\n")
    with practice.database.session() as session:
        fields = service.update_template(
            session, context, lead, template_id, changed, expected_version=1
        )
        assert fields == ["body"]
        # Only whether it is offered: not a new version of the letter.
        offered = service.update_template(
            session,
            context,
            lead,
            template_id,
            dataclasses.replace(changed, active=False),
            expected_version=2,
        )
        assert offered == ["active"]
        assert (
            service.update_template(
                session,
                context,
                lead,
                template_id,
                dataclasses.replace(changed, active=False),
                expected_version=2,
            )
            == []
        )
    with practice.database.session() as session:
        template = service.get_template(session, lead, template_id)
        assert (template.version, template.active, template.body) == (2, False, changed.body)
        versions = service.template_versions(session, template_id)
        assert [(v.version, v.body) for v in versions] == [(2, changed.body), (1, EDIT.body)]
        assert template_id not in [
            t.id for t in service.templates_to_write(session, practice.clinician)
        ]
    # Someone still editing version 1 cannot overwrite version 2.
    with (
        practice.database.session() as session,
        pytest.raises(
            StaleTemplate, match=r"someone saved version 2 .* while you were changing version 1"
        ),
    ):
        service.update_template(session, context, lead, template_id, EDIT, expected_version=1)
    with practice.database.session() as session:
        assert len(service.template_versions(session, template_id)) == 2


def test_built_in_and_other_organisations_templates_cannot_be_changed(
    practice: Practice, make_user: Any
) -> None:
    lead = principal_of(make_user(Role.ORG_ADMIN, organisation=PRACTICE))
    other_lead = principal_of(make_user(Role.ORG_ADMIN, organisation="Elsewhere"), "Elsewhere")
    admin = principal_of(make_user(Role.ADMIN, organisation="The ICB"), "The ICB")
    builtin = service.builtin_templates()[0]
    with practice.database.session() as session:
        ours = service.create_template(session, practice.context(lead), lead, EDIT).id
    with practice.database.session() as session:
        with pytest.raises(TemplateNotEditable, match="make a copy"):
            service.update_template(
                session,
                practice.context(admin),
                admin,
                builtin.template_id,
                EDIT,
                expected_version=1,
            )
        with pytest.raises(TemplateNotFound):
            service.update_template(
                session, practice.context(other_lead), other_lead, ours, EDIT, expected_version=1
            )
        # Administrators see and may change every organisation's.
        assert ours in [t.id for t in service.templates_to_edit(session, admin)]
        assert ours not in [t.id for t in service.templates_to_edit(session, other_lead)]
        renamed = dataclasses.replace(EDIT, name="Renamed by the administrator")
        assert service.update_template(
            session, practice.context(admin), admin, ours, renamed, expected_version=1
        ) == ["name"]
