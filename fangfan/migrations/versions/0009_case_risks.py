"""case risks: one row per risk type of a case, for filtering on an index; list indexes

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-25 08:50:00
"""

import json

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    table = op.create_table(
        "case_risks",
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("risk", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], name=op.f("fk_case_risks_case_id_cases")),
        sa.PrimaryKeyConstraint("case_id", "risk", name=op.f("pk_case_risks")),
    )
    op.create_index("ix_case_risks_risk_case", "case_risks", ["risk", "case_id"], unique=False)
    op.create_index("ix_tasks_status_opened", "tasks", ["status", "opened_at"], unique=False)
    op.create_index("ix_cases_status_opened", "cases", ["status", "opened_at"], unique=False)
    rows = []
    for case_id, risks in op.get_bind().execute(sa.text("SELECT id, risk_types FROM cases")):
        for risk in dict.fromkeys(json.loads(risks) if isinstance(risks, str) else risks or []):
            rows.append({"case_id": case_id, "risk": risk})
    if rows:
        op.bulk_insert(table, rows)


def downgrade() -> None:
    op.drop_index("ix_cases_status_opened", table_name="cases")
    op.drop_index("ix_tasks_status_opened", table_name="tasks")
    op.drop_index("ix_case_risks_risk_case", table_name="case_risks")
    op.drop_table("case_risks")
