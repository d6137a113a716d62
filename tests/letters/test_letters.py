"""Letters about a person, on each database: drafted from a template with the values of their
record and social history, sensitive needs only when ticked, issued as a PDF kept on the
record with its SHA-256 and audited, keeping the template version they were written from;
and refused to anyone outside the person's care team."""

from __future__ import annotations

import dataclasses
import hashlib
import io
import json
from typing import Any

import pytest
from pypdf import PdfReader
from sqlalchemy import func, select, update

from healthequity.audit.models import AuditEvent
from healthequity.auth.models import Role
from healthequity.letters import service
from healthequity.letters.exceptions import (
    InvalidLetter,
    LetterAltered,
    LetterNotFound,
    TemplateNotFound,
)
from healthequity.letters.models import Letter, RecipientKind
from healthequity.people import service as people
from healthequity.people.exceptions import PersonAccessDenied
from healthequity.people.schemas import PersonDetails

from .conftest import PRACTICE, Practice, principal_of

RECIPIENT = service.Recipient(
    "Housing Options, Leeds City Council", "Merrion House\n110 Merrion Centre\nLeeds\nLS2 8BB"
)
EXTRA = "The mould is in the bedroom where his son sleeps, and his asthma is worse this winter."


def _housing() -> service.BuiltinTemplate:
    return next(
        b for b in service.builtin_templates() if b.recipient_kind is RecipientKind.HOUSING_OFFICE
    )


def _draft(practice: Practice, **changes: Any) -> service.Draft:
    arguments: dict[str, Any] = {
        "principal": practice.clinician,
        "template_id": _housing().template_id,
        "extra_text": EXTRA,
        "recipient": RECIPIENT,
        "job_title": "GP",
        "need_codes": None,
        **changes,
    }
    principal = arguments.pop("principal")
    with practice.database.session() as session:
        return service.draft_letter(
            session,
            practice.context(principal),
            principal,
            practice.person_id,
            arguments.pop("template_id"),
            arguments.pop("extra_text"),
            arguments.pop("recipient"),
            **arguments,
        )


def _issue(practice: Practice, draft: service.Draft, text: str | None = None) -> str:
    with practice.database.session() as session:
        letter = service.issue_letter(
            session,
            practice.context(),
            practice.clinician,
            practice.person_id,
            draft.template_id,
            draft.template_version,
            draft.text if text is None else text,
            RECIPIENT,
            job_title="GP",
        )
        return letter.id


def _pdf_text(pdf: bytes) -> str:
    """The PDF's text, with every run of white space (line ends included) one space."""
    pages = PdfReader(io.BytesIO(pdf)).pages
    return " ".join(" ".join(page.extract_text() for page in pages).split())


def _events(practice: Practice, action: str) -> list[AuditEvent]:
    with practice.database.session() as session:
        return list(
            session.scalars(
                select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)
            )
        )


def test_a_draft_is_filled_in_from_the_record_and_the_social_history(practice: Practice) -> None:
    draft = _draft(practice)
    assert draft.template_id == _housing().template_id
    assert draft.template_version == 1
    assert draft.needs_included == ("homelessness", "fuel_poverty", "food")
    text = draft.text
    assert text.startswith(
        "Dear Sir or Madam,\n\nRe: Mihai Lăcătuș, date of birth 7 November 1961, NHS number "
        "943 476 5919, postcode LS7 3QH\n\nI am writing in support of Mihai Lăcătuș. I am their "
        "GP at Chapeltown Health Centre. Mihai has asked me to write"
    )
    assert (
        "When we talked about their home and circumstances, Mihai told me about:\n"
        "- Homelessness: Finding of temporary shelter arrangements\n"
        "- Cold or damp home and fuel poverty: Lives in damp conditions\n"
        "- Food: Food insecurity\n\n" + EXTRA
    ) in text
    assert text.endswith("Yours sincerely,")
    [event] = _events(practice, "letters.draft")
    assert (event.subject_type, event.subject_id) == ("person", practice.person_id)
    assert json.loads(event.detail or "") == {
        "needs_included": 3,
        "sensitive_needs_included": 0,
        "template_id": _housing().template_id,
        "template_version": 1,
    }


def test_sensitive_needs_are_left_out_unless_ticked(practice: Practice) -> None:
    assert "abuse" not in _draft(practice).text.lower()
    assert "abuse" not in _draft(practice, need_codes={"fuel_poverty"}).text.lower()
    ticked = _draft(practice, need_codes={"fuel_poverty", "domestic_abuse"})
    assert ticked.needs_included == ("fuel_poverty", "domestic_abuse")
    assert "- Domestic abuse: Victim of intimate partner abuse\n" in ticked.text
    assert "Homelessness" not in ticked.text
    details = [json.loads(e.detail or "") for e in _events(practice, "letters.draft")]
    assert [d["sensitive_needs_included"] for d in details] == [0, 0, 1]
    # The audit log counts the sensitive needs, never names them.
    assert all("abuse" not in (e.detail or "") for e in _events(practice, "letters.draft"))


def test_sensitive_needs_are_offered_to_clinical_users_only_and_showing_them_is_audited(
    practice: Practice, make_user: Any
) -> None:
    admin = principal_of(make_user(Role.ADMIN, organisation="The ICB"), "The ICB")
    with practice.database.session() as session:
        person = people.get_person(session, practice.context(), practice.person_id)
        offered = service.needs_for_letter(session, practice.context(), practice.clinician, person)
        to_admin = service.needs_for_letter(session, practice.context(admin), admin, person)
    assert [(n.code, n.level.value, n.sensitive) for n in offered] == [
        ("homelessness", "need", False),
        ("fuel_poverty", "need", False),
        ("food", "at_risk", False),
        ("domestic_abuse", "need", True),
    ]
    assert [n.code for n in to_admin] == ["homelessness", "fuel_poverty", "food"]
    [event] = _events(practice, "social_history.sensitive.view")
    assert (event.user_id, json.loads(event.detail or "")) == (
        practice.clinician.user_id,
        {"page": "letter_form", "shown": list(offered[-1].identified_need_ids)},
    )
    with pytest.raises(InvalidLetter) as raised:
        _draft(practice, principal=admin, need_codes={"domestic_abuse"})
    assert raised.value.errors == [
        ("needs", "domestic_abuse: not among Mihai Lăcătuș's current needs")
    ]


def test_a_letter_without_a_recipient_or_job_title_is_refused_naming_each_field(
    practice: Practice,
) -> None:
    with pytest.raises(InvalidLetter) as raised:
        _draft(
            practice,
            recipient=service.Recipient(" ", "\n".join(f"line {n}" for n in range(9))),
            job_title="",
            extra_text="x" * 5001,
        )
    assert raised.value.errors == [
        ("recipient_name", "Enter who the letter is to, like Housing Options, Leeds City Council"),
        ("recipient_address", "The address must be 8 lines or fewer"),
        ("job_title", "Enter your job title, like GP or Practice nurse"),
        ("extra_text", "What you add must be 5,000 characters or fewer"),
    ]
    with pytest.raises(InvalidLetter) as raised:
        _issue(practice, _draft(practice), text="  \n ")
    assert raised.value.errors == [("text", "Enter the text of the letter")]


def test_an_issued_letter_is_a_pdf_kept_on_the_record_with_its_sha256_and_audited(
    practice: Practice,
) -> None:
    draft = _draft(practice)
    changed = draft.text.replace(
        "Yours sincerely,", "I have known Mihai for six years.\n\nYours sincerely,"
    )
    letter_id = _issue(practice, draft, changed)
    with practice.database.session() as session:
        letter = session.get(Letter, letter_id)
        assert letter is not None
        assert letter.person_id == practice.person_id
        assert (letter.template_id, letter.template_version) == (draft.template_id, 1)
        assert letter.text == changed
        assert (letter.recipient_name, letter.recipient_address) == (
            RECIPIENT.name,
            RECIPIENT.address,
        )
        assert (letter.signer_role, letter.created_by_user_id) == ("GP", practice.clinician.user_id)
        assert letter.pdf.startswith(b"%PDF-")
        assert letter.pdf_sha256 == hashlib.sha256(letter.pdf).hexdigest()
        stored_pdf = letter.pdf
    text = _pdf_text(stored_pdf)
    for expected in (
        "Mihai Lăcătuș",
        "NHS number 943 476 5919",
        "Housing Options, Leeds City Council",
        "LS2 8BB",
        "Chapeltown Health Centre",
        "Dr Ama Mensah",
        "I have known Mihai for six years.",
        f"Letter reference {letter_id}",
        "Page 1 of",
    ):
        assert expected in text, expected
    [event] = _events(practice, "letters.issue")
    assert (event.subject_type, event.subject_id, event.user_id) == (
        "letter",
        letter_id,
        practice.clinician.user_id,
    )
    assert json.loads(event.detail or "") == {
        "pdf_sha256": hashlib.sha256(stored_pdf).hexdigest(),
        "person_id": practice.person_id,
        "template_id": draft.template_id,
        "template_version": 1,
    }
    # Listed on the record, and downloaded as the very same bytes, audited.
    with practice.database.session() as session:
        person = people.get_person(session, practice.context(), practice.person_id)
        [issued] = service.issued_letters(session, person, viewer=practice.clinician)
        assert (issued.letter.id, issued.author, issued.template_name) == (
            letter_id,
            "Test user0-clinician@example.org",
            _housing().name,
        )
        _issued, pdf = service.letter_document(
            session, practice.context(), practice.clinician, practice.person_id, letter_id
        )
    assert pdf == stored_pdf
    assert [e.subject_id for e in _events(practice, "letters.download")] == [letter_id]


def test_a_pdf_changed_since_it_was_issued_is_not_given_out(practice: Practice) -> None:
    letter_id = _issue(practice, _draft(practice))
    with practice.database.session() as session:
        session.execute(update(Letter).where(Letter.id == letter_id).values(pdf=b"%PDF-1.7 forged"))
    with practice.database.session() as session, pytest.raises(LetterAltered):
        service.letter_document(
            session, practice.context(), practice.clinician, practice.person_id, letter_id
        )


def test_letters_keep_the_template_version_they_were_written_from(
    practice: Practice, make_user: Any
) -> None:
    lead = principal_of(make_user(Role.ORG_ADMIN, organisation=PRACTICE))
    edit = service.TemplateEdit(
        name="Our housing letter",
        recipient_kind="housing_office",
        body="Dear Sir or Madam,\n\nRe: {{ person.name }}\n\nFirst wording.",
    )
    with practice.database.session() as session:
        template_id = service.create_template(session, practice.context(lead), lead, edit).id
    first = _draft(practice, template_id=template_id)
    first_id = _issue(practice, first)
    with practice.database.session() as session:
        service.update_template(
            session,
            practice.context(lead),
            lead,
            template_id,
            dataclasses.replace(edit, body=edit.body.replace("First", "Second")),
            expected_version=1,
        )
    second = _draft(practice, template_id=template_id)
    assert (second.template_version, second.text.endswith("Second wording.")) == (2, True)
    second_id = _issue(practice, second)
    with practice.database.session() as session:
        old = session.get(Letter, first_id)
        new = session.get(Letter, second_id)
        assert old is not None
        assert new is not None
        assert (old.template_version, old.text.endswith("First wording.")) == (1, True)
        assert (new.template_version, new.text.endswith("Second wording.")) == (2, True)
        assert "First wording." in _pdf_text(old.pdf)
    # A version the template never had is refused.
    with pytest.raises(TemplateNotFound):
        _issue(practice, dataclasses.replace(second, template_version=3))


def test_users_outside_the_care_team_may_not_draft_issue_or_read_letters(
    practice: Practice, make_user: Any
) -> None:
    letter_id = _issue(practice, _draft(practice))
    outsider = principal_of(make_user(Role.CLINICIAN, organisation="Elsewhere"), "Elsewhere")
    provider = principal_of(make_user(Role.PROVIDER, organisation=PRACTICE))
    for stranger in (outsider, provider):
        with practice.database.session() as session:
            with pytest.raises(PersonAccessDenied):
                service.draft_letter(
                    session,
                    practice.context(stranger),
                    stranger,
                    practice.person_id,
                    _housing().template_id,
                    "",
                    RECIPIENT,
                    job_title="GP",
                )
            with pytest.raises(PersonAccessDenied):
                service.issue_letter(
                    session,
                    practice.context(stranger),
                    stranger,
                    practice.person_id,
                    _housing().template_id,
                    1,
                    "Dear Sir or Madam,",
                    RECIPIENT,
                    job_title="GP",
                )
            with pytest.raises(PersonAccessDenied):
                service.letter_document(
                    session, practice.context(stranger), stranger, practice.person_id, letter_id
                )
    refusals = _events(practice, "person.access_refused")
    assert len(refusals) == 6
    assert {e.user_id for e in refusals} == {outsider.user_id, provider.user_id}
    with practice.database.session() as session:
        assert session.scalar(select(func.count()).select_from(Letter)) == 1
    # Named in the care team, the outsider may.
    with practice.database.session() as session:
        people.add_care_team_member(
            session, practice.context(), practice.person_id, outsider.user_id or 0
        )
    assert _draft(practice, principal=outsider).text.startswith("Dear Sir or Madam,")


def test_a_letter_of_another_person_is_not_found(practice: Practice) -> None:
    letter_id = _issue(practice, _draft(practice))
    with practice.database.session() as session:
        other = people.create_person(
            session,
            practice.context(),
            PersonDetails(given_name="Ann", family_name="Other"),
            practice.clinician.organisation_id,
        )
        with pytest.raises(LetterNotFound):
            service.get_letter(session, practice.context(), practice.clinician, other.id, letter_id)
