"""phone workbench: stand-ins, binding codes, inbox indexes

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-25 07:47:06.832576
"""

import sqlalchemy as sa
from alembic import op

import approvals.record.db

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "stand_ins",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("cadre_id", sa.Integer(), nullable=False),
        sa.Column("stand_in_id", sa.Integer(), nullable=False),
        sa.Column("starts_on", sa.Date(), nullable=False),
        sa.Column("ends_on", sa.Date(), nullable=False),
        sa.Column("reason", sa.String(length=200), nullable=False),
        sa.Column("named_by", sa.Integer(), nullable=False),
        sa.Column("named_at", approvals.record.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["cadre_id"], ["cadres.id"], name=op.f("fk_stand_ins_cadre_id_cadres")),
        sa.ForeignKeyConstraint(["named_by"], ["cadres.id"], name=op.f("fk_stand_ins_named_by_cadres")),
        sa.ForeignKeyConstraint(["stand_in_id"], ["cadres.id"], name=op.f("fk_stand_ins_stand_in_id_cadres")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stand_ins")),
    )
    with op.batch_alter_table("stand_ins", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_stand_ins_cadre_id"), ["cadre_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_stand_ins_stand_in_id"), ["stand_in_id"], unique=False)
    with op.batch_alter_table("cadres", schema=None) as batch_op:
        batch_op.add_column(sa.Column("bind_code_hash", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("bind_code_expires", approvals.record.db.UTCDateTime(timezone=True), nullable=True))
        batch_op.create_unique_constraint(batch_op.f("uq_cadres_bind_code_hash"), ["bind_code_hash"])
    with op.batch_alter_table("tasks", schema=None) as batch_op:
        batch_op.create_index("ix_tasks_assignee_status", ["assignee_id", "status"], unique=False)
        batch_op.create_index("ix_tasks_role_status_due", ["role", "status", "due_at"], unique=False)
        batch_op.create_index("ix_tasks_role_status_place_stage", ["role", "status", "place_id", "stage"], unique=False)
    with op.batch_alter_table("members", schema=None) as batch_op:
        batch_op.create_index("ix_members_name", ["name"], unique=False,
                              postgresql_ops={"name": "text_pattern_ops"})


def downgrade() -> None:
    with op.batch_alter_table("members", schema=None) as batch_op:
        batch_op.drop_index("ix_members_name")
    with op.batch_alter_table("tasks", schema=None) as batch_op:
        batch_op.drop_index("ix_tasks_role_status_place_stage")
        batch_op.drop_index("ix_tasks_role_status_due")
        batch_op.drop_index("ix_tasks_assignee_status")
    with op.batch_alter_table("cadres", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_cadres_bind_code_hash"), type_="unique")
        batch_op.drop_column("bind_code_expires")
        batch_op.drop_column("bind_code_hash")
    with op.batch_alter_table("stand_ins", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_stand_ins_stand_in_id"))
        batch_op.drop_index(batch_op.f("ix_stand_ins_cadre_id"))
    op.drop_table("stand_ins")
