"""the task indexes the lists use cover open tasks only

Every list of tasks (inboxes, reminders, the supervisors' lists) asks for open ones. Over
open tasks only, an index stays the size of the work in hand however long the history
grows, and deciding a task takes it out of each index instead of moving it within (on
PostgreSQL, an UPDATE adds no entry to a partial index the new row is not in).

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-25 13:50:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

INDEXES = {
    "ix_tasks_status_due": ["status", "due_at"],
    "ix_tasks_place_status": ["place_id", "status"],
    "ix_tasks_assignee_status": ["assignee_id", "status"],
    "ix_tasks_role_status_due": ["role", "status", "due_at"],
    "ix_tasks_role_status_place_stage": ["role", "status", "place_id", "stage"],
    "ix_tasks_status_opened": ["status", "opened_at"],
}
OPEN = sa.text("status = 'open'")


def upgrade() -> None:
    for name, columns in INDEXES.items():
        op.drop_index(name, table_name="tasks")
        op.create_index(name, "tasks", columns, sqlite_where=OPEN, postgresql_where=OPEN)


def downgrade() -> None:
    for name, columns in INDEXES.items():
        op.drop_index(name, table_name="tasks")
        op.create_index(name, "tasks", columns)
