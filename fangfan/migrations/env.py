"""Alembic environment: the engine comes from fangfan.database, never from Flask or an ini."""

from alembic import context

from approvals.record import models  # noqa: F401  (registers every table on Base.metadata)
from approvals.record.db import Base
from bot import models as bot_models  # noqa: F401
from fangfan import scheduling  # noqa: F401  (job leases)
from notifications import models as outbox_models  # noqa: F401

engine = context.config.attributes["engine"]
with engine.connect() as connection:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()
