"""Letter templates as text: the checks before a template is saved (each problem with its
line), the sandbox, the built-in templates, and the letter's text as blocks on the page."""

from __future__ import annotations

import pytest

from healthequity.letters.exceptions import InvalidBuiltinTemplate
from healthequity.letters.filling import (
    ClinicianValues,
    LetterValues,
    NeedValues,
    PersonValues,
    RecipientValues,
    check_body,
    fill,
)
from healthequity.letters.layout import Block, blocks_of
from healthequity.letters.models import RecipientKind
from healthequity.letters.service import _builtin_from, builtin_templates

VALUES = LetterValues(
    person=PersonValues(
        name="Mihai Lăcătuș",
        first_name="Mihai",
        last_name="Lăcătuș",
        date_of_birth="7 November 1961",
        age="64",
        nhs_number="943 476 5919",
        postcode="LS7 3QH",
    ),
    needs=(
        NeedValues("Homelessness", "Finding of temporary shelter arrangements", "need"),
        NeedValues("Cold or damp home and fuel poverty", "Lives in damp conditions", "need"),
    ),
    clinician=ClinicianValues("Dr Ama Mensah", "GP", "Chapeltown Health Centre", "a@example.org"),
    recipient=RecipientValues("Housing Options", "Merrion House\nLeeds\nLS2 8BB"),
    extra_text="The mould is in the bedroom where his son sleeps.",
    today="22 November 2026",
)


def test_a_template_fills_in_with_the_values_and_leaves_no_lines_for_its_tags() -> None:
    body = (
        "Dear Sir or Madam,\n"
        "\n"
        "Re: {{ person.name }}, NHS number {{ person.nhs_number }}\n"
        "\n"
        "{% if needs %}\n"
        "{{ person.first_name }} told me about:\n"
        "{% for need in needs %}\n"
        "- {{ need.name }}: {{ need.findings }}\n"
        "{% endfor %}\n"
        "\n"
        "{% endif %}\n"
        "{% if extra_text %}{{ extra_text }}{% endif %}\n"
        "\n"
        "{{ clinician.name }}, {{ clinician.role }}, {{ clinician.organisation }}, {{ today }}\n"
    )
    assert check_body(body) == []
    assert fill(body, VALUES) == (
        "Dear Sir or Madam,\n"
        "\n"
        "Re: Mihai Lăcătuș, NHS number 943 476 5919\n"
        "\n"
        "Mihai told me about:\n"
        "- Homelessness: Finding of temporary shelter arrangements\n"
        "- Cold or damp home and fuel poverty: Lives in damp conditions\n"
        "\n"
        "The mould is in the bedroom where his son sleeps.\n"
        "\n"
        "Dr Ama Mensah, GP, Chapeltown Health Centre, 22 November 2026"
    )


def test_parts_left_out_leave_no_run_of_blank_lines() -> None:
    body = "One\n\n{% if person.postcode == 'nowhere' %}\nNever\n{% endif %}\n\nTwo"
    assert fill(body, VALUES) == "One\n\nTwo"


@pytest.mark.parametrize(
    ("body", "problems"),
    [
        (
            "Dear Sir,\n\nRe: {{ person.nam }}",
            ["Line 3: there is no placeholder person.nam: did you mean person.name?"],
        ),
        (
            "Hello\n{% for need in needs %}\n- {{ need.label }}\n{% endfor %}",
            [
                "Line 3: there is no placeholder need.label: use one of need.name, "
                "need.findings, need.level"
            ],
        ),
        (
            # In a branch the sample values do not take: found all the same.
            "A\n{% if not needs %}\n{{ adress }}\n{% endif %}",
            [
                "Line 3: there is no placeholder adress: use one of person.name, "
                "person.first_name, person.last_name, person.date_of_birth, person.age, "
                "person.nhs_number, person.postcode, clinician.name, clinician.role, "
                "clinician.organisation, clinician.email, recipient.name, recipient.address, "
                "needs, extra_text, today"
            ],
        ),
        (
            "Dear Sir,\n\n{% for need in needs %}\n- {{ need.name }\n{% endfor %}",
            ["Line 4: this is not a template the letters can use: unexpected '}'"],
        ),
        (
            "Dear Sir,\n{% if needs %}\nSome needs.\n",
            [
                "Line 3: this is not a template the letters can use: Unexpected end of template. "
                "Jinja was looking for the following tags: 'elif' or 'else' or 'endif'. The "
                "innermost block that needs to be closed is 'if'."
            ],
        ),
        (
            "A\n\n{{ person.name | shout }}",
            ["Line 3: this is not a template the letters can use: No filter named 'shout'."],
        ),
        ("", ["Enter the text of the letter"]),
        ("x" * 20_001, ["The text must be 20,000 characters or fewer (it is 20,001)"]),
    ],
)
def test_a_template_that_cannot_be_used_is_refused_naming_the_line(
    body: str, problems: list[str]
) -> None:
    assert check_body(body) == problems


def test_every_unknown_placeholder_is_named_in_line_order() -> None:
    body = "{{ recipient.town }}\n{{ person.name }}\n{{ clinician.job }}\n{{ extra_txt }}"
    assert check_body(body) == [
        "Line 1: there is no placeholder recipient.town: use one of recipient.name, "
        "recipient.address",
        "Line 3: there is no placeholder clinician.job: use one of clinician.name, "
        "clinician.role, clinician.organisation, clinician.email",
        "Line 4: there is no placeholder extra_txt: did you mean extra_text?",
    ]


def test_the_template_sets_its_own_names_and_may_use_them() -> None:
    body = (
        "{% set who = person.first_name %}{{ who }}\n"
        "{% for n in range(2) %}{{ loop.index }}{% endfor %}"
    )
    assert check_body(body) == []
    assert fill(body, VALUES) == "Mihai\n12"


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        (
            "Hello\n{{ person.name.__class__.__mro__ }}",
            "Line 2: the template cannot be filled in: access to attribute '__class__' of "
            "'str' object is unsafe.",
        ),
        (
            "Hello\n\n{{ '-' * 10000000 }}",
            "Line 3: the template cannot be filled in: repeating text more than 5000 "
            "characters long is not allowed in a letter template",
        ),
        (
            "{% for n in range(100000) %}.{% endfor %}",
            "Line 1: the template cannot be filled in: range() may give at most 1000 numbers "
            "in a letter template",
        ),
        (
            "Hello\n{{ person.age + 1 }}",
            'Line 2: the template cannot be filled in: can only concatenate str (not "int") to str',
        ),
    ],
)
def test_the_sandbox_refuses_what_a_letter_has_no_business_doing(body: str, problem: str) -> None:
    assert check_body(body) == [problem]


def test_the_built_in_templates_are_valid_and_cover_housing_benefits_and_employers() -> None:
    builtins = builtin_templates()
    kinds = {builtin.recipient_kind for builtin in builtins}
    assert {RecipientKind.HOUSING_OFFICE, RecipientKind.BENEFITS_ASSESSOR} <= kinds
    assert RecipientKind.EMPLOYER in kinds
    assert len({builtin.template_id for builtin in builtins}) == len(builtins) >= 3
    for builtin in builtins:
        assert check_body(builtin.body) == [], builtin.key
        text = fill(builtin.body, VALUES)
        assert "Mihai Lăcătuș" in text, builtin.key
        assert "{" not in text, builtin.key
        assert text.startswith("Dear Sir or Madam,"), builtin.key
        assert text.endswith("Yours sincerely,"), builtin.key
    housing = next(b for b in builtins if b.recipient_kind is RecipientKind.HOUSING_OFFICE)
    text = fill(housing.body, VALUES)
    assert "- Cold or damp home and fuel poverty: Lives in damp conditions" in text
    assert "The mould is in the bedroom where his son sleeps." in text
    assert "NHS number 943 476 5919" in text


def test_a_built_in_template_file_that_is_wrong_is_refused_naming_the_file() -> None:
    good = 'name = "A"\nrecipient_kind = "other"\nversion = 1\nbody = "Dear {{ person.name }}"\n'
    assert _builtin_from("a.toml", good).name == "A"
    with pytest.raises(
        InvalidBuiltinTemplate,
        match=r"^built-in letter template b\.toml: Line 1: there is no placeholder person\.nme",
    ):
        _builtin_from("b.toml", good.replace("person.name", "person.nme"))
    with pytest.raises(InvalidBuiltinTemplate, match="recipient_kind must be one of"):
        _builtin_from("c.toml", good.replace('"other"', '"landlord"'))
    with pytest.raises(InvalidBuiltinTemplate, match="version must be a int"):
        _builtin_from("d.toml", good.replace("version = 1", 'version = "1"'))
    with pytest.raises(InvalidBuiltinTemplate, match="not valid TOML"):
        _builtin_from("e.toml", "name = ")


def test_the_text_becomes_paragraphs_lists_and_the_subject_line() -> None:
    text = (
        "Dear Sir or Madam,\n\nRe: Mihai Lăcătuș\n\nHe told me about:\n- Housing\n- Debt\n"
        "Since then:\n* better\n\n\n\nYours sincerely,"
    )
    assert blocks_of(text) == (
        Block("paragraph", ("Dear Sir or Madam,",)),
        Block("subject", ("Re: Mihai Lăcătuș",)),
        Block("paragraph", ("He told me about:",)),
        Block("list", ("Housing", "Debt")),
        Block("paragraph", ("Since then:",)),
        Block("list", ("better",)),
        Block("paragraph", ("Yours sincerely,",)),
    )
