"""plain-mode callbacks' (timestamp, nonce), so a signed URL carries one body only

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-01 20:30:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "wechat_plain_nonces",
        sa.Column("timestamp", sa.BigInteger(), nullable=False),
        sa.Column("nonce", sa.String(length=64), nullable=False),
        sa.Column("body_sha256", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("timestamp", "nonce", name=op.f("pk_wechat_plain_nonces")),
    )


def downgrade() -> None:
    op.drop_table("wechat_plain_nonces")
