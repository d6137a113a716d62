"""People, social history and referrals: the person record and care team, questionnaire
responses, identified needs, patient links, consents, referrals with their needs, events,
provider links and outcome measures.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22 02:50:56.028793
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from healthequity.store.database import UtcDateTime

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "person",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("nhs_number", sa.String(length=10), nullable=True),
        sa.Column("given_name", sa.String(length=100), nullable=False),
        sa.Column("family_name", sa.String(length=100), nullable=False),
        sa.Column("name_key", sa.String(length=201), nullable=False),
        sa.Column("date_of_birth", sa.Date(), nullable=True),
        sa.Column(
            "sex",
            sa.Enum(
                "female",
                "male",
                "other",
                "unknown",
                name="person_sex",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("ethnicity_code", sa.String(length=4), nullable=True),
        sa.Column("postcode", sa.String(length=8), nullable=True),
        sa.Column("lsoa21_code", sa.String(length=9), nullable=True),
        sa.Column(
            "gp_registration",
            sa.Enum(
                "registered",
                "not_registered",
                "unknown",
                name="gp_registration",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("preferred_language", sa.String(length=100), nullable=True),
        sa.Column("interpreter_needed", sa.Boolean(), nullable=False),
        sa.Column("communication_needs", sa.Text(), nullable=True),
        sa.Column("phone", sa.String(length=40), nullable=True),
        sa.Column("email", sa.String(length=254), nullable=True),
        sa.Column("no_telephone", sa.Boolean(), nullable=False),
        sa.Column("text_messages_ok", sa.Boolean(), nullable=False),
        sa.Column("email_ok", sa.Boolean(), nullable=False),
        sa.Column("letters_ok", sa.Boolean(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("created_at", UtcDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", UtcDateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisation.id"],
            name=op.f("fk_person_organisation_id_organisation"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_person")),
        sa.UniqueConstraint("nhs_number", name=op.f("uq_person_nhs_number")),
    )
    with op.batch_alter_table("person", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_person_date_of_birth"), ["date_of_birth"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_person_lsoa21_code"), ["lsoa21_code"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_person_organisation_id"), ["organisation_id"], unique=False
        )

    op.create_table(
        "referral_provider_link",
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("directory_organization_id", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisation.id"],
            name=op.f("fk_referral_provider_link_organisation_id_organisation"),
        ),
        sa.PrimaryKeyConstraint(
            "organisation_id", "directory_organization_id", name=op.f("pk_referral_provider_link")
        ),
    )
    op.create_table(
        "referral_service_settings",
        sa.Column("service_id", sa.String(length=64), nullable=False),
        sa.Column("follow_up_days", sa.Integer(), nullable=False),
        sa.Column("updated_at", UtcDateTime(timezone=True), nullable=False),
        sa.Column("updated_by_user_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["updated_by_user_id"],
            ["user_account.id"],
            name=op.f("fk_referral_service_settings_updated_by_user_id_user_account"),
        ),
        sa.PrimaryKeyConstraint("service_id", name=op.f("pk_referral_service_settings")),
    )
    op.create_table(
        "person_care_team_member",
        sa.Column("person_id", sa.String(length=36), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("added_at", UtcDateTime(timezone=True), nullable=False),
        sa.Column("added_by_user_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["added_by_user_id"],
            ["user_account.id"],
            name=op.f("fk_person_care_team_member_added_by_user_id_user_account"),
        ),
        sa.ForeignKeyConstraint(
            ["person_id"], ["person.id"], name=op.f("fk_person_care_team_member_person_id_person")
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["user_account.id"],
            name=op.f("fk_person_care_team_member_user_id_user_account"),
        ),
        sa.PrimaryKeyConstraint("person_id", "user_id", name=op.f("pk_person_care_team_member")),
    )
    op.create_table(
        "questionnaire_response",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("person_id", sa.String(length=36), nullable=False),
        sa.Column("questionnaire_url", sa.String(length=300), nullable=False),
        sa.Column("questionnaire_version", sa.String(length=40), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "in-progress",
                "completed",
                "amended",
                name="questionnaire_response_status",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column(
            "source",
            sa.Enum(
                "clinician",
                "person",
                name="response_source",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("answers", sa.JSON(), nullable=False),
        sa.Column("authored_at", UtcDateTime(timezone=True), nullable=False),
        sa.Column("author_user_id", sa.Integer(), nullable=True),
        sa.Column("reviewed_at", UtcDateTime(timezone=True), nullable=True),
        sa.Column("reviewed_by_user_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["author_user_id"],
            ["user_account.id"],
            name=op.f("fk_questionnaire_response_author_user_id_user_account"),
        ),
        sa.ForeignKeyConstraint(
            ["person_id"], ["person.id"], name=op.f("fk_questionnaire_response_person_id_person")
        ),
        sa.ForeignKeyConstraint(
            ["reviewed_by_user_id"],
            ["user_account.id"],
            name=op.f("fk_questionnaire_response_reviewed_by_user_id_user_account"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_questionnaire_response")),
    )
    with op.batch_alter_table("questionnaire_response", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_questionnaire_response_authored_at"), ["authored_at"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_questionnaire_response_person_id"), ["person_id"], unique=False
        )

    op.create_table(
        "referral_consent",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("person_id", sa.String(length=36), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "active",
                "withdrawn",
                name="consent_status",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("shared_information", sa.Text(), nullable=False),
        sa.Column("recipient_organization_id", sa.String(length=64), nullable=False),
        sa.Column("recipient_name", sa.String(length=300), nullable=False),
        sa.Column("purpose", sa.Text(), nullable=False),
        sa.Column("expires_on", sa.Date(), nullable=False),
        sa.Column("recorded_at", UtcDateTime(timezone=True), nullable=False),
        sa.Column("recorded_by_user_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["person_id"], ["person.id"], name=op.f("fk_referral_consent_person_id_person")
        ),
        sa.ForeignKeyConstraint(
            ["recorded_by_user_id"],
            ["user_account.id"],
            name=op.f("fk_referral_consent_recorded_by_user_id_user_account"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_referral_consent")),
    )
    with op.batch_alter_table("referral_consent", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_referral_consent_person_id"), ["person_id"], unique=False
        )

    op.create_table(
        "identified_need",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("person_id", sa.String(length=36), nullable=False),
        sa.Column("response_id", sa.String(length=36), nullable=False),
        sa.Column("question_link_id", sa.String(length=100), nullable=False),
        sa.Column("need_code", sa.String(length=40), nullable=False),
        sa.Column(
            "level",
            sa.Enum(
                "no_need",
                "at_risk",
                "need",
                "urgent",
                name="need_level",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("snomed_code", sa.String(length=20), nullable=False),
        sa.Column("snomed_display", sa.String(length=300), nullable=False),
        sa.Column("sensitive", sa.Boolean(), nullable=False),
        sa.Column("wants_help", sa.Boolean(), nullable=True),
        sa.Column("priority", sa.Integer(), nullable=True),
        sa.Column(
            "status",
            sa.Enum(
                "active",
                "resolved",
                name="need_status",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("recorded_at", UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["person_id"], ["person.id"], name=op.f("fk_identified_need_person_id_person")
        ),
        sa.ForeignKeyConstraint(
            ["response_id"],
            ["questionnaire_response.id"],
            name=op.f("fk_identified_need_response_id_questionnaire_response"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_identified_need")),
    )
    with op.batch_alter_table("identified_need", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_identified_need_need_code"), ["need_code"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_identified_need_person_id"), ["person_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_identified_need_response_id"), ["response_id"], unique=False
        )

    op.create_table(
        "patient_link",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("person_id", sa.String(length=36), nullable=False),
        sa.Column("questionnaire_url", sa.String(length=300), nullable=False),
        sa.Column("created_by_user_id", sa.Integer(), nullable=False),
        sa.Column("created_at", UtcDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", UtcDateTime(timezone=True), nullable=False),
        sa.Column("used_at", UtcDateTime(timezone=True), nullable=True),
        sa.Column("response_id", sa.String(length=36), nullable=True),
        sa.ForeignKeyConstraint(
            ["created_by_user_id"],
            ["user_account.id"],
            name=op.f("fk_patient_link_created_by_user_id_user_account"),
        ),
        sa.ForeignKeyConstraint(
            ["person_id"], ["person.id"], name=op.f("fk_patient_link_person_id_person")
        ),
        sa.ForeignKeyConstraint(
            ["response_id"],
            ["questionnaire_response.id"],
            name=op.f("fk_patient_link_response_id_questionnaire_response"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_patient_link")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_patient_link_token_hash")),
    )
    with op.batch_alter_table("patient_link", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_patient_link_person_id"), ["person_id"], unique=False)

    op.create_table(
        "referral",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("person_id", sa.String(length=36), nullable=False),
        sa.Column("service_id", sa.String(length=64), nullable=False),
        sa.Column("service_name", sa.String(length=300), nullable=False),
        sa.Column("provider_organization_id", sa.String(length=64), nullable=False),
        sa.Column("consent_id", sa.String(length=36), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "draft",
                "requested",
                "received",
                "accepted",
                "rejected",
                "in-progress",
                "completed",
                "cancelled",
                "failed",
                name="referral_status",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("status_reason", sa.Text(), nullable=True),
        sa.Column("outcome", sa.Text(), nullable=True),
        sa.Column(
            "failure_reason",
            sa.Enum(
                "not_reached",
                "declined",
                "service_full",
                "ineligible",
                name="referral_failure_reason",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=True,
        ),
        sa.Column("shared_note", sa.Text(), nullable=True),
        sa.Column("is_social_prescription", sa.Boolean(), nullable=False),
        sa.Column("requester_user_id", sa.Integer(), nullable=False),
        sa.Column("requester_organisation_id", sa.Integer(), nullable=False),
        sa.Column("follow_up_on", sa.Date(), nullable=False),
        sa.Column("attendance_check_on", sa.Date(), nullable=True),
        sa.Column("created_at", UtcDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", UtcDateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["consent_id"],
            ["referral_consent.id"],
            name=op.f("fk_referral_consent_id_referral_consent"),
        ),
        sa.ForeignKeyConstraint(
            ["person_id"], ["person.id"], name=op.f("fk_referral_person_id_person")
        ),
        sa.ForeignKeyConstraint(
            ["requester_organisation_id"],
            ["organisation.id"],
            name=op.f("fk_referral_requester_organisation_id_organisation"),
        ),
        sa.ForeignKeyConstraint(
            ["requester_user_id"],
            ["user_account.id"],
            name=op.f("fk_referral_requester_user_id_user_account"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_referral")),
    )
    with op.batch_alter_table("referral", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_referral_person_id"), ["person_id"], unique=False)
        batch_op.create_index(
            "ix_referral_requester_attendance_check",
            ["requester_user_id", "attendance_check_on"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_referral_provider_organization_id"),
            ["provider_organization_id"],
            unique=False,
        )
        batch_op.create_index(
            "ix_referral_requester_status_follow_up",
            ["requester_user_id", "status", "follow_up_on"],
            unique=False,
        )
        batch_op.create_index(batch_op.f("ix_referral_service_id"), ["service_id"], unique=False)
        batch_op.create_index(
            "ix_referral_status_follow_up", ["status", "follow_up_on"], unique=False
        )

    op.create_table(
        "referral_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("referral_id", sa.String(length=36), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "status",
                "contact_attempt",
                "note",
                "follow_up",
                name="referral_event_kind",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column(
            "from_status",
            sa.Enum(
                "draft",
                "requested",
                "received",
                "accepted",
                "rejected",
                "in-progress",
                "completed",
                "cancelled",
                "failed",
                name="referral_event_from_status",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=True,
        ),
        sa.Column(
            "to_status",
            sa.Enum(
                "draft",
                "requested",
                "received",
                "accepted",
                "rejected",
                "in-progress",
                "completed",
                "cancelled",
                "failed",
                name="referral_event_to_status",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=True,
        ),
        sa.Column("detail", sa.Text(), nullable=True),
        sa.Column("occurred_at", UtcDateTime(timezone=True), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("api_token_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["api_token_id"],
            ["api_token.id"],
            name=op.f("fk_referral_event_api_token_id_api_token"),
        ),
        sa.ForeignKeyConstraint(
            ["referral_id"], ["referral.id"], name=op.f("fk_referral_event_referral_id_referral")
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["user_account.id"], name=op.f("fk_referral_event_user_id_user_account")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_referral_event")),
    )
    with op.batch_alter_table("referral_event", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_referral_event_referral_id"), ["referral_id"], unique=False
        )

    op.create_table(
        "referral_need",
        sa.Column("referral_id", sa.String(length=36), nullable=False),
        sa.Column("identified_need_id", sa.String(length=36), nullable=False),
        sa.Column("need_code", sa.String(length=40), nullable=False),
        sa.ForeignKeyConstraint(
            ["identified_need_id"],
            ["identified_need.id"],
            name=op.f("fk_referral_need_identified_need_id_identified_need"),
        ),
        sa.ForeignKeyConstraint(
            ["referral_id"], ["referral.id"], name=op.f("fk_referral_need_referral_id_referral")
        ),
        sa.PrimaryKeyConstraint("referral_id", "identified_need_id", name=op.f("pk_referral_need")),
    )
    op.create_table(
        "referral_outcome_measure",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("referral_id", sa.String(length=36), nullable=False),
        sa.Column("instrument", sa.String(length=20), nullable=False),
        sa.Column("timing", sa.String(length=10), nullable=False),
        sa.Column("item_scores", sa.JSON(), nullable=False),
        sa.Column("total", sa.Float(), nullable=True),
        sa.Column("recorded_at", UtcDateTime(timezone=True), nullable=False),
        sa.Column("recorded_by_user_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["recorded_by_user_id"],
            ["user_account.id"],
            name=op.f("fk_referral_outcome_measure_recorded_by_user_id_user_account"),
        ),
        sa.ForeignKeyConstraint(
            ["referral_id"],
            ["referral.id"],
            name=op.f("fk_referral_outcome_measure_referral_id_referral"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_referral_outcome_measure")),
    )
    with op.batch_alter_table("referral_outcome_measure", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_referral_outcome_measure_referral_id"), ["referral_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("referral_outcome_measure", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_referral_outcome_measure_referral_id"))

    op.drop_table("referral_outcome_measure")
    op.drop_table("referral_need")
    with op.batch_alter_table("referral_event", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_referral_event_referral_id"))

    op.drop_table("referral_event")
    with op.batch_alter_table("referral", schema=None) as batch_op:
        batch_op.drop_index("ix_referral_status_follow_up")
        batch_op.drop_index(batch_op.f("ix_referral_service_id"))
        batch_op.drop_index("ix_referral_requester_status_follow_up")
        batch_op.drop_index(batch_op.f("ix_referral_provider_organization_id"))
        batch_op.drop_index(batch_op.f("ix_referral_person_id"))
        batch_op.drop_index("ix_referral_requester_attendance_check")

    op.drop_table("referral")
    with op.batch_alter_table("patient_link", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_patient_link_person_id"))

    op.drop_table("patient_link")
    with op.batch_alter_table("identified_need", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_identified_need_response_id"))
        batch_op.drop_index(batch_op.f("ix_identified_need_person_id"))
        batch_op.drop_index(batch_op.f("ix_identified_need_need_code"))

    op.drop_table("identified_need")
    with op.batch_alter_table("referral_consent", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_referral_consent_person_id"))

    op.drop_table("referral_consent")
    with op.batch_alter_table("questionnaire_response", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_questionnaire_response_person_id"))
        batch_op.drop_index(batch_op.f("ix_questionnaire_response_authored_at"))

    op.drop_table("questionnaire_response")
    op.drop_table("person_care_team_member")
    op.drop_table("referral_service_settings")
    op.drop_table("referral_provider_link")
    with op.batch_alter_table("person", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_person_organisation_id"))
        batch_op.drop_index(batch_op.f("ix_person_lsoa21_code"))
        batch_op.drop_index(batch_op.f("ix_person_date_of_birth"))

    op.drop_table("person")
