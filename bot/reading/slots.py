"""Every slot one message fills, in any order, several at once.

Who is writing (ID number, phone, name) is read and cut out first; the rest has its
numerals made digits (cn2an) and gives the village, the household's size, money (income or
an expense) and the difficulty with its risk types.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from bot.reading import Amount, Slots, Vocabulary, identity, numbers, places, risks
from bot.reading.text import CLAUSE_END

# words of a difficulty that names no risk type (still the farmer's difficulty)
DIFFICULTY_WORDS = re.compile(r"困难|难处|难事|没钱|缺钱|负担|欠债|欠了|还不上|交不起|看不起|"
                              r"吃不上|"
                              r"过不下去|日子苦|生活苦|揭不开锅|花了|花销|"
                              r"开销|支出|急需|急用")
# a clause that only applies or greets is no part of the difficulty
_NOT_DIFFICULTY = re.compile(r"^(你好|您好|在吗|我要申请|我想申请|想申请|申请帮扶|申请救助|"
                             r"我要申请帮扶|我想申请帮扶|帮帮我|谢谢)+$")
# what other slots took, left out of a difficulty told among them (「东沟村五口人老伴住院」)
_LABELS = re.compile(r"(我的)?(手机号码|手机号|手机|联系电话|电话号码|电话|联系方式|"
                     r"身份证号码|身份证号|身份证|号码)(是|为|:)?(?=\s|$|[,，。])")
_SIZE_SAID = re.compile(r"(家里|我家|我们家|一家|全家)?(有|共|一共)?"
                        r"[0-9零一二两三四五六七八九十]{1,3}(口人|口|个人)")
_INCOME_SAID = re.compile(r"(一年|每年|全年|一个月|每个?月)?(的)?(收入|挣了?|赚了?|打工挣了?)"
                          r"(大概|大约|有|也就|才)?[0-9零一二两三四五六七八九十百千万.wWkK]+"
                          r"(多|来|左右)?(块钱|块|元)?")
_SIGNAL_SPLIT = re.compile(r"[,.;!?。；！？\n]")
# what opens a message but is no part of the difficulty: 「你好，我想申请帮扶，老伴住院了」
_OPENING = re.compile(r"^\s*(你好|您好)?\s*(我要|我想|想|要)?(申请帮扶|申请救助|申请帮助|"
                      r"申请(?![人书表]))?\s*")


@dataclass
class Found:
    """The slots of a message, what was seen but not taken, and the text as read."""

    slots: Slots
    problems: list[str] = field(default_factory=list)
    rest: str = ""  # the text without name, ID number and phone
    prepared: str = ""  # `rest` with numerals as digits
    signals_difficulty: bool = False  # a risk or difficulty word was said


def read_slots(text: str, *, expecting: str | None, vocabulary: Vocabulary) -> Found:
    """The slots of a normalized text."""
    who = identity.identity(text, expecting=expecting)
    rest = who.rest
    prepared = numbers.prepare(rest)
    slots = Slots(name=who.name, id_number=who.id_number, phone=who.phone)
    problems = list(who.problems)
    village = places.village(rest, vocabulary.villages, expecting=expecting, prepared=prepared)
    if slots.name and vocabulary.villages and any(
            slots.name in v or places.stem(v) in slots.name for v in vocabulary.villages):
        slots.name = None  # 我是东沟的: a village, not a name
    if village and slots.name is None:
        # 我是东沟村的王秀英: the name after the village
        without = re.sub(re.escape(village) + "(的|人)?", " ", rest)
        name, name_at = identity.find_name(without, expecting=expecting, id_at=None)
        if name and name_at:
            slots.name = name
            rest = rest.replace(name, " ", 1)
    slots.village = village
    slots.size = numbers.household_size(prepared, expecting=expecting)
    if expecting == "size" and slots.size is None and re.fullmatch(r"\s*\d+\s*\S?", prepared):
        problems.append("家庭人口请回复1到30之间的数字，例如：4")

    money = numbers.money(prepared)
    if any(m.amount.value >= 10 for m in money) or expecting != "income":
        # 一下, 一趟, 一块 (a piece), 1共: a figure under ten is no money beside another
        # figure, nor unasked (「5块」 alone answers the income)
        money = [m for m in money if m.amount.value >= 10]
    incomes = [m.amount for m in money
               if m.kind == "income" or (m.kind is None and expecting == "income")]
    # a figure in the answer to 「遇到了什么困难」 is what it cost (「透析一个月要一千八」)
    expenses = [m.amount for m in money
                if m.kind == "expense" or (m.kind is None and expecting == "difficulty"
                                           and (m.said_as_money or m.amount.value >= 100))]
    slots.income = numbers.combine(
        [numbers.over_months(prepared, a) for a in incomes])
    if slots.income is None and (numbers.no_income(prepared) or (
            expecting == "income" and re.fullmatch(r"\s*(没有|没|无|0|零)\s*", prepared))):
        slots.income = Amount(0)
    slots.expense = max(expenses, key=lambda a: a.yearly) if expenses else None

    if expecting == "risks":
        by_number = risks.risks_by_number(prepared, vocabulary.risk_types)
        if by_number is not None:
            slots.risks = by_number
    if not slots.risks:
        slots.risks = risks.risks_in(rest, vocabulary.risk_types)
    signals = bool(slots.risks) or bool(DIFFICULTY_WORDS.search(rest))
    said = _LABELS.sub(" ", rest)  # 「手机」 is left where the phone was cut out
    if expecting == "difficulty" and signals:
        slots.difficulty = whole(said) or None  # asked for: all of it, as typed
    elif signals and expecting != "risks":  # 「因病因残」 chooses risks, it tells nothing more
        given: list[str | re.Pattern[str]] = [_SIZE_SAID, _INCOME_SAID]
        if village:
            given.append(re.escape(village) + "(的|人)?")
        for pattern in given:
            said = re.sub(pattern, " ", said)
        slots.difficulty = difficulty(said) or None
    return Found(slots=slots, problems=problems, rest=rest, prepared=prepared,
                 signals_difficulty=signals)


def difficulty(rest: str) -> str:
    """The parts of a message that tell the difficulty, in the farmer's words: each clause
    (between punctuation) whose space-separated parts carry a risk or difficulty word, with
    the short wordless parts beside them (「老伴 住院了」), without the parts that only give a
    number (家里五口人) or apply (我要申请)."""
    kept: list[str] = []
    for clause in _SIGNAL_SPLIT.split(rest):
        clause = _OPENING.sub("", clause)
        parts = [p for p in CLAUSE_END.split(clause) if p]
        signal = [bool(risks.risks_in(p, {}) or DIFFICULTY_WORDS.search(p)) for p in parts]
        if not any(signal):
            continue
        keep = [p for p, s in zip(parts, signal, strict=True)
                if s or (len(p) <= 6 and not re.search(r"[0-9零一二两三四五六七八九十百千万]", p)
                         and not _NOT_DIFFICULTY.match(p))]
        if keep:
            kept.append(" ".join(keep))
    return "，".join(kept)


def whole(rest: str) -> str:
    """The message as the difficulty when it was asked for: all of it but name, ID, phone."""
    parts = [_OPENING.sub("", p) for p in _SIGNAL_SPLIT.split(rest)]
    parts = [p for p in parts if p.strip()]
    kept = [" ".join(p.split()) for p in parts if not _NOT_DIFFICULTY.match(p.strip())]
    return "，".join(k for k in kept if k)
