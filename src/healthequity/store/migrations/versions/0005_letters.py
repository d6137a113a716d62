"""Letters: letter templates (built-in and each organisation's) with every version of their
text, and the letters issued about a person with their PDF and its SHA-256.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-22 03:27:20.568294
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from healthequity.store.database import UtcDateTime

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "letter_template",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("builtin_key", sa.String(length=60), nullable=True),
        sa.Column("organisation_id", sa.Integer(), nullable=True),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column(
            "recipient_kind",
            sa.Enum(
                "housing_office",
                "benefits_assessor",
                "employer",
                "other",
                name="letter_recipient_kind",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", UtcDateTime(timezone=True), nullable=False),
        sa.Column("created_by_user_id", sa.Integer(), nullable=True),
        sa.Column("updated_at", UtcDateTime(timezone=True), nullable=False),
        sa.Column("updated_by_user_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["created_by_user_id"],
            ["user_account.id"],
            name=op.f("fk_letter_template_created_by_user_id_user_account"),
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisation.id"],
            name=op.f("fk_letter_template_organisation_id_organisation"),
        ),
        sa.ForeignKeyConstraint(
            ["updated_by_user_id"],
            ["user_account.id"],
            name=op.f("fk_letter_template_updated_by_user_id_user_account"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_letter_template")),
        sa.UniqueConstraint("builtin_key", name=op.f("uq_letter_template_builtin_key")),
    )
    with op.batch_alter_table("letter_template", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_letter_template_organisation_id"), ["organisation_id"], unique=False
        )

    op.create_table(
        "letter_template_version",
        sa.Column("template_id", sa.String(length=36), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column(
            "recipient_kind",
            sa.Enum(
                "housing_office",
                "benefits_assessor",
                "employer",
                "other",
                name="letter_recipient_kind",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("created_at", UtcDateTime(timezone=True), nullable=False),
        sa.Column("created_by_user_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["created_by_user_id"],
            ["user_account.id"],
            name=op.f("fk_letter_template_version_created_by_user_id_user_account"),
        ),
        sa.ForeignKeyConstraint(
            ["template_id"],
            ["letter_template.id"],
            name=op.f("fk_letter_template_version_template_id_letter_template"),
        ),
        sa.PrimaryKeyConstraint("template_id", "version", name=op.f("pk_letter_template_version")),
    )
    op.create_table(
        "letter",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("person_id", sa.String(length=36), nullable=False),
        sa.Column("template_id", sa.String(length=36), nullable=False),
        sa.Column("template_version", sa.Integer(), nullable=False),
        sa.Column("recipient_name", sa.String(length=200), nullable=False),
        sa.Column("recipient_address", sa.Text(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("signer_role", sa.String(length=100), nullable=False),
        sa.Column("created_by_user_id", sa.Integer(), nullable=False),
        sa.Column("created_at", UtcDateTime(timezone=True), nullable=False),
        sa.Column("pdf_sha256", sa.String(length=64), nullable=False),
        sa.Column("pdf", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by_user_id"],
            ["user_account.id"],
            name=op.f("fk_letter_created_by_user_id_user_account"),
        ),
        sa.ForeignKeyConstraint(
            ["person_id"], ["person.id"], name=op.f("fk_letter_person_id_person")
        ),
        sa.ForeignKeyConstraint(
            ["template_id", "template_version"],
            ["letter_template_version.template_id", "letter_template_version.version"],
            name=op.f("fk_letter_template_id_letter_template_version"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_letter")),
    )
    with op.batch_alter_table("letter", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_letter_person_id"), ["person_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("letter", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_letter_person_id"))

    op.drop_table("letter")
    op.drop_table("letter_template_version")
    with op.batch_alter_table("letter_template", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_letter_template_organisation_id"))

    op.drop_table("letter_template")
