"""部门筛查预警: screening runs and the hits they found, with their evidence

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-03 15:00:00
"""

import sqlalchemy as sa
from alembic import op

from approvals.record.db import UTCDateTime

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None

LISTED = sa.text("outcome = 'listed' AND visited_at IS NULL")


def upgrade() -> None:
    op.create_table(
        "screening_runs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("scope", sa.String(length=8), nullable=False),
        sa.Column("trigger", sa.String(length=64), nullable=False),
        sa.Column("started_by", sa.String(length=64), nullable=False),
        sa.Column("feeds_dir", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("step", sa.String(length=64), nullable=False),
        sa.Column("progress", sa.Integer(), nullable=False),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("started_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("finished_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("flow_run_id", sa.String(length=64), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("report", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_screening_runs")),
    )
    op.create_table(
        "screening_hits",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("household_id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=True),
        sa.Column("rule", sa.String(length=40), nullable=False),
        sa.Column("rule_name", sa.String(length=40), nullable=False),
        sa.Column("level", sa.String(length=2), nullable=False),
        sa.Column("risk", sa.String(length=32), nullable=False),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("figures", sa.JSON(), nullable=False),
        sa.Column("evidence", sa.JSON(), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("visited_at", UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"],
                                name=op.f("fk_screening_hits_case_id_cases")),
        sa.ForeignKeyConstraint(["household_id"], ["households.id"],
                                name=op.f("fk_screening_hits_household_id_households")),
        sa.ForeignKeyConstraint(["run_id"], ["screening_runs.id"],
                                name=op.f("fk_screening_hits_run_id_screening_runs")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_screening_hits")),
        sa.UniqueConstraint("household_id", "fingerprint",
                            name=op.f("uq_screening_hits_household_id_fingerprint")),
    )
    with op.batch_alter_table("screening_hits", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_screening_hits_case_id"), ["case_id"])
        batch_op.create_index(batch_op.f("ix_screening_hits_run_id"), ["run_id"])
        batch_op.create_index("ix_screening_hits_listed", ["household_id"],
                              sqlite_where=LISTED, postgresql_where=LISTED)


def downgrade() -> None:
    op.drop_table("screening_hits")
    op.drop_table("screening_runs")
