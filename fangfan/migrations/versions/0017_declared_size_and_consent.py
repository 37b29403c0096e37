"""the household size an applicant declares, kept on the household; a cadre-filed case
waiting for the household's consent in the chat

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-03 12:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("households", schema=None) as batch_op:
        batch_op.add_column(sa.Column("declared_size", sa.Integer(), nullable=True))
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.add_column(sa.Column("consent_pending", sa.Boolean(), nullable=False,
                                      server_default=sa.text("false")))


def downgrade() -> None:
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.drop_column("consent_pending")
    with op.batch_alter_table("households", schema=None) as batch_op:
        batch_op.drop_column("declared_size")
