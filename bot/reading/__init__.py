"""Reading what a farmer says: one message in, every intent and slot it carries out.

A farmer types the way they speak: several answers in one message or one word a message,
Chinese numerals and approximations (三万多, 两万五, 3w, 一个月两千), questions in the middle.
`read` takes one message (already cut to the dialogue's bound) and what the bot last asked
(`expecting`), and returns a `Reading`: what the farmer wants (`Intent`) and every slot the
message fills (`Slots`). It never raises on what a person may type; what it saw but could
not take (an ID number whose check digit is wrong) is in `problems`, in the words the bot
says back. It reads no database: the village names and the FAQ come in a `Vocabulary`.

The dialogue (bot/dialogue.py) decides what to do with a reading; this package only reads.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum


class Intent(StrEnum):
    """What a message asks for. ANSWER: it only gives slot values (or nothing readable
    alongside `expecting`); UNKNOWN: nothing in it could be read at all."""

    APPLY = "apply"  # 我要申请帮扶, 想申请, 申请救助, 怎么申请, 我家困难
    PROGRESS = "progress"  # 我家的申请到哪一步了, 办得怎么样了, 查一下
    WITHDRAW = "withdraw"  # 撤回申请, 不想申请了 (a submitted application)
    CANCEL = "cancel"  # 取消, 不填了 (the draft being filled)
    EDIT = "edit"  # 修改, 收入改成两万 (`Reading.edit` names the slot, its value in `slots`)
    HUMAN = "human"  # 转人工, 找干部, 我要跟人说
    QUESTION = "question"  # a policy question: `Reading.faq` is the FAQ entry's key
    REEXAMINE = "reexamine"  # 申请复核, 我不服, 为什么不给我办 (after a rejection)
    CONSENT = "consent"  # 确认授权: confirms what a cadre filed for the household
    HELP = "help"  # 帮助, 菜单, 你能干啥
    AGREE = "agree"  # 同意, 对, 没问题, 提交 (at the summary, or confirming a withdrawal)
    REFUSE = "refuse"  # 不同意, 不对
    SKIP = "skip"  # 跳过, 没有, 不留 (an optional slot: the phone)
    GREETING = "greeting"  # 你好, 在吗, 谢谢
    ANSWER = "answer"
    UNKNOWN = "unknown"


# The slots of an application, in the order the bot asks for what is missing. A household in
# the roster is recognised by `who` (name and ID number): its village, size and phone are
# not asked. Photos are not a slot of the reader (an image message is not text).
SLOT_ORDER = ("who", "village", "size", "difficulty", "risks", "income", "phone")


@dataclass(frozen=True)
class Amount:
    """Money as said: `value` yuan, per month when `monthly` (「一个月两千」), approximate
    when said so (「三万多」, 「大概两万」, 「两万左右」: the figure kept is the round one). A range
    (「七八千」, 「三四万」) is kept as its lower end, approximate: there is no range here, and the
    lower end is what the household surely has. A monthly pay said with the months it came
    in (「一个月3000，干了8个月」) is the year's: 24000, not monthly."""

    value: int
    approximate: bool = False
    monthly: bool = False

    @property
    def yearly(self) -> int:
        return self.value * 12 if self.monthly else self.value


@dataclass
class Slots:
    """What one message fills; None (or empty) is "not said in this message"."""

    name: str | None = None
    id_number: str | None = None  # 18 characters, check digit valid, X upper-case
    village: str | None = None  # a name from `Vocabulary.villages`, exactly as there
    size: int | None = None  # people in the household (1 to 30)
    difficulty: str | None = None  # the difficulty in the farmer's words, as typed
    risks: tuple[str, ...] = ()  # risk-type keys (config.yaml `risk_types`), in config order
    income: Amount | None = None  # the household's income (over 12 months unless monthly)
    expense: Amount | None = None  # what the difficulty cost (「住院花了八万多」): not income
    phone: str | None = None  # a mainland mobile number, 11 digits

    def filled(self) -> dict[str, object]:
        """The slots this message gave, by name (for tests and the corpus)."""
        return {k: v for k, v in vars(self).items() if v not in (None, ())}


@dataclass(frozen=True)
class FaqEntry:
    """One policy question the bot answers (config.yaml `chat.faq`): `key` names it,
    `questions` are ways people ask it, `answer` is said back (with {hotline}, {income_line},
    {township}, {village}, {county}, {total_days} filled by the dialogue)."""

    key: str
    questions: tuple[str, ...]
    answer: str


@dataclass(frozen=True)
class Vocabulary:
    """What a message is matched against, from config.yaml and the places in the record."""

    villages: tuple[str, ...] = ()
    risk_types: Mapping[str, str] = field(default_factory=dict)  # key → label (因病 ...)
    faq: tuple[FaqEntry, ...] = ()


@dataclass(frozen=True)
class Reading:
    intent: Intent
    slots: Slots = field(default_factory=Slots)
    faq: str | None = None  # with QUESTION: the FaqEntry's key
    edit: str | None = None  # with EDIT: the slot changed (a name of SLOT_ORDER), if said
    grounds: str | None = None  # with REEXAMINE: the farmer's reasons, as typed ("" if none)
    problems: tuple[str, ...] = ()  # what was seen but not taken, as the bot says it back


def read(text: str, *, expecting: str | None, vocabulary: Vocabulary) -> Reading:
    """Every intent and slot of one message. `expecting` is the slot the bot last asked for
    (a name of SLOT_ORDER), "confirm" at the summary, "withdraw" when a withdrawal awaits its
    confirmation, or None when nothing is pending: a bare 「5」 is a household size only when the
    size was asked."""
    from bot.reading import reader  # the parts import the types above

    return reader.read(text, expecting=expecting, vocabulary=vocabulary)


def warm_up(vocabulary: Vocabulary) -> None:
    """Import the reader's libraries, load python-stdnum's table of birth places and index
    the FAQ now, at start-up, rather than on the first chat message (about 0.1 s for cn2an's
    import, 0.2 s for the first ID number checked, 30 ms for the first reading)."""
    read("你好，我叫王秀英 510122195803121145，一年收入三万多，能申请吗？", expecting=None,
         vocabulary=vocabulary)
