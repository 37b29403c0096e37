"""转人工, 找干部 in the chat: the request recorded (approvals/procedure/callbacks.py) and the
cadre told at once (notifications/callbacks.py), in the turn's one transaction.

The dialogue calls `ask` and says `bot.wording.callback_promised(promise, config)`; a
`Refused` (nobody to call there) is said as it is, with the hotline."""

from __future__ import annotations

from approvals.procedure import callbacks
from approvals.procedure.callbacks import Promise
from bot.conversation import Context
from notifications.callbacks import announce


def ask(ctx: Context, *, household_id: int | None, village_id: int | None, openid: str,
        said: str, phone: str | None = None) -> Promise:
    """Record the request (or find the user's open one) and, when new, tell its cadre."""
    config = ctx.config
    promise = callbacks.request(
        ctx.s, household_id=household_id, village_id=village_id, openid=openid, said=said,
        now=ctx.now, calendar=ctx.calendar, working_days=config.chat.callback_working_days,
        role_labels={key: role.label for key, role in config.roles.items()}, phone=phone)
    if not promise.already:
        announce(ctx.s.connection(), promise.request_id, ctx.now,
                 personal_data_roles=config.workbench.personal_data_roles)
    return promise
