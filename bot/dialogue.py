"""The conversation with a farmer (or a cadre filing for one), one message at a time.

`respond_at_once` answers what needs no conversation (帮助, 政策, 进度); `respond` takes the
conversation row and any other message and returns the reply. The draft is saved with the
conversation after every answer, in the same transaction as the message's retry guard, so
nothing said is lost and a farmer can come back days later.

The application asks only what is not known yet, in this order (`_missing`): who (name and ID
number; a household in the roster is recognised and its village, size and phone are not
asked again), village, household size, the difficulty in their own words (mapped to risk
types), income over the last 12 months, a phone number (optional), then the summary with
the consent to the use of personal data. Photos may be sent at any point.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from sqlalchemy import bindparam, select

from approvals.procedure import applications
from approvals.record.definitions import Level
from approvals.record.errors import NotAllowed
from approvals.record.identity import mask_id, mask_phone
from approvals.record.models import Cadre, CaseStatus, Member, Place
from bot import answers, application, progress, wording
from bot.answers import Unclear
from bot.conversation import Chat, Context, Turn
from bot.wechat_adapter import Inbound

MAX_TEXT = 500  # longer messages are cut; nobody types more on a phone

COMMANDS = {
    "申请": "apply", "我要申请": "apply", "开始申请": "apply", "apply": "apply",
    "进度": "progress", "查询": "progress", "查询进度": "progress", "查进度": "progress",
    "帮助": "help", "help": "help", "?": "help", "？": "help", "菜单": "help",
    "取消": "cancel", "不申请了": "cancel", "放弃": "cancel",
    "修改": "edit", "改": "edit",
    "撤回": "withdraw", "撤销": "withdraw",
    "确认授权": "consent", "同意授权": "consent",
    "政策": "policy", "政策说明": "policy",
}
MENU_KEYS = {"APPLY": "apply", "PROGRESS": "progress", "POLICY": "policy"}
MENU = {"button": [{"type": "click", "name": "我要申请", "key": "APPLY"},
                   {"type": "click", "name": "查询进度", "key": "PROGRESS"},
                   {"type": "click", "name": "政策说明", "key": "POLICY"}]}

# The fields of the summary, in the order they are asked; `修改` lists them by number.
FIELDS = [("who", "姓名和身份证号"), ("village", "所在{village}"), ("size", "家庭人口"),
          ("difficulty", "困难情况"), ("income", "近12个月家庭总收入"), ("phone", "联系电话")]


def respond(ctx: Context, conv: Chat, inbound: Inbound) -> str:
    """The reply to a message `respond_at_once` left to the conversation. The caller saves
    `conv` and commits."""
    turn = Turn(ctx, conv)
    if inbound.kind == "event":  # a menu click that needs the conversation (我要申请)
        return _command(turn, MENU_KEYS[inbound.event_key])
    if inbound.kind == "image":
        return _photo(turn, inbound)
    text = inbound.text.strip()[:MAX_TEXT]  # kept as typed; the parsers normalize
    grounds = _reexamination_in(text)
    if grounds is not None:
        return application.reexamine(turn, grounds)
    command = _command_in(text)
    if command:
        return _command(turn, command)
    handler = STEP_HANDLERS.get(conv.step)
    if handler is None:
        return wording.HINT
    try:
        return handler(turn, text)
    except Unclear as unclear:
        return str(unclear)


# Commands whose reply neither reads nor changes the conversation.
AT_ONCE = {"help": lambda ctx, openid: wording.help_text(ctx.config),
           "policy": lambda ctx, openid: wording.policy(ctx.config),
           "progress": progress.progress}


def respond_at_once(ctx: Context, inbound: Inbound) -> str | None:
    """The reply if the conversation plays no part in it (帮助, 政策, 进度, a welcome, what we
    cannot read), else None and `respond` answers. The webhook reads and locks the
    conversation only for the latter: a flood of 「进度」 after a notice takes no lock."""
    match inbound.kind:
        case "event" if inbound.event == "click" and inbound.event_key in MENU_KEYS:
            command: str | None = MENU_KEYS[inbound.event_key]
        case "event":
            # a welcome on subscribing, else nothing to say
            return wording.welcome(ctx.config) if inbound.event == "subscribe" else ""
        case "image":
            return None
        case "voice" if not inbound.text.strip():
            return "抱歉，这条语音没能识别成文字。请打字告诉我，或者再说一遍（说慢一点）。"
        case "text" | "voice":
            text = inbound.text.strip()[:MAX_TEXT]
            if not text:
                return wording.HINT
            command = _command_in(text)
        case _:
            return "暂时只能看懂文字、语音和照片。回复「帮助」查看能做什么。"
    return AT_ONCE[command](ctx, inbound.openid) if command in AT_ONCE else None


# 复核: the applicant disagrees with 不予纳入; what follows the words is their grounds
REEXAMINE = ("申请复核", "要求复核", "我要复核", "我不服", "不服", "复核")


def _reexamination_in(text: str) -> str | None:
    """The grounds ("" if none) when the message asks for a 复核, else None."""
    said = answers.normalize(text)
    word = next((w for w in REEXAMINE if said.startswith(w)), None)
    return None if word is None else said[len(word):].strip(" ：:，,。.！!")


def _command_in(text: str) -> str | None:
    return COMMANDS.get(answers.normalize(text).rstrip("。！!.~～").lower())


# -- commands on the conversation -----------------------------------------------------------

def _command(turn: Turn, command: str) -> str:
    """A command that acts on the conversation (those in AT_ONCE were answered before)."""
    ctx, conv = turn.ctx, turn.conv
    if command == "cancel":
        if conv.step in ("idle", ""):
            return "现在没有正在填写的申请。" + wording.HINT
        turn.save("idle")
        conv.draft = {}
        applications.discard_photos(ctx.conn, conv.openid)
        return "好的，已取消这次申请，填写的内容已删除。需要时回复「申请」重新开始。"
    if command == "edit":
        if not conv.draft.get("id_number"):
            return "现在没有可以修改的内容。回复「申请」开始申请。"
        turn.save("edit")
        return "要修改哪一项？回复序号：\n" + "\n".join(
            f"{i}. {label}" for i, (_, label) in enumerate(_editable(turn), start=1))
    if command == "withdraw":
        return application.ask_withdraw(turn)
    if command == "consent":
        return application.confirm_consent(turn)
    # apply
    if conv.step not in ("idle", "", "withdraw"):
        return "您有一份还没填完的申请，我们接着填。\n" + _ask_next(turn)
    cadre = ctx.conn.execute(_CADRE, {"openid": conv.openid}).first()
    turn.conv.draft = {"cadre_id": cadre.id} if cadre else {}
    intro = (f"{cadre.name}，您好。现在为农户代为申请。\n" if cadre else
             "好的，我们开始申请，大约需要回答5个问题，随时回复「取消」可以放弃。\n")
    return intro + _ask_next(turn)


# a bound cadre who says 申请 files for a household (干部代为申请)
_CADRE = select(Cadre.id, Cadre.name).where(Cadre.openid == bindparam("openid"), Cadre.active)


# -- the application, step by step ----------------------------------------------------------

def _missing(draft: dict[str, Any]) -> str:
    """The first thing still to ask; "confirm" when everything is there."""
    if "id_number" not in draft:
        return "who"
    if "village_id" not in draft:
        return "village"
    if "size" not in draft:
        return "size"
    if "difficulty" not in draft:
        return "difficulty"
    if "risks" not in draft:
        return "risks"
    if "income" not in draft:
        return "income"
    if "phone" not in draft and not draft.get("phone_skipped"):
        return "phone"
    return "confirm"


def _ask_next(turn: Turn) -> str:
    step = _missing(turn.draft)
    turn.save(step)
    return QUESTIONS[step](turn)


def _ask_who(turn: Turn) -> str:
    whose = "户主" if turn.draft.get("cadre_id") else "您（或户主）"
    return f"请发送{whose}的姓名和身份证号，中间空一格，例如：\n张三 110101199003074578"


def _villages(turn: Turn) -> list[Place]:
    query = select(Place).where(Place.level == "village").order_by(Place.id)
    cadre = application.filer(turn)
    if cadre:  # a cadre files only within their jurisdiction
        query = query.where(Place.path.startswith(cadre.place_path))
    return list(turn.ctx.s.scalars(query))


def _ask_village(turn: Turn) -> str:
    villages = _villages(turn)
    towns: dict[int | None, str] = {p.id: p.name for p in turn.ctx.s.scalars(select(Place).where(
        Place.id.in_({v.parent_id for v in villages})))}
    listing = "\n".join(f"{i}. {v.name}（{towns.get(v.parent_id, '')}）"
                        for i, v in enumerate(villages, start=1))
    village = turn.ctx.config.levels[Level.VILLAGE]
    return f"您家在哪个{village}？回复序号或{village}名：\n{listing}"


def _ask_size(turn: Turn) -> str:
    return "家里一共几口人？（回复数字，例如：4）"


def _ask_difficulty(turn: Turn) -> str:
    return ("家里遇到了什么困难？请用一两句话说说，例如：「老伴住院花了五万多」"
            "「冰雹把庄稼打了」。也可以直接发语音，或发病历、票据、现场的照片。")


def _ask_risks(turn: Turn) -> str:
    labels = list(turn.ctx.config.risk_types.values())
    return ("您的困难属于哪一类？回复序号，可以多选（例如：1 3）：\n"
            + "\n".join(f"{i}. {label}" for i, label in enumerate(labels, start=1)))


def _ask_income(turn: Turn) -> str:
    risks = "、".join(turn.ctx.config.risk_types[r] for r in turn.draft["risks"])
    return (f"记下了，困难类型：{risks}（不对的话最后可以修改）。\n"
            "过去12个月，全家总收入大约多少钱？例如：三万、3万 或 30000元。")


def _ask_phone(turn: Turn) -> str:
    return "留一个手机号，方便干部上门前联系您。不想留请回复「跳过」。"


def _ask_confirm(turn: Turn) -> str:
    d, config = turn.draft, turn.ctx.config
    risks = "、".join(config.risk_types[r] for r in d["risks"])
    photos = f"\n照片：{d['photos']}张" if d.get("photos") else ""
    phone = mask_phone(d["phone"]) if d.get("phone") else "未留"
    return (f"请核对：\n姓名：{d['name']}\n身份证号：{mask_id(d['id_number'])}\n"
            f"所在{config.levels[Level.VILLAGE]}：{d['village_name']}\n家庭人口：{d['size']}人\n困难类型：{risks}\n"
            f"困难情况：{d['difficulty']}\n近12个月家庭总收入：{d['income']}元\n"
            f"联系电话：{phone}{photos}\n\n{wording.consent(turn.ctx.config)}\n\n"
            "无误请回复「同意」提交；要改请回复「修改」；不申请了回复「取消」。")


QUESTIONS: dict[str, Callable[[Turn], str]] = {
    "who": _ask_who, "village": _ask_village, "size": _ask_size,
    "difficulty": _ask_difficulty, "risks": _ask_risks, "income": _ask_income,
    "phone": _ask_phone, "confirm": _ask_confirm,
}


def _on_who(turn: Turn, text: str) -> str:
    who = answers.identity(text)
    s = turn.ctx.s
    member = s.scalar(select(Member).where(Member.id_number == who.id_number))
    if member is None:
        turn.save("who", name=who.name, id_number=who.id_number, household_id=None)
        return f"好的，{who.name}。\n" + _ask_next(turn)
    if member.name != who.name:
        raise Unclear("姓名和身份证号对不上，请核对后重新发送（姓名要和身份证上一致）。")
    household = member.household
    cadre = application.filer(turn)
    if cadre:
        try:
            applications.ensure_may_file(cadre, household.village.path)
        except NotAllowed as refused:
            raise Unclear(f"{refused}请核对身份证号，或请所在"
                          f"{turn.ctx.config.levels[Level.VILLAGE]}的干部代为申请。") from None
    refusal = application.cannot_apply(s, household)
    if refusal:
        turn.save("idle")
        turn.conv.draft = {}
        return refusal
    head_phone = next((m.phone for m in household.members if m.phone), None)
    turn.save("who", name=who.name, id_number=who.id_number, household_id=household.id,
              village_id=household.village_id, village_name=household.village.name,
              size=len(household.members), phone=member.phone or head_phone)
    return (f"{who.name}，您好，查到了您家的登记信息（{household.village.name}，"
            f"{len(household.members)}口人），不用再填。\n" + _ask_next(turn))


def _on_village(turn: Turn, text: str) -> str:
    villages = _villages(turn)
    chosen = villages[answers.choose(text, [v.name for v in villages])]
    turn.save("village", village_id=chosen.id, village_name=chosen.name)
    return _ask_next(turn)


def _on_size(turn: Turn, text: str) -> str:
    turn.save("size", size=answers.count(text))
    return _ask_next(turn)


def _on_difficulty(turn: Turn, text: str) -> str:
    if len(text) < 2:
        raise Unclear("请多说几个字，讲讲家里遇到了什么困难。")
    found = answers.risk_types(text)
    known = [r for r in found if r in turn.ctx.config.risk_types]
    turn.save("difficulty", difficulty=text, risks=known or None)
    return _ask_next(turn)


def _on_risks(turn: Turn, text: str) -> str:
    keys = list(turn.ctx.config.risk_types)
    labels = list(turn.ctx.config.risk_types.values())
    chosen: list[str] = []
    for part in re.split(r"[\s,，、;；和]+", text):
        if part:
            chosen.append(keys[answers.choose(part, labels)])
    if not chosen:
        raise Unclear("请回复序号，例如：1 或 1 3")
    turn.save("risks", risks=list(dict.fromkeys(chosen)))
    return _ask_next(turn)


def _on_income(turn: Turn, text: str) -> str:
    turn.save("income", income=str(answers.amount(text)))
    return _ask_next(turn)


def _on_phone(turn: Turn, text: str) -> str:
    number = answers.phone(text)
    turn.save("phone", phone=number, phone_skipped=True if number is None else None)
    return _ask_next(turn)


def _on_confirm(turn: Turn, text: str) -> str:
    if "不同意" in text:
        return (f"没有您的同意，申请没法提交。如有顾虑，可以联系"
                f"{turn.ctx.config.levels[Level.VILLAGE]}干部当面办理。"
                "回复「同意」提交，或「取消」放弃。")
    if "同意" in text or "确认" in text or "提交" in text:
        return application.submit(turn)
    return "回复「同意」提交申请；要改哪一项请回复「修改」；不申请了回复「取消」。"


def _editable(turn: Turn) -> list[tuple[str, str]]:
    known = turn.draft.get("household_id")  # a roster household's village and size are not ours
    village = turn.ctx.config.levels[Level.VILLAGE]  # the level's name, from config.yaml
    return [(k, label.format(village=village)) for k, label in FIELDS
            if not (known and k in ("village", "size"))]


def _on_edit(turn: Turn, text: str) -> str:
    fields = _editable(turn)
    key = fields[answers.choose(text, [label for _, label in fields])][0]
    clear = {"who": ("name", "id_number", "household_id", "village_id", "village_name",
                     "size", "phone"),
             "village": ("village_id", "village_name"), "size": ("size",),
             "difficulty": ("difficulty", "risks"), "income": ("income",),
             "phone": ("phone", "phone_skipped")}[key]
    turn.conv.draft = {k: v for k, v in turn.draft.items() if k not in clear}
    return _ask_next(turn)


def _photo(turn: Turn, inbound: Inbound) -> str:
    """Photos are recorded now and downloaded after the answer (bot.media)."""
    s, conv = turn.ctx.s, turn.conv
    open_case = None
    if conv.step in ("idle", "", "withdraw"):
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
    again = QUESTIONS.get(conv.step)
    return f"收到照片（第{turn.draft['photos']}张），会附在申请里。" + (
        f"\n{again(turn)}" if again else "")


STEP_HANDLERS: dict[str, Callable[[Turn, str], str]] = {
    "who": _on_who, "village": _on_village, "size": _on_size, "difficulty": _on_difficulty,
    "risks": _on_risks, "income": _on_income, "phone": _on_phone, "confirm": _on_confirm,
    "edit": _on_edit, "withdraw": application.on_withdraw,
}
