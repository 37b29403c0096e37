"""users' consents to subscription notifications (订阅通知), one row per user and template

Revision ID: 0020
Revises: 0018
Create Date: 2026-12-03 18:30:00
"""

import sqlalchemy as sa
from alembic import op

from approvals.record.db import UTCDateTime

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "wechat_subscriptions",
        sa.Column("openid", sa.String(length=64), nullable=False),
        sa.Column("template_id", sa.String(length=128), nullable=False),
        sa.Column("remaining", sa.Integer(), nullable=False),
        sa.Column("long_term", sa.Boolean(), nullable=False),
        sa.Column("event_at", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("openid", "template_id", name=op.f("pk_wechat_subscriptions")),
    )


def downgrade() -> None:
    op.drop_table("wechat_subscriptions")
