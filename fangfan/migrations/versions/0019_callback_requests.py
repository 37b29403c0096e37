"""转人工: a farmer's request to be called back by their paired or village cadre

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-03 18:30:00
"""

import sqlalchemy as sa
from alembic import op

from approvals.record.db import UTCDateTime

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None

OPEN = sa.text("status = 'open'")


def upgrade() -> None:
    op.create_table(
        "callback_requests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("household_id", sa.Integer(), nullable=True),
        sa.Column("village_id", sa.Integer(), nullable=False),
        sa.Column("openid", sa.String(length=64), nullable=False),
        sa.Column("phone", sa.String(length=20), nullable=True),
        sa.Column("cadre_id", sa.Integer(), nullable=False),
        sa.Column("said", sa.Text(), nullable=False),
        sa.Column("requested_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("due_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("done_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("done_by", sa.Integer(), nullable=True),
        sa.Column("done_by_name", sa.String(length=64), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["cadre_id"], ["cadres.id"],
                                name=op.f("fk_callback_requests_cadre_id_cadres")),
        sa.ForeignKeyConstraint(["done_by"], ["cadres.id"],
                                name=op.f("fk_callback_requests_done_by_cadres")),
        sa.ForeignKeyConstraint(["household_id"], ["households.id"],
                                name=op.f("fk_callback_requests_household_id_households")),
        sa.ForeignKeyConstraint(["village_id"], ["places.id"],
                                name=op.f("fk_callback_requests_village_id_places")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_callback_requests")),
    )
    op.create_index("uq_callback_requests_open_openid", "callback_requests", ["openid"],
                    unique=True, sqlite_where=OPEN, postgresql_where=OPEN)
    op.create_index("ix_callback_requests_open", "callback_requests", ["cadre_id", "due_at"],
                    sqlite_where=OPEN, postgresql_where=OPEN)


def downgrade() -> None:
    op.drop_index("ix_callback_requests_open", table_name="callback_requests")
    op.drop_index("uq_callback_requests_open_openid", table_name="callback_requests")
    op.drop_table("callback_requests")
