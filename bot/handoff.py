"""转人工, 找干部: the farmer asks for a person. The household's paired cadre (else a village
cadre) is asked to call back (approvals.procedure.callbacks records it; the cadre is told at
once through the outbox, notifications.callbacks, in the turn's transaction) and the farmer
is told who and by when. A farmer the record does not know yet is asked for the village and
a phone number first, in one message; the application being filled, if any, waits and goes
on after.
"""

from __future__ import annotations

from sqlalchemy import bindparam, select

from approvals.procedure import callbacks
from approvals.procedure.callbacks import Promise
from approvals.record.errors import Refused
from approvals.record.models import Member
from bot import filling, wording
from bot.conversation import Context, Turn
from bot.reading import Intent, Reading, read
from notifications.callbacks import announce

# Draft keys of a call-back being arranged; removed once it is requested or given up.
KEYS = ("callback_village_id", "callback_phone", "callback_resume", "callback_said")

_KNOWN = (select(Member.household_id, Member.phone)
          .where(Member.openid == bindparam("openid")).limit(1))


def ask_for_person(turn: Turn, reading: Reading) -> str:
    d = turn.draft
    changes = {"callback_said": turn.said[:200]}
    if turn.conv.step != "callback":
        changes["callback_resume"] = turn.conv.step
    turn.save(turn.conv.step, **changes)
    if reading.slots.village or reading.slots.phone:
        _take(turn, reading)
    known = turn.ctx.conn.execute(_KNOWN, {"openid": turn.conv.openid}).first()
    household_id = known.household_id if known else d.get("household_id")
    if household_id is not None:
        phone = d.get("phone") or (known.phone if known else None)
        return _request(turn, household_id, None, phone)
    return _ask_details(turn)


def on_callback_details(turn: Turn, text: str) -> str:
    """The answer to 「您家在哪个村、手机号多少」."""
    reading = read(text, expecting=None, vocabulary=filling.vocabulary(turn))
    if reading.intent == Intent.CANCEL:
        return _resume(turn, "好的，不打电话了。")
    _take(turn, reading)
    if filling.is_filling(turn.draft.get("callback_resume", "")):
        filling.take(turn, reading)  # the village and phone said are the application's too
    return _ask_details(turn)


def _take(turn: Turn, reading: Reading) -> None:
    slots = reading.slots
    place = next((v for v in filling.villages(turn) if v.name == slots.village), None)
    turn.save(turn.conv.step,  # what this message gives; what an earlier one gave is kept
              **({"callback_village_id": place.id} if place else {}),
              **({"callback_phone": slots.phone} if slots.phone else {}))


def _ask_details(turn: Turn) -> str:
    d = turn.draft
    village_id = d.get("callback_village_id") or d.get("village_id")
    phone = d.get("callback_phone") or d.get("phone")
    if village_id and phone:
        return _request(turn, None, village_id, phone)
    turn.save("callback")
    village = wording.village(turn.ctx.config)
    if village_id:
        return "好的。请留一个手机号，干部好给您回电话。"
    if phone:
        return f"好的。您家在哪个{village}？（例如：东沟{village}）"
    return (f"好的，我请干部给您回电话。请告诉我您家在哪个{village}、手机号多少，"
            f"例如：东沟{village} 13800001234。不需要了回复「取消」。")


def _request(turn: Turn, household_id: int | None, village_id: int | None,
             phone: str | None) -> str:
    ctx = turn.ctx
    try:
        promise = ask(ctx, household_id=household_id, village_id=village_id,
                      openid=turn.conv.openid, said=turn.draft.get("callback_said", ""),
                      phone=phone)
    except Refused as refused:
        return _resume(turn, f"{refused}请拨打{ctx.config.notice.hotline}咨询。")
    return _resume(turn, wording.callback_promised(promise, ctx.config))


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


def _resume(turn: Turn, said: str) -> str:
    """Back to where the conversation was: the application's pending question, if any."""
    step = turn.draft.get("callback_resume") or "idle"
    turn.conv.draft = {k: v for k, v in turn.draft.items() if k not in KEYS}
    turn.save(step)
    again = filling.ask_next(turn) if filling.is_filling(step) else ""
    return f"{said}\n\n我们接着填申请：\n{again}" if again else said
