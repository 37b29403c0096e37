"""revisits record 两不愁三保障, 饮水安全 and rigid expenditure, each secure or not

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-03 12:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("revisits", schema=None) as batch_op:
        batch_op.add_column(sa.Column("secure", sa.JSON(), nullable=False, server_default="{}"))


def downgrade() -> None:
    with op.batch_alter_table("revisits", schema=None) as batch_op:
        batch_op.drop_column("secure")
