"""The conversation with a farmer (or a cadre filing for one), one message at a time.

Every text (or voice recognised as text) is read once (bot.reading): what the farmer wants
and every slot the message fills. `respond_at_once` answers what needs no lock on the
conversation (进度, 帮助, a policy question, a welcome, what cannot be read); `respond`
takes the locked conversation row and any other message. The draft is saved with the
conversation after every answer, in the same transaction as the message's retry guard, so
nothing said is lost and a farmer can come back days later.

An application is filled as slots (bot.filling): a message may give several, in any order;
the bot asks only for what is missing. A question asked in the middle is answered and the
pending question is asked again; what cannot be understood gets a short menu, not a dead end.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from sqlalchemy import bindparam, select

from approvals.procedure import applications
from approvals.record.models import Cadre, CaseStatus
from bot import application, filling, handoff, progress, wording
from bot.conversation import Chat, Context, Turn
from bot.models import Conversation
from bot.reading import Intent, Reading, Vocabulary, read
from bot.wechat_adapter import Inbound

MAX_TEXT = 500  # longer messages are cut; nobody types more on a phone

MENU_KEYS = {"APPLY": Intent.APPLY, "PROGRESS": Intent.PROGRESS, "POLICY": Intent.QUESTION}
MENU = {"button": [{"type": "click", "name": "我要申请", "key": "APPLY"},
                   {"type": "click", "name": "查询进度", "key": "PROGRESS"},
                   {"type": "click", "name": "政策说明", "key": "POLICY"}]}

# Answered without the conversation's lock: they change nothing.
AT_ONCE = (Intent.PROGRESS, Intent.HELP, Intent.QUESTION)


def respond(ctx: Context, conv: Chat, inbound: Inbound) -> str:
    """The reply to a message `respond_at_once` left to the conversation. The caller saves
    `conv` and commits."""
    turn = Turn(ctx, conv, inbound.text.strip()[:MAX_TEXT])
    if inbound.kind == "event":  # a menu click that needs the conversation (我要申请)
        return _apply(turn, Reading(Intent.APPLY))
    if inbound.kind == "image":
        return _photo(turn, inbound)
    text = turn.said  # kept as typed; the reader normalizes
    if conv.step == "edit":
        chosen = _edit_choice(turn, text)
        if chosen:
            return filling.change(turn, chosen, None)
    if conv.step == "callback":
        return handoff.on_callback_details(turn, text)
    if conv.step == "reexamine":
        said = read(text, expecting=None, vocabulary=filling.vocabulary(turn, with_villages=False))
        declined = said.intent in (Intent.CANCEL, Intent.REFUSE, Intent.SKIP) or text.rstrip(
            "。.！!") in ("算了", "不了", "不用了", "不申请了")
        return application.on_grounds(turn, text, declined)
    reading = read(text, expecting=filling.expecting(conv.step),
                   vocabulary=filling.vocabulary(turn))
    return INTENTS.get(reading.intent, _answer)(turn, reading)


def respond_at_once(ctx: Context, inbound: Inbound) -> str | None:
    """The reply if the conversation's lock plays no part in it, else None and `respond`
    answers. The webhook locks the conversation only for the latter: a flood of 「进度」
    after a notice takes no lock. A question asked in the middle of an application is
    answered with the pending question after it (the conversation read, not locked)."""
    match inbound.kind:
        case "event" if inbound.event == "click" and inbound.event_key in MENU_KEYS:
            intent = MENU_KEYS[inbound.event_key]
            if intent == Intent.APPLY:
                return None
            reading = Reading(intent, faq=None)
            return _at_once(ctx, inbound.openid, reading)
        case "event":
            # a welcome on subscribing, else nothing to say
            return wording.welcome(ctx.config) if inbound.event == "subscribe" else ""
        case "image":
            return None
        case "voice" if not inbound.text.strip():
            return _with_pending(ctx, inbound.openid, (
                "抱歉，这条语音没能识别成文字。请打字告诉我，或者再说一遍（说慢一点、说普通话）；"
                f"也可以回复「找干部」请干部给您回电话，或拨打{ctx.config.notice.hotline}。"))
        case "text" | "voice":
            text = inbound.text.strip()[:MAX_TEXT]
            if not text:
                return wording.HINT
            reading = read(text, expecting=None, vocabulary=Vocabulary(
                risk_types=ctx.config.risk_types, faq=filling.faq_entries(ctx.config)))
            if reading.intent not in AT_ONCE:
                return None  # a question's slots are hypothetical (「老伴住院了能申请吗」)
            return _at_once(ctx, inbound.openid, reading)
        case _:
            return "暂时只能看懂文字、语音和照片。回复「帮助」查看能做什么。"


_STEP = select(Conversation.step, Conversation.draft).where(
    Conversation.openid == bindparam("openid"))


def _at_once(ctx: Context, openid: str, reading: Reading) -> str:
    """The answer, then the application's pending question if one is being filled (帮助
    lists what can be said, 取消 and 修改 among them: it reads nothing)."""
    text = _question(ctx, openid, reading)
    if reading.intent == Intent.HELP:
        return text
    return _with_pending(ctx, openid, text)


def _with_pending(ctx: Context, openid: str, text: str) -> str:
    """`text`, then the pending question of an application being filled (read, not locked)."""
    row = ctx.conn.execute(_STEP, {"openid": openid}).first()
    if row is None or not filling.is_filling(row.step):
        return text
    again = filling.ask_again(Turn(ctx, Chat(openid, row.step, dict(row.draft))))
    return f"{text}\n\n我们接着填申请：\n{again}" if again else text


def _question(ctx: Context, openid: str, reading: Reading) -> str:
    """进度, 帮助 or a policy question: the answer alone."""
    if reading.intent == Intent.PROGRESS:
        return progress.progress(ctx, openid)
    if reading.intent == Intent.HELP:
        return wording.help_text(ctx.config)
    return wording.faq_answer(ctx.config, reading.faq, ctx.now)


# -- what each intent does to the conversation ----------------------------------------------

def _apply(turn: Turn, reading: Reading) -> str:
    """Start an application (or resume the one being filled), with whatever the message
    already says (「我要申请，我叫王秀英 5101…」)."""
    ctx, conv = turn.ctx, turn.conv
    if reading.slots.difficulty and not reading.slots.risks:
        # 「我家困难」 says why they write, not what happened: the difficulty is still asked
        reading = replace(reading, slots=replace(reading.slots, difficulty=None))
    if filling.is_filling(conv.step):
        said = filling.take(turn, reading)
        intro = "" if said else "您有一份还没填完的申请，我们接着填。"
        return _then_ask(turn, [*said, intro] if intro else said)
    cadre = ctx.conn.execute(_CADRE, {"openid": conv.openid}).first()
    conv.draft = {"cadre_id": cadre.id} if cadre else {}
    conv.step = "who"
    intro = (f"{cadre.name}，您好。现在为农户代为申请。" if cadre else
             "好的，我们开始申请。随时回复「取消」可以放弃，有不懂的可以直接问我。")
    said = filling.take(turn, reading)
    return _then_ask(turn, [intro, *said] if conv.step != "idle" else said)


# a bound cadre who says 申请 files for a household (干部代为申请)
_CADRE = select(Cadre.id, Cadre.name).where(Cadre.openid == bindparam("openid"), Cadre.active)


def _then_ask(turn: Turn, said: list[str]) -> str:
    """What was said, then the next question, unless a refusal ended the application."""
    if turn.conv.step == "idle":
        return "\n".join(s for s in said if s)
    return "\n".join([*(s for s in said if s), filling.ask_next(turn)])


def _answer(turn: Turn, reading: Reading) -> str:
    """Slot values (or nothing readable): into the application, or the start of one."""
    conv = turn.conv
    if filling.is_filling(conv.step) and reading.slots.filled():
        return _then_ask(turn, filling.take(turn, reading))
    if not filling.is_filling(conv.step) and filling.starts_application(reading):
        return _apply(turn, reading)
    return _not_understood(turn, reading)


def _not_understood(turn: Turn, reading: Reading) -> str:
    problems = "\n".join(reading.problems)
    if filling.is_filling(turn.conv.step):
        head = problems or "没太明白您的意思。"
        return f"{head}\n{filling.ask_again(turn)}"
    if turn.conv.step == "withdraw":
        turn.save("idle", withdraw_case=None)
        return "好的，申请保留，继续办理。"
    if not problems and any(word in turn.said for word in CONSENTING):
        return _agree(turn, reading)  # 「同意」 again after submitting
    return (problems + "\n" if problems else "") + wording.MENU_TEXT


def _greeting(turn: Turn, reading: Reading) -> str:
    if filling.is_filling(turn.conv.step):
        return f"您好！我们接着填申请：\n{filling.ask_again(turn)}"
    return "您好！" + wording.OPTIONS


def _asked(turn: Turn, reading: Reading) -> str:
    """进度, 帮助 or a policy question on the locked path (a menu click): the answer, then the
    pending question again."""
    answer = _question(turn.ctx, turn.conv.openid, reading)
    again = filling.ask_again(turn) if filling.is_filling(turn.conv.step) else ""
    return f"{answer}\n\n我们接着填申请：\n{again}" if again else answer


def _cancel(turn: Turn, reading: Reading) -> str:
    ctx, conv = turn.ctx, turn.conv
    if not filling.is_filling(conv.step):
        return "现在没有正在填写的申请。需要时回复「申请」开始申请。"
    turn.save("idle")
    conv.draft = {}
    applications.discard_photos(ctx.conn, conv.openid)
    return "好的，已取消这次申请，填写的内容已删除。需要时回复「申请」重新开始。"


def _edit(turn: Turn, reading: Reading) -> str:
    if not filling.is_filling(turn.conv.step) or not turn.draft.get("id_number"):
        return "现在没有可以修改的内容。回复「申请」开始申请。"
    if reading.edit:
        return filling.change(turn, reading.edit, reading)
    return filling.list_editable(turn)


def _edit_choice(turn: Turn, text: str) -> str | None:
    """At the list of what may be changed: a number, or (part of) a label."""
    options = filling.editable(turn)
    cleaned = text.strip().rstrip("。.")
    if cleaned.isdigit() and 1 <= int(cleaned) <= len(options):
        return options[int(cleaned) - 1][0]
    hits = [key for key, label in options if cleaned and (cleaned in label or label in cleaned)]
    return hits[0] if len(hits) == 1 else None


# At the summary, agreeing signs the 承诺授权: only words that say so submit (「好的」 may be
# said to anything).
CONSENTING = ("同意", "确认", "提交", "签")


def _agree(turn: Turn, reading: Reading) -> str:
    step = turn.conv.step
    if step == "confirm":
        if any(word in turn.said for word in CONSENTING):
            return application.submit(turn)
        return ("提交就表示您同意上面的授权。没问题请回复「同意」提交；"
                "要改直接说，例如「收入改成两万」。")
    if step == "withdraw":
        return application.on_withdraw(turn, True)
    if filling.is_filling(step):
        return _answer(turn, reading)
    submitted = next((c for c in progress.cases_of(turn.ctx.s, turn.conv.openid)
                      if c.status == CaseStatus.OPEN), None)
    if submitted is not None and submitted.consent_pending:  # a cadre filed it: 「同意」 confirms
        return application.confirm_consent(turn)
    if submitted is not None:
        return (f"您的申请已经提交了（编号 {submitted.number}），正在办理。"
                "回复「进度」可以查看办到哪一步。")
    return "好的。需要时回复「申请」开始申请，回复「进度」查询。"


def _refuse(turn: Turn, reading: Reading) -> str:
    step = turn.conv.step
    if step == "confirm":
        return (f"没有您的同意，申请没法提交。如有顾虑，可以联系"
                f"{wording.village(turn.ctx.config)}干部当面办理。"
                "要改哪一项直接说（例如「收入改成两万」），回复「同意」提交，或「取消」放弃。")
    if step == "withdraw":
        return application.on_withdraw(turn, False)
    return _answer(turn, reading)


def _skip(turn: Turn, reading: Reading) -> str:
    if turn.conv.step == "phone":
        turn.save("phone", phone_skipped=True)
        return filling.ask_next(turn)
    return _answer(turn, reading)


def _withdraw(turn: Turn, reading: Reading) -> str:
    return application.ask_withdraw(turn)


def _consent(turn: Turn, reading: Reading) -> str:
    return application.confirm_consent(turn)


def _reexamine(turn: Turn, reading: Reading) -> str:
    if reading.grounds:
        return application.reexamine(turn, reading.grounds)
    return application.ask_grounds(turn)


def _photo(turn: Turn, inbound: Inbound) -> str:
    """Photos are recorded now and downloaded after the answer (bot.media)."""
    s, conv = turn.ctx.s, turn.conv
    open_case = None
    if not filling.is_filling(conv.step):
        open_case = next((c for c in progress.cases_of(s, conv.openid)
                          if c.status == CaseStatus.OPEN), None)
        if open_case is None:
            return "收到照片。要申请的话，请先回复「申请」，填写过程中可以随时发照片。"
    if not inbound.media_id:
        return "这张照片没有收到，请再发一次。"
    if not applications.receive_photo(s, openid=conv.openid, media_id=inbound.media_id,
                                      pic_url=inbound.pic_url, now=turn.ctx.now,
                                      case=open_case):
        return "这张照片已经收到了，不用再发。"  # the same photo again, under a new MsgId
    if open_case:
        return f"收到照片，已补充到申请 {open_case.number} 里，干部核实时会看到。"
    turn.save(conv.step, photos=turn.draft.get("photos", 0) + 1)
    again = filling.ask_again(turn)
    return f"收到照片（第{turn.draft['photos']}张），会附在申请里。" + (
        f"\n{again}" if again else "")


INTENTS: dict[Intent, Callable[[Turn, Reading], str]] = {
    Intent.APPLY: _apply, Intent.PROGRESS: _asked, Intent.HELP: _asked,
    Intent.QUESTION: _asked, Intent.WITHDRAW: _withdraw, Intent.CANCEL: _cancel,
    Intent.EDIT: _edit, Intent.HUMAN: handoff.ask_for_person, Intent.REEXAMINE: _reexamine,
    Intent.CONSENT: _consent, Intent.AGREE: _agree, Intent.REFUSE: _refuse,
    Intent.SKIP: _skip, Intent.GREETING: _greeting, Intent.ANSWER: _answer,
    Intent.UNKNOWN: _answer,
}
