"""`read`: the slots of a message, then what it asks for, balanced against what the bot asked.

The balance: a message that fills the slot the bot asked for is an ANSWER even with a
question word in it (「收入不多，也就两万多吧」); it is a QUESTION only when it is asked as one
(a final 吗 or ?, an opening 请问) and the FAQ knows it. A message that fills nothing asked
is read for every intent; the slots it gives are returned with any intent, so the dialogue
may keep them (「我叫王秀英，能申请吗」 is a question that also says who is asking).
"""

from __future__ import annotations

import re

from bot.reading import Intent, Reading, Slots, Vocabulary, faq, intents
from bot.reading.slots import Found, read_slots, whole
from bot.reading.text import normalize

SURE_UNASKED = 0.75  # a message with no question form is a question only this close to one
SURE_FAQ = 0.6  # an FAQ score this high outweighs the words 「能申请吗」
MAX_TEXT = 2000  # the dialogue cuts at 500; this bounds the reader's own work whatever comes
_EDIT_LEAD = re.compile(r"^.*?(改成|改为|换成|换为|变成|改一下|改下|改个|改了|写错了|填错了|弄错了|"
                        r"搞错了|输错了|"
                        r"打错了|"
                        r"说错了|更正|修改|应该是|不是.{1,6}是)")
# 「名字错了 是刘桂英」: the value after the word that says it is wrong, when no other lead
_WRONG_LEAD = re.compile(r"^.*?(错了|不对|有误)")
_VALUE_LEAD = re.compile(r"^[\s,，.。:：]*(了|为|成|是|应该是|应是|正确的是|我叫)?[\s,，:：]*")
_WRONG = re.compile(r"不对|错了|有错|有误|不正确")


def answered(expecting: str | None, found: Found) -> bool:
    """Whether the message fills the slot the bot asked for."""
    s = found.slots
    match expecting:
        case "who":
            return bool(s.name or s.id_number)
        case "difficulty":
            return found.signals_difficulty
        case "risks":
            return bool(s.risks)
        case "village" | "size" | "income" | "phone":
            return getattr(s, expecting) is not None
    return False


def _faq_key(vocabulary: Vocabulary, key: str) -> str | None:
    return key if any(e.key == key for e in vocabulary.faq) else None


def _edited(text: str, target: str | None, found: Found, vocabulary: Vocabulary) -> str | None:
    """The slot an edit changes, its value read as the answer to that slot."""
    filled = {k for k in found.slots.filled() if k not in ("risks", "expense", "difficulty")}
    if target is None:
        by_slot = {"name": "who", "id_number": "who"}
        named = {by_slot.get(k, k) for k in filled}
        target = named.pop() if len(named) == 1 else None
    if target is None:
        return None
    lead = _EDIT_LEAD.match(text) or _WRONG_LEAD.match(text)
    value = _VALUE_LEAD.sub("", text[lead.end():] if lead else text)
    if value:
        again = read_slots(value, expecting=target, vocabulary=vocabulary).slots
        for slot in _SLOT_FIELDS[target]:  # the value after 改成 is the edited slot's
            if getattr(again, slot) not in (None, ()):
                setattr(found.slots, slot, getattr(again, slot))
        if target == "difficulty" and found.slots.difficulty is None:
            found.slots.difficulty = whole(value) or None
    return target


# the FAQ entries whose questions name a risk or a sum without telling the household's own
_ABOUT_PAPERS = frozenset({"what_to_send", "privacy", "cost"})

_SLOT_FIELDS = {"who": ("name", "id_number"), "village": ("village",), "size": ("size",),
                "difficulty": ("difficulty", "risks"), "risks": ("risks",),
                "income": ("income",), "phone": ("phone",)}


def read(text: str, *, expecting: str | None, vocabulary: Vocabulary) -> Reading:
    t = normalize(text[:MAX_TEXT])
    if not t:
        return Reading(Intent.ANSWER if expecting else Intent.UNKNOWN)
    found = read_slots(t, expecting=expecting, vocabulary=vocabulary)
    intent, extra = _intent(t, expecting, found, vocabulary)
    if intent in (Intent.UNKNOWN, Intent.ANSWER) and not found.slots.filled() and len(t) <= 12:
        folded = intents.sounds_like(t)  # 申情, 怎摸申请帮付: a command mistyped by its sound
        if folded != t:
            again, more = _intent(folded, expecting, found, vocabulary)
            if again not in (Intent.UNKNOWN, Intent.ANSWER, Intent.QUESTION):
                intent, extra = again, more
    slots = found.slots
    if intent is Intent.QUESTION and extra.get("faq") == "cost":
        slots.expense = None  # 「有人说要交两百块手续费」: a fee asked for, not what was spent
    if intent is Intent.QUESTION and extra.get("faq") in _ABOUT_PAPERS and (
            intents.QUESTION_FORM.search(intents.first_clause(t))):
        # 「需要交病历不」, 「公示会写我家的病吗 不想让人知道」: asked first, the illness is the
        # paper's or the secret's (「老伴残疾 要准备啥材料」 tells the household's own first)
        slots.risks, slots.expense = (), None
    b = intents.bare(t)
    if intent not in (Intent.ANSWER, Intent.EDIT, Intent.APPLY) and slots.name == b:
        slots.name = None  # the whole message was a command, not a name sent alone
    if intent is Intent.ANSWER and expecting == "difficulty" and slots.difficulty is None:
        said = whole(found.rest)
        if len(re.findall(r"[\u4e00-\u9fff]", said)) >= 2:
            slots.difficulty = said
    return Reading(intent, slots, problems=tuple(found.problems), **extra)


def _intent(t: str, expecting: str | None, found: Found, vocabulary: Vocabulary
            ) -> tuple[Intent, dict[str, str | None]]:
    b = intents.bare(t)
    slots: Slots = found.slots
    if expecting in ("confirm", "withdraw"):
        # a plain yes or no to the summary or the withdrawal, before any phrase in it
        # (「对 撤回」 agrees to withdraw; 「不撤了」 refuses)
        if intents.AGREE.match(t) or (
                expecting == "withdraw" and intents.AGREE_WITHDRAW.match(intents.bare(t))):
            return Intent.AGREE, {}
        if intents.REFUSE.match(b) or intents.REFUSE.match(intents.plain(t)) or (
                expecting == "withdraw" and intents.KEEP.search(t)):
            return Intent.REFUSE, {}
    if intents.CONSENT.search(t) and not (intents.QUESTION_CLEAR.search(t)
                                          or intents.CONSENT_DENIED.search(t)):
        return Intent.CONSENT, {}
    grounds = intents.reexamination(t)
    if grounds is None and "复" in t:  # 申请复合: 复核 typed by its sound
        grounds = intents.reexamination(intents.sounds_like(t))
    if grounds is not None:
        return Intent.REEXAMINE, {"grounds": grounds}
    is_edit, target = intents.edit(t, expecting=expecting)
    if not is_edit and expecting == "confirm" and (
            _WRONG.search(t) or t.startswith("不是")) and len(b) > 3:
        is_edit = True  # 「不对，收入是两万五」 at the summary
        target = next((slot for slot, words in intents.EDIT_TARGETS if words.search(t)), None)
    if is_edit and not intents.QUESTION_CLEAR.search(t):
        return Intent.EDIT, {"edit": _edited(t, target, found, vocabulary)}
    if intents.HUMAN.search(t) and not re.search(r"找(谁|哪个)|是谁|电话(是)?多少", t):
        return Intent.HUMAN, {}
    if intents.PROGRESS.search(t):
        return Intent.PROGRESS, {}
    gives_up = intents.gives_up(t, expecting=expecting)
    if gives_up is not None:
        return gives_up, {}
    if intents.HELP.search(b or t):
        return Intent.HELP, {}
    if intents.POLICY_ALONE.match(intents.plain(t)):
        return Intent.QUESTION, {"faq": None}

    fills = answered(expecting, found)
    clear_question = bool(intents.QUESTION_CLEAR.search(t))
    outright = intents.APPLY_OUTRIGHT.search(t)
    if outright and re.search(r"(复核|申诉)\S{0,2}$", t[:outright.start()]):
        outright = None  # 「复核咋个申请」 asks how to ask for a 复核
    if outright:  # 「我想申请，要准备什么材料？」 still asks; 「怎么申请」 applies
        t = (t[:outright.start()] + " " + t[outright.end():]).strip()
        if not re.search(r"[\u4e00-\u9fff]{2}", t):
            return Intent.APPLY, {}
    questioning = bool(intents.QUESTION_FORM.search(t))
    asked = faq.match(t, vocabulary.faq) if questioning or len(b) <= 12 else None
    if asked is not None and not questioning and (
            asked.score < SURE_UNASKED or len(faq.clean(t)) < 4):
        asked = None  # 「12317」 alone asks about the hotline; 「东沟村」 asks nothing
    if intents.may_apply(t) and (clear_question or not fills) and (
            asked is None or asked.score < SURE_FAQ):
        # 「能申请吗」: whether this household may apply, unless another entry fits clearly
        # (「收入超了还能申请吗」 asks about the line)
        return Intent.QUESTION, {"faq": _faq_key(vocabulary, "who_may_apply")}
    if asked is not None and fills and expecting == "risks" and not questioning:
        asked = None  # 「饮水安全」 named at the list of risks is the risk, not the FAQ's words
    if asked is not None and (clear_question or asked.score >= SURE_FAQ
                              or not (fills or expecting == "difficulty")):
        # (the difficulty is free text: only a question asked as one is not an answer to it)
        return Intent.QUESTION, {"faq": asked.key}

    if expecting == "phone" and not fills and intents.SKIP_PHONE.search(t):
        return Intent.SKIP, {}
    if expecting not in (None, "confirm", "withdraw") and not fills and (
            intents.SKIP.match(b) or intents.SKIP.match(intents.plain(t)) or (
                expecting == "phone" and intents.SKIP.match(
                intents.bare(intents.first_clause(t))))):  # 「没有电话 就用微信联系」
        return Intent.SKIP, {}
    if fills:
        return Intent.ANSWER, {}
    if outright or intents.APPLY.search(t):
        return Intent.APPLY, {}
    if intents.greets(t):
        return Intent.GREETING, {}
    mistyped = None if slots.filled() else intents.mistyped_command(t)
    if mistyped is not None:
        return mistyped, ({"grounds": ""} if mistyped is Intent.REEXAMINE else {})
    if clear_question and len(re.findall(r"[\u4e00-\u9fff]", b)) >= 2 and (
            expecting or intents.ON_TOPIC.search(t)):  # asked mid-application: about it
        return Intent.QUESTION, {"faq": None}  # a question the FAQ does not know
    if slots.filled() or expecting:
        return Intent.ANSWER, {}
    return Intent.UNKNOWN, {}
