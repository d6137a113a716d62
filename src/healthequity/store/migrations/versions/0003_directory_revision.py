"""Directory revision: a token that every write to the searched directory tables renews.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22 03:00:00
"""

import uuid
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The tables whose rows the search index holds.
SEARCHED_TABLES = (
    "directory_organization",
    "directory_service",
    "directory_location",
    "directory_service_at_location",
    "directory_phone",
    "directory_schedule",
    "directory_taxonomy_term",
    "directory_attribute",
)
OPERATIONS = ("INSERT", "UPDATE", "DELETE")


def upgrade() -> None:
    op.create_table(
        "directory_revision",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_directory_revision")),
    )
    op.execute(
        sa.text("INSERT INTO directory_revision (id, token) VALUES (1, :token)").bindparams(
            token=uuid.uuid4().hex
        )
    )
    if op.get_bind().dialect.name == "postgresql":
        # Once per statement, however many rows it writes.
        op.execute(
            """CREATE FUNCTION directory_renew_revision() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                UPDATE directory_revision SET token = md5(random()::text || clock_timestamp());
                RETURN NULL;
            END $$"""
        )
        for table in SEARCHED_TABLES:
            op.execute(
                f"CREATE TRIGGER {table}_renews_revision "
                f"AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON {table} "
                "FOR EACH STATEMENT EXECUTE FUNCTION directory_renew_revision()"
            )
    else:
        renew = "UPDATE directory_revision SET token = lower(hex(randomblob(16)))"
        for table in SEARCHED_TABLES:
            for operation in OPERATIONS:
                op.execute(
                    f"CREATE TRIGGER {table}_{operation.lower()}_renews_revision "
                    f"AFTER {operation} ON {table} BEGIN {renew}; END"
                )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table in SEARCHED_TABLES:
            op.execute(f"DROP TRIGGER {table}_renews_revision ON {table}")
        op.execute("DROP FUNCTION directory_renew_revision()")
    else:
        for table in SEARCHED_TABLES:
            for operation in OPERATIONS:
                op.execute(f"DROP TRIGGER {table}_{operation.lower()}_renews_revision")
    op.drop_table("directory_revision")
