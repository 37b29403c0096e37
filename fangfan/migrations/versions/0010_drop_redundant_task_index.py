"""drop ix_tasks_case_id: the unique (case_id, stage, round) index already serves case_id

Every task insert (and, on PostgreSQL, every decision: an UPDATE of an indexed column adds
an entry to each of the table's indexes) paid for an index no query needed.

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-25 13:35:00
"""

from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index("ix_tasks_case_id", table_name="tasks")


def downgrade() -> None:
    op.create_index("ix_tasks_case_id", "tasks", ["case_id"], unique=False)
