"""Service directory on Open Referral UK v3, with curation fields and change history.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22 01:28:25.654732
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:

    op.create_table(
        "directory_location",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("location_type", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=300), nullable=True),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("latitude", sa.Float(), nullable=True),
        sa.Column("longitude", sa.Float(), nullable=True),
        sa.Column("external_identifier", sa.String(length=100), nullable=True),
        sa.Column("external_identifier_type", sa.String(length=100), nullable=True),
        sa.Column("lsoa21_code", sa.String(length=9), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_directory_location")),
    )
    with op.batch_alter_table("directory_location", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_directory_location_lsoa21_code"), ["lsoa21_code"], unique=False
        )
        batch_op.create_index(
            "ix_directory_location_point", ["latitude", "longitude"], unique=False
        )

    op.create_table(
        "directory_organization",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=300), nullable=False),
        sa.Column("alternate_name", sa.String(length=300), nullable=True),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=True),
        sa.Column("website", sa.String(length=500), nullable=True),
        sa.Column("logo", sa.String(length=500), nullable=True),
        sa.Column("uri", sa.String(length=500), nullable=True),
        sa.Column("parent_organization_id", sa.String(length=64), nullable=True),
        sa.Column("last_modified", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_directory_organization")),
    )
    op.create_table(
        "directory_taxonomy",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("uri", sa.String(length=500), nullable=True),
        sa.Column("version", sa.String(length=40), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_directory_taxonomy")),
    )
    op.create_table(
        "directory_accessibility",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("location_id", sa.String(length=64), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("details", sa.Text(), nullable=True),
        sa.Column("url", sa.String(length=500), nullable=True),
        sa.ForeignKeyConstraint(
            ["location_id"],
            ["directory_location.id"],
            name=op.f("fk_directory_accessibility_location_id_directory_location"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_directory_accessibility")),
    )
    with op.batch_alter_table("directory_accessibility", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_directory_accessibility_location_id"), ["location_id"], unique=False
        )

    op.create_table(
        "directory_address",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("location_id", sa.String(length=64), nullable=False),
        sa.Column("attention", sa.String(length=300), nullable=True),
        sa.Column("address_1", sa.String(length=300), nullable=False),
        sa.Column("address_2", sa.String(length=300), nullable=True),
        sa.Column("city", sa.String(length=100), nullable=False),
        sa.Column("region", sa.String(length=100), nullable=True),
        sa.Column("state_province", sa.String(length=100), nullable=False),
        sa.Column("postal_code", sa.String(length=10), nullable=False),
        sa.Column("country", sa.String(length=2), nullable=False),
        sa.Column("address_type", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(
            ["location_id"],
            ["directory_location.id"],
            name=op.f("fk_directory_address_location_id_directory_location"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_directory_address")),
    )
    with op.batch_alter_table("directory_address", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_directory_address_location_id"), ["location_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_directory_address_postal_code"), ["postal_code"], unique=False
        )

    op.create_table(
        "directory_taxonomy_term",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("code", sa.String(length=100), nullable=True),
        sa.Column("name", sa.String(length=300), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("parent_id", sa.String(length=64), nullable=True),
        sa.Column("taxonomy_id", sa.String(length=64), nullable=True),
        sa.Column("term_uri", sa.String(length=500), nullable=True),
        sa.Column("need_code", sa.String(length=40), nullable=True),
        sa.ForeignKeyConstraint(
            ["taxonomy_id"],
            ["directory_taxonomy.id"],
            name=op.f("fk_directory_taxonomy_term_taxonomy_id_directory_taxonomy"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_directory_taxonomy_term")),
    )
    with op.batch_alter_table("directory_taxonomy_term", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_directory_taxonomy_term_need_code"), ["need_code"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_directory_taxonomy_term_taxonomy_id"), ["taxonomy_id"], unique=False
        )

    op.create_table(
        "directory_attribute",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("link_id", sa.String(length=64), nullable=False),
        sa.Column("link_type", sa.String(length=40), nullable=True),
        sa.Column("link_entity", sa.String(length=40), nullable=False),
        sa.Column("taxonomy_term_id", sa.String(length=64), nullable=False),
        sa.Column("value", sa.Text(), nullable=True),
        sa.Column("label", sa.String(length=300), nullable=True),
        sa.ForeignKeyConstraint(
            ["taxonomy_term_id"],
            ["directory_taxonomy_term.id"],
            name=op.f("fk_directory_attribute_taxonomy_term_id_directory_taxonomy_term"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_directory_attribute")),
    )
    with op.batch_alter_table("directory_attribute", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_directory_attribute_link_id"), ["link_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_directory_attribute_taxonomy_term_id"),
            ["taxonomy_term_id"],
            unique=False,
        )

    op.create_table(
        "directory_record_change",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("entity_type", sa.String(length=40), nullable=False),
        sa.Column("entity_id", sa.String(length=64), nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("source", sa.String(length=40), nullable=False),
        sa.Column("change", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["user_account.id"],
            name=op.f("fk_directory_record_change_user_id_user_account"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_directory_record_change")),
    )
    with op.batch_alter_table("directory_record_change", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_directory_record_change_entity_id"), ["entity_id"], unique=False
        )

    op.create_table(
        "directory_service",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("organization_id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=300), nullable=False),
        sa.Column("alternate_name", sa.String(length=300), nullable=True),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("url", sa.String(length=500), nullable=True),
        sa.Column("email", sa.String(length=254), nullable=True),
        sa.Column(
            "status",
            sa.Enum(
                "active",
                "inactive",
                "defunct",
                "temporarily closed",
                name="service_status",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("fees", sa.Text(), nullable=True),
        sa.Column("accreditations", sa.Text(), nullable=True),
        sa.Column("eligibility_description", sa.Text(), nullable=True),
        sa.Column("minimum_age", sa.Float(), nullable=True),
        sa.Column("maximum_age", sa.Float(), nullable=True),
        sa.Column("assured_date", sa.Date(), nullable=True),
        sa.Column("assurer_email", sa.String(length=254), nullable=True),
        sa.Column("alert", sa.Text(), nullable=True),
        sa.Column("last_modified", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_reviewed", sa.Date(), nullable=True),
        sa.Column("reviewed_by_user_id", sa.Integer(), nullable=True),
        sa.Column("accepting_referrals", sa.Boolean(), nullable=False),
        sa.Column("accepting_referrals_note", sa.Text(), nullable=True),
        sa.Column(
            "referral_method",
            sa.Enum(
                "in_app",
                "email",
                "phone",
                "self_referral",
                name="referral_method",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=True,
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["directory_organization.id"],
            name=op.f("fk_directory_service_organization_id_directory_organization"),
        ),
        sa.ForeignKeyConstraint(
            ["reviewed_by_user_id"],
            ["user_account.id"],
            name=op.f("fk_directory_service_reviewed_by_user_id_user_account"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_directory_service")),
    )
    with op.batch_alter_table("directory_service", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_directory_service_last_modified"), ["last_modified"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_directory_service_organization_id"), ["organization_id"], unique=False
        )

    op.create_table(
        "directory_contact",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("service_id", sa.String(length=64), nullable=True),
        sa.Column("organization_id", sa.String(length=64), nullable=True),
        sa.Column("name", sa.String(length=200), nullable=True),
        sa.Column("title", sa.String(length=200), nullable=True),
        sa.Column("department", sa.String(length=200), nullable=True),
        sa.Column("email", sa.String(length=254), nullable=True),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["directory_organization.id"],
            name=op.f("fk_directory_contact_organization_id_directory_organization"),
        ),
        sa.ForeignKeyConstraint(
            ["service_id"],
            ["directory_service.id"],
            name=op.f("fk_directory_contact_service_id_directory_service"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_directory_contact")),
    )
    with op.batch_alter_table("directory_contact", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_directory_contact_service_id"), ["service_id"], unique=False
        )

    op.create_table(
        "directory_cost_option",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("service_id", sa.String(length=64), nullable=False),
        sa.Column("valid_from", sa.Date(), nullable=True),
        sa.Column("valid_to", sa.Date(), nullable=True),
        sa.Column("option", sa.Text(), nullable=True),
        sa.Column("amount", sa.Float(), nullable=True),
        sa.Column("amount_description", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["service_id"],
            ["directory_service.id"],
            name=op.f("fk_directory_cost_option_service_id_directory_service"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_directory_cost_option")),
    )
    with op.batch_alter_table("directory_cost_option", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_directory_cost_option_service_id"), ["service_id"], unique=False
        )

    op.create_table(
        "directory_funding",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("service_id", sa.String(length=64), nullable=False),
        sa.Column("source", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["service_id"],
            ["directory_service.id"],
            name=op.f("fk_directory_funding_service_id_directory_service"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_directory_funding")),
    )
    with op.batch_alter_table("directory_funding", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_directory_funding_service_id"), ["service_id"], unique=False
        )

    op.create_table(
        "directory_service_area",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("service_id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=300), nullable=True),
        sa.Column("extent", sa.Text(), nullable=True),
        sa.Column("extent_type", sa.String(length=40), nullable=True),
        sa.Column("uri", sa.String(length=500), nullable=True),
        sa.Column("service_area", sa.String(length=300), nullable=True),
        sa.ForeignKeyConstraint(
            ["service_id"],
            ["directory_service.id"],
            name=op.f("fk_directory_service_area_service_id_directory_service"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_directory_service_area")),
    )
    with op.batch_alter_table("directory_service_area", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_directory_service_area_service_id"), ["service_id"], unique=False
        )

    op.create_table(
        "directory_service_at_location",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("service_id", sa.String(length=64), nullable=False),
        sa.Column("location_id", sa.String(length=64), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["location_id"],
            ["directory_location.id"],
            name=op.f("fk_directory_service_at_location_location_id_directory_location"),
        ),
        sa.ForeignKeyConstraint(
            ["service_id"],
            ["directory_service.id"],
            name=op.f("fk_directory_service_at_location_service_id_directory_service"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_directory_service_at_location")),
    )
    with op.batch_alter_table("directory_service_at_location", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_directory_service_at_location_location_id"),
            ["location_id"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_directory_service_at_location_service_id"), ["service_id"], unique=False
        )

    op.create_table(
        "directory_phone",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("service_id", sa.String(length=64), nullable=True),
        sa.Column("contact_id", sa.String(length=64), nullable=True),
        sa.Column("location_id", sa.String(length=64), nullable=True),
        sa.Column("number", sa.String(length=40), nullable=False),
        sa.Column("extension", sa.String(length=20), nullable=True),
        sa.Column("type", sa.String(length=20), nullable=True),
        sa.Column("description", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["contact_id"],
            ["directory_contact.id"],
            name=op.f("fk_directory_phone_contact_id_directory_contact"),
        ),
        sa.ForeignKeyConstraint(
            ["location_id"],
            ["directory_location.id"],
            name=op.f("fk_directory_phone_location_id_directory_location"),
        ),
        sa.ForeignKeyConstraint(
            ["service_id"],
            ["directory_service.id"],
            name=op.f("fk_directory_phone_service_id_directory_service"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_directory_phone")),
    )
    with op.batch_alter_table("directory_phone", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_directory_phone_service_id"), ["service_id"], unique=False
        )

    op.create_table(
        "directory_schedule",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("service_id", sa.String(length=64), nullable=True),
        sa.Column("service_at_location_id", sa.String(length=64), nullable=True),
        sa.Column("valid_from", sa.Date(), nullable=True),
        sa.Column("valid_to", sa.Date(), nullable=True),
        sa.Column("dtstart", sa.Date(), nullable=True),
        sa.Column("freq", sa.String(length=10), nullable=True),
        sa.Column("interval", sa.Integer(), nullable=True),
        sa.Column("byday", sa.String(length=40), nullable=True),
        sa.Column("bymonthday", sa.String(length=40), nullable=True),
        sa.Column("opens_at", sa.String(length=8), nullable=True),
        sa.Column("closes_at", sa.String(length=8), nullable=True),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("schedule_link", sa.String(length=500), nullable=True),
        sa.Column("attending_type", sa.String(length=40), nullable=True),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["service_at_location_id"],
            ["directory_service_at_location.id"],
            name=op.f("fk_directory_schedule_service_at_location_id_directory_service_at_location"),
        ),
        sa.ForeignKeyConstraint(
            ["service_id"],
            ["directory_service.id"],
            name=op.f("fk_directory_schedule_service_id_directory_service"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_directory_schedule")),
    )
    with op.batch_alter_table("directory_schedule", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_directory_schedule_service_id"), ["service_id"], unique=False
        )

    op.create_table(
        "directory_language",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("service_id", sa.String(length=64), nullable=True),
        sa.Column("phone_id", sa.String(length=64), nullable=True),
        sa.Column("name", sa.String(length=100), nullable=True),
        sa.Column("code", sa.String(length=10), nullable=True),
        sa.ForeignKeyConstraint(
            ["phone_id"],
            ["directory_phone.id"],
            name=op.f("fk_directory_language_phone_id_directory_phone"),
        ),
        sa.ForeignKeyConstraint(
            ["service_id"],
            ["directory_service.id"],
            name=op.f("fk_directory_language_service_id_directory_service"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_directory_language")),
    )
    with op.batch_alter_table("directory_language", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_directory_language_service_id"), ["service_id"], unique=False
        )


def downgrade() -> None:

    with op.batch_alter_table("directory_language", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_directory_language_service_id"))

    op.drop_table("directory_language")
    with op.batch_alter_table("directory_schedule", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_directory_schedule_service_id"))

    op.drop_table("directory_schedule")
    with op.batch_alter_table("directory_phone", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_directory_phone_service_id"))

    op.drop_table("directory_phone")
    with op.batch_alter_table("directory_service_at_location", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_directory_service_at_location_service_id"))
        batch_op.drop_index(batch_op.f("ix_directory_service_at_location_location_id"))

    op.drop_table("directory_service_at_location")
    with op.batch_alter_table("directory_service_area", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_directory_service_area_service_id"))

    op.drop_table("directory_service_area")
    with op.batch_alter_table("directory_funding", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_directory_funding_service_id"))

    op.drop_table("directory_funding")
    with op.batch_alter_table("directory_cost_option", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_directory_cost_option_service_id"))

    op.drop_table("directory_cost_option")
    with op.batch_alter_table("directory_contact", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_directory_contact_service_id"))

    op.drop_table("directory_contact")
    with op.batch_alter_table("directory_service", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_directory_service_organization_id"))
        batch_op.drop_index(batch_op.f("ix_directory_service_last_modified"))

    op.drop_table("directory_service")
    with op.batch_alter_table("directory_record_change", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_directory_record_change_entity_id"))

    op.drop_table("directory_record_change")
    with op.batch_alter_table("directory_attribute", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_directory_attribute_taxonomy_term_id"))
        batch_op.drop_index(batch_op.f("ix_directory_attribute_link_id"))

    op.drop_table("directory_attribute")
    with op.batch_alter_table("directory_taxonomy_term", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_directory_taxonomy_term_taxonomy_id"))
        batch_op.drop_index(batch_op.f("ix_directory_taxonomy_term_need_code"))

    op.drop_table("directory_taxonomy_term")
    with op.batch_alter_table("directory_address", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_directory_address_postal_code"))
        batch_op.drop_index(batch_op.f("ix_directory_address_location_id"))

    op.drop_table("directory_address")
    with op.batch_alter_table("directory_accessibility", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_directory_accessibility_location_id"))

    op.drop_table("directory_accessibility")
    op.drop_table("directory_taxonomy")
    op.drop_table("directory_organization")
    with op.batch_alter_table("directory_location", schema=None) as batch_op:
        batch_op.drop_index("ix_directory_location_point")
        batch_op.drop_index(batch_op.f("ix_directory_location_lsoa21_code"))

    op.drop_table("directory_location")
