"""assistance: revisits, measure details

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-25 08:19:29.398969
"""
import sqlalchemy as sa
from alembic import op

import approvals.record.db

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table("revisits",
    sa.Column("id", sa.Integer(), nullable=False),
    sa.Column("household_id", sa.Integer(), nullable=False),
    sa.Column("cadre_id", sa.Integer(), nullable=False),
    sa.Column("visited_on", sa.Date(), nullable=False),
    sa.Column("members", sa.Integer(), nullable=False),
    sa.Column("wage", sa.Numeric(precision=12, scale=2), nullable=False),
    sa.Column("business", sa.Numeric(precision=12, scale=2), nullable=False),
    sa.Column("property", sa.Numeric(precision=12, scale=2), nullable=False),
    sa.Column("transfer", sa.Numeric(precision=12, scale=2), nullable=False),
    sa.Column("production_costs", sa.Numeric(precision=12, scale=2), nullable=False),
    sa.Column("out_of_pocket", sa.Numeric(precision=12, scale=2), nullable=False),
    sa.Column("per_capita_net", sa.Numeric(precision=12, scale=2), nullable=False),
    sa.Column("risk_remains", sa.Boolean(), nullable=False),
    sa.Column("weak_motivation", sa.Boolean(), nullable=False),
    sa.Column("annual", sa.JSON(), nullable=False),
    sa.Column("notes", sa.Text(), nullable=False),
    sa.Column("photos", sa.JSON(), nullable=False),
    sa.Column("recorded_at", approvals.record.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(["cadre_id"], ["cadres.id"], name=op.f("fk_revisits_cadre_id_cadres")),
    sa.ForeignKeyConstraint(["household_id"], ["households.id"], name=op.f("fk_revisits_household_id_households")),
    sa.PrimaryKeyConstraint("id", name=op.f("pk_revisits"))
    )
    with op.batch_alter_table("revisits", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_revisits_household_id"), ["household_id"], unique=False)

    with op.batch_alter_table("income_records", schema=None) as batch_op:
        batch_op.add_column(sa.Column("revisit_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f("fk_income_records_revisit_id_revisits"), "revisits", ["revisit_id"], ["id"])

    with op.batch_alter_table("measures", schema=None) as batch_op:
        batch_op.add_column(sa.Column("subtype", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("unit", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("amount", sa.Numeric(precision=12, scale=2), nullable=True))
        batch_op.add_column(sa.Column("result", sa.Text(), nullable=True))



def downgrade() -> None:
    with op.batch_alter_table("measures", schema=None) as batch_op:
        batch_op.drop_column("result")
        batch_op.drop_column("amount")
        batch_op.drop_column("unit")
        batch_op.drop_column("subtype")

    with op.batch_alter_table("income_records", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_income_records_revisit_id_revisits"), type_="foreignkey")
        batch_op.drop_column("revisit_id")

    with op.batch_alter_table("revisits", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_revisits_household_id"))

    op.drop_table("revisits")
