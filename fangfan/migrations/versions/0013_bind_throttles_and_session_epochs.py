"""binding codes with a selector and a failure count, their throttles; session epochs

A binding code is now a selector (finds the code) and a verifier (only its hash kept);
codes issued before have no selector and are cleared: the county issues new ones.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-01 20:30:00
"""

import sqlalchemy as sa
from alembic import op

import approvals.record.db

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("cadres", schema=None) as batch_op:
        batch_op.add_column(sa.Column("bind_selector", sa.String(length=8), nullable=True))
        batch_op.add_column(sa.Column("bind_code_failures", sa.Integer(), nullable=False,
                                      server_default="0"))
        batch_op.add_column(sa.Column("session_epoch", sa.Integer(), nullable=False,
                                      server_default="0"))
        batch_op.create_unique_constraint(batch_op.f("uq_cadres_bind_selector"),
                                          ["bind_selector"])
    op.execute("UPDATE cadres SET bind_code_hash = NULL, bind_code_expires = NULL")
    op.create_table(
        "bind_throttles",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("last_failed_at", approvals.record.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("locked_until", approvals.record.db.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_bind_throttles")),
    )


def downgrade() -> None:
    op.drop_table("bind_throttles")
    with op.batch_alter_table("cadres", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_cadres_bind_selector"), type_="unique")
        batch_op.drop_column("session_epoch")
        batch_op.drop_column("bind_code_failures")
        batch_op.drop_column("bind_selector")
