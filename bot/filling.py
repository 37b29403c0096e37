"""The application as slots: what a message adds to the draft, what is still missing, the
question for it and the summary to confirm.

A farmer may say everything at once or one word a message, in any order; every slot a
message fills is kept (bot.reading reads them), and the bot asks only for what is missing,
one thing at a time, in SLOT_ORDER: who (name and ID number), then for a household not in
the roster its village and size, the difficulty and its risk types, the income over the
last 12 months, the phone of a new household (optional), then the summary with the consent.
A household in the roster is recognised by its name and ID number: its village, size and
phone are the roster's. The draft lives in the conversation row (bot.conversation.Chat), so
nothing said is lost between messages, processes or days.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from approvals.procedure import applications
from approvals.record.definitions import Level
from approvals.record.errors import NotAllowed
from approvals.record.identity import mask_id, mask_phone
from approvals.record.models import Member, Place
from bot import application, wording
from bot.conversation import Turn
from bot.reading import SLOT_ORDER, Amount, FaqEntry, Reading, Vocabulary

if TYPE_CHECKING:  # the wiring passes it in; bot never imports it at run time
    from fangfan.config import Config

# The steps of an application: the slot asked, the summary, and the list of what may be
# changed (修改). Any other step (idle, withdraw, callback) is not an application being filled.
FILLING = (*SLOT_ORDER, "confirm", "edit")

# The slots of the summary, in the order `修改` lists them.
FIELDS = [("who", "姓名和身份证号"), ("village", "所在{village}"), ("size", "家庭人口"),
          ("difficulty", "困难情况"), ("risks", "困难类型"), ("income", "近12个月家庭总收入"),
          ("phone", "联系电话")]

# What a changed slot clears in the draft before it is asked again.
CLEARS = {"who": ("name", "id_number", "household_id", "village_id", "village_name", "size",
                  "phone", "phone_skipped"),
          "village": ("village_id", "village_name"), "size": ("size",),
          "difficulty": ("difficulty", "risks"), "risks": ("risks",),
          "income": ("income", "income_approximate", "income_monthly"),
          "phone": ("phone", "phone_skipped")}


def faq_entries(config: Config) -> tuple[FaqEntry, ...]:
    """config.yaml's FAQ as the reader takes it (built anew: a dozen small values)."""
    return tuple(FaqEntry(f.key, tuple(f.questions), f.answer) for f in config.chat.faq)


def villages(turn: Turn) -> list[Place]:
    """The villages an applicant may name, in the order the list shows them; a cadre filing
    for a household (干部代为申请) files only within their jurisdiction."""
    key = ("villages", turn.draft.get("cadre_id"))  # read once a turn, per filer
    if key not in turn.cache:
        query = select(Place).where(Place.level == "village").order_by(Place.id)
        cadre = application.filer(turn)
        if cadre:
            query = query.where(Place.path.startswith(cadre.place_path))
        turn.cache[key] = list(turn.ctx.s.scalars(query))
    places: list[Place] = turn.cache[key]
    return places


def vocabulary(turn: Turn, *, with_villages: bool = True) -> Vocabulary:
    config = turn.ctx.config
    names = tuple(v.name for v in villages(turn)) if with_villages else ()
    return Vocabulary(villages=names, risk_types=config.risk_types, faq=faq_entries(config))


def is_filling(step: str) -> bool:
    return step in FILLING


def expecting(step: str) -> str | None:
    """What the reader is told the bot last asked."""
    return step if step in (*SLOT_ORDER, "confirm", "withdraw") else None


# -- what a message adds --------------------------------------------------------------------

def starts_application(reading: Reading) -> bool:
    """A message that is plainly an application without 「申请」 (「我叫王秀英 5101… 老伴
    住院了」): it names the person or the difficulty."""
    s = reading.slots
    return bool(s.id_number or s.difficulty or s.risks)


def take(turn: Turn, reading: Reading) -> list[str]:
    """Every slot of `reading` into the draft. Returns what to say before the next question:
    the problems seen, and a refusal that ends the application (then the step is idle)."""
    slots, d = reading.slots, turn.draft
    said: list[str] = list(reading.problems)
    changes: dict[str, Any] = {}
    if slots.id_number and slots.id_number != d.get("id_number"):
        changes.update(id_number=slots.id_number, household_id=None)
    if slots.name:
        changes["name"] = slots.name
    known = d.get("household_id") is not None
    if slots.village and not known:
        place = next((v for v in villages(turn) if v.name == slots.village), None)
        if place is not None:
            changes.update(village_id=place.id, village_name=place.name)
    if slots.size:
        changes["size"] = slots.size
    if slots.difficulty:
        before = d.get("difficulty")
        changes["difficulty"] = (slots.difficulty if not before or slots.difficulty in before
                                 else f"{before}；{slots.difficulty}")[:500]
    if slots.risks:
        risks = [r for r in turn.ctx.config.risk_types
                 if r in slots.risks or r in d.get("risks", [])]
        changes["risks"] = risks
    if slots.income:
        changes.update(_amount("income", slots.income))
    if slots.expense:
        changes.update(_amount("expense", slots.expense))
    if slots.phone:
        changes.update(phone=slots.phone, phone_skipped=None)
    turn.save(turn.conv.step, **changes)
    if "id_number" in changes or ("name" in changes and d.get("id_number") and not known):
        refusal = _recognise(turn)
        if refusal:
            said.append(refusal)
        elif not known and turn.draft.get("household_id") is not None:
            said.append(recognised(turn))
    return said


def _amount(slot: str, amount: Amount) -> dict[str, Any]:
    return {slot: str(amount.yearly), f"{slot}_approximate": amount.approximate or None,
            f"{slot}_monthly": amount.value if amount.monthly else None}


def _recognise(turn: Turn) -> str | None:
    """Name and ID number both known: the household in the roster, or a new one. A refusal
    (already monitored, an open case, outside the filing cadre's jurisdiction) ends the
    application: its words are returned and the draft is emptied."""
    d, s = turn.draft, turn.ctx.s
    if not (d.get("name") and d.get("id_number")):
        return None
    member = s.scalar(select(Member).where(Member.id_number == d["id_number"]))
    if member is None:
        return None  # a new household: its village, size and phone are asked
    if member.name != d["name"]:
        turn.conv.draft = {k: v for k, v in d.items() if k not in ("name", "id_number")}
        return ("姓名和身份证号对不上，请核对后把姓名和身份证号一起再发一次"
                "（姓名要和身份证上一致）。")
    household = member.household
    cadre = application.filer(turn)
    if cadre:
        try:
            applications.ensure_may_file(cadre, household.village.path)
        except NotAllowed as refused:
            turn.conv.draft = {k: v for k, v in d.items() if k not in ("name", "id_number")}
            return (f"{refused}请核对身份证号，或请所在"
                    f"{turn.ctx.config.levels[Level.VILLAGE]}的干部代为申请。")
    refusal = application.cannot_apply(s, household, turn.conv.openid)
    if refusal:
        turn.save("idle")
        turn.conv.draft = {}
        return refusal
    head_phone = next((m.phone for m in household.members if m.phone), None)
    turn.save(turn.conv.step, household_id=household.id, village_id=household.village_id,
              village_name=household.village.name,
              size=d.get("size") or len(household.members),
              phone=d.get("phone") or member.phone or head_phone)
    return None


def recognised(turn: Turn) -> str:
    """Said once when the roster knew the household."""
    d = turn.draft
    return (f"{d['name']}，您好，查到了您家的登记信息（{d['village_name']}，{d['size']}口人），"
            "不用再填。")


# -- what is missing ------------------------------------------------------------------------

def missing(draft: dict[str, Any]) -> str:
    """The first slot still to ask; "confirm" when everything is there."""
    known = draft.get("household_id") is not None
    if not (draft.get("name") and draft.get("id_number")):
        return "who"
    if not known and "village_id" not in draft:
        return "village"
    if not known and "size" not in draft:
        return "size"
    if "difficulty" not in draft:
        return "difficulty"
    if not draft.get("risks"):
        return "risks"
    if "income" not in draft:
        return "income"
    if not known and "phone" not in draft and not draft.get("phone_skipped"):
        return "phone"
    return "confirm"


def ask_next(turn: Turn) -> str:
    """The question for the first missing slot; the conversation waits at it."""
    step = missing(turn.draft)
    turn.save(step)
    return QUESTIONS[step](turn)


def ask_again(turn: Turn) -> str:
    """The pending question once more (after a question of the farmer's), nothing changed."""
    ask = QUESTIONS.get(turn.conv.step)
    return ask(turn) if ask else ""


def _ask_who(turn: Turn) -> str:
    d = turn.draft
    whose = "户主" if d.get("cadre_id") else "您（或户主）"
    if d.get("id_number") and not d.get("name"):
        return f"身份证号记下了（{mask_id(d['id_number'])}）。请再发一下{whose}的姓名。"
    if d.get("name") and not d.get("id_number"):
        return f"好的，{d['name']}。还需要{whose}的18位身份证号。"
    return f"请发送{whose}的姓名和身份证号，例如：\n张三 110101199003074578"


def _ask_village(turn: Turn) -> str:
    places = villages(turn)
    towns: dict[int | None, str] = {p.id: p.name for p in turn.ctx.s.scalars(select(Place).where(
        Place.id.in_({v.parent_id for v in places})))}
    listing = "\n".join(f"{i}. {v.name}（{towns.get(v.parent_id, '')}）"
                        for i, v in enumerate(places, start=1))
    village = turn.ctx.config.levels[Level.VILLAGE]
    return f"您家在哪个{village}？回复序号或{village}名：\n{listing}"


def _ask_size(turn: Turn) -> str:
    return "家里一共几口人？（例如：4 或 四口人）"


def _ask_difficulty(turn: Turn) -> str:
    return ("家里遇到了什么困难？请用一两句话说说，例如：「老伴住院花了五万多」"
            "「冰雹把庄稼打了」。也可以直接发语音，或发病历、票据、现场的照片。")


def _ask_risks(turn: Turn) -> str:
    labels = list(turn.ctx.config.risk_types.values())
    return ("您的困难属于哪一类？回复序号，可以多选（例如：1 3）：\n"
            + "\n".join(f"{i}. {label}" for i, label in enumerate(labels, start=1)))


def _ask_income(turn: Turn) -> str:
    risks = "、".join(turn.ctx.config.risk_types[r] for r in turn.draft["risks"])
    return (f"记下了，困难类型：{risks}。\n"
            "过去12个月，全家总收入大约多少钱？例如：三万多、2.5万 或 一个月两千。")


def _ask_phone(turn: Turn) -> str:
    return "留一个手机号，方便干部上门前联系您。不想留请回复「跳过」。"


def income_shown(d: dict[str, Any], slot: str = "income") -> str:
    """「约30000元（按每月2500元算）」: the figure as the farmer said it."""
    about = "约" if d.get(f"{slot}_approximate") else ""
    monthly = d.get(f"{slot}_monthly")
    per_month = f"（按每月{monthly}元算）" if monthly else ""
    return f"{about}{d[slot]}元{per_month}"


def _ask_confirm(turn: Turn) -> str:
    d, config = turn.draft, turn.ctx.config
    risks = "、".join(config.risk_types[r] for r in d["risks"])
    photos = f"\n照片：{d['photos']}张" if d.get("photos") else ""
    phone = mask_phone(d["phone"]) if d.get("phone") else "未留"
    expense = f"（花费{income_shown(d, 'expense')}）" if d.get("expense") else ""
    return (f"请核对：\n姓名：{d['name']}\n身份证号：{mask_id(d['id_number'])}\n"
            f"所在{config.levels[Level.VILLAGE]}：{d['village_name']}\n家庭人口：{d['size']}人\n"
            f"困难类型：{risks}\n困难情况：{d['difficulty']}{expense}\n"
            f"近12个月家庭总收入：{income_shown(d)}\n"
            f"联系电话：{phone}{photos}\n\n{wording.consent(config)}\n\n"
            "无误请回复「同意」提交；要改直接说，例如「收入改成两万」；不申请了回复「取消」。")


QUESTIONS: dict[str, Callable[[Turn], str]] = {
    "who": _ask_who, "village": _ask_village, "size": _ask_size,
    "difficulty": _ask_difficulty, "risks": _ask_risks, "income": _ask_income,
    "phone": _ask_phone, "confirm": _ask_confirm,
}


# -- changing a slot ------------------------------------------------------------------------

def editable(turn: Turn) -> list[tuple[str, str]]:
    known = turn.draft.get("household_id") is not None  # the roster's village and size
    village = turn.ctx.config.levels[Level.VILLAGE]
    return [(k, label.format(village=village)) for k, label in FIELDS
            if not (known and k in ("village", "size"))]


def list_editable(turn: Turn) -> str:
    turn.save("edit")
    return "要修改哪一项？回复序号，或直接说怎么改（例如「收入改成两万」）：\n" + "\n".join(
        f"{i}. {label}" for i, (_, label) in enumerate(editable(turn), start=1))


def change(turn: Turn, slot: str, reading: Reading | None) -> str:
    """`slot` changed: to the value `reading` gives for it, else cleared and asked again."""
    turn.conv.draft = {k: v for k, v in turn.draft.items() if k not in CLEARS[slot]}
    if reading is not None and reading.slots.filled():
        said = take(turn, reading)
        if turn.conv.step == "idle":  # a refusal (a changed ID number already has a case)
            return "\n".join(said)
        if missing(turn.draft) == "confirm":
            return "\n".join([*said, "已修改。", ask_next(turn)])
        return "\n".join([*said, ask_next(turn)])
    return ask_next(turn)
