"""复核: the township's re-examination of a decision not to enrol, with its deadline and result

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-03 12:30:00
"""

import sqlalchemy as sa
from alembic import op

import approvals.record.db

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    when = approvals.record.db.UTCDateTime(timezone=True)
    op.create_table(
        "reexaminations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("task_id", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(length=32), nullable=False),
        sa.Column("place_id", sa.Integer(), nullable=False),
        sa.Column("requested_at", when, nullable=False),
        sa.Column("requested_by", sa.String(length=64), nullable=False),
        sa.Column("grounds", sa.Text(), nullable=False),
        sa.Column("due_at", when, nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("result", sa.String(length=16), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("decided_at", when, nullable=True),
        sa.Column("decided_by", sa.Integer(), nullable=True),
        sa.Column("decided_by_name", sa.String(length=64), nullable=True),
        sa.Column("told_at", when, nullable=True),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"],
                                name=op.f("fk_reexaminations_case_id_cases")),
        sa.ForeignKeyConstraint(["decided_by"], ["cadres.id"],
                                name=op.f("fk_reexaminations_decided_by_cadres")),
        sa.ForeignKeyConstraint(["place_id"], ["places.id"],
                                name=op.f("fk_reexaminations_place_id_places")),
        sa.ForeignKeyConstraint(["task_id"], ["tasks.id"],
                                name=op.f("fk_reexaminations_task_id_tasks")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reexaminations")),
        sa.UniqueConstraint("case_id", "task_id",
                            name=op.f("uq_reexaminations_case_id_task_id")),
    )
    op.create_index("ix_reexaminations_open", "reexaminations", ["role", "place_id", "due_at"],
                    sqlite_where=sa.text("status = 'open'"),
                    postgresql_where=sa.text("status = 'open'"))
    op.create_index("ix_reexaminations_untold", "reexaminations", ["id"],
                    sqlite_where=sa.text("told_at IS NULL"),
                    postgresql_where=sa.text("told_at IS NULL"))


def downgrade() -> None:
    op.drop_index("ix_reexaminations_untold", table_name="reexaminations")
    op.drop_index("ix_reexaminations_open", table_name="reexaminations")
    op.drop_table("reexaminations")
