"""members' labour capacity in three values, who has left; households' 脱贫户 flag

`members.able_to_work` (a bool) becomes `members.labour`: full (有劳动能力), partial (部分丧失)
or none (无劳动能力); true → full, false → none. `members.left_on` is the day a verification
found the member gone (the row stays). `households.formerly_poor` is the 脱贫户 flag.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-03 12:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("members", schema=None) as batch_op:
        batch_op.add_column(sa.Column("labour", sa.String(length=8), nullable=False,
                                      server_default="full"))
        batch_op.add_column(sa.Column("left_on", sa.Date(), nullable=True))
    op.execute("UPDATE members SET labour = CASE WHEN able_to_work THEN 'full' ELSE 'none' END")
    with op.batch_alter_table("members", schema=None) as batch_op:
        batch_op.drop_column("able_to_work")
    with op.batch_alter_table("households", schema=None) as batch_op:
        batch_op.add_column(sa.Column("formerly_poor", sa.Boolean(), nullable=False,
                                      server_default=sa.false()))


def downgrade() -> None:
    with op.batch_alter_table("households", schema=None) as batch_op:
        batch_op.drop_column("formerly_poor")
    with op.batch_alter_table("members", schema=None) as batch_op:
        batch_op.add_column(sa.Column("able_to_work", sa.Boolean(), nullable=False,
                                      server_default=sa.true()))
    op.execute("UPDATE members SET able_to_work = (labour <> 'none')")
    with op.batch_alter_table("members", schema=None) as batch_op:
        batch_op.drop_column("left_on")
        batch_op.drop_column("labour")
