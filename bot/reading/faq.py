"""Which policy question (config.yaml `chat.faq`) a message asks, if any.

Characters, not words: the message and every way of asking in the FAQ lose their
punctuation, particles and fillers (吗, 请问, 我家), say common synonyms one way (要钱 →
收费), and rapidfuzz's normalized edit distance (`fuzz.ratio`) scores each entry by its
closest way of asking, raised when the message holds one of the entry's anchor words (复核,
12317). Measured against jieba word overlap and other rapidfuzz scorers on the same
questions (bench/reading.py, docs/benchmarks.md "Reading farmers' messages"): the most
accurate, four to eight times faster than segmenting with jieba, and no dictionary to load.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from rapidfuzz import fuzz, process

from bot.reading import FaqEntry

# what says nothing about which question: punctuation, particles, fillers, who is asking
_FILLER = re.compile(r"[\s?？!！。，,.~～、:：\"“”'‘’()（）]|请问|问一下|想问问?|我想|我们|我家|"
                     r"咱家|俺家|"
                     r"你们|您|一下|吗|呢|啊|吧|呀|(?<![怎什那这多])么|嘛|哦|了|的")
# Ways of saying the same thing, said one way before comparing characters: a farmer asks
# 「要交钱吗」 where the FAQ says 「收不收费」. Longer ways first (the pattern is one alternation).
SYNONYMS: dict[str, tuple[str, ...]] = {
    "多久": ("多长时间", "多少天", "几天", "多长时候", "多少时间", "好久", "多久"),
    "收费": ("收不收费", "好处费", "手续费", "工本费", "要钱", "收钱", "交钱", "花钱", "交费",
           "费用", "免费", "送礼"),
    # (the papers a farmer has are the materials asked about: 发票, 病历, 诊断书)
    "材料": ("资料", "证明", "证件", "发票", "诊断书", "单据", "票据", "材料"),
    "条件": ("资格", "条件"),
    "公开": ("泄露", "泄漏", "保密", "贴出来", "公示出来", "公布", "别人看到", "别人能看到",
           "别人看见", "村里人知道", "别人知道", "公开"),
    "帮扶": ("帮扶措施", "哪些政策", "什么政策", "啥政策", "享受", "待遇", "帮助", "帮忙", "好处",
           "补助", "扶持", "帮扶"),
    "退出": ("出监测", "不再监测", "不当监测户", "不再是监测户", "解除监测", "解除", "取消监测",
           "监测户要当几年", "监测户当几年", "要当几年", "当多久", "退出"),
    # after being taken in: what comes with it (成了监测户能补多少钱, 评上以后有人管不)
    # (the ways are matched after the fillers are gone: 「成了监测户」 is 成监测户 by then)
    "纳入后": ("成监测户", "成为监测户", "当上监测户", "纳入以后", "纳入之后", "纳入后",
            "评上以后", "评上之后", "评上后"),
    # the cadre paired with the household is whom to call, not the help given
    "联系人": ("帮扶联系人", "帮扶责任人", "帮扶干部", "帮扶人", "联系人"),
    "复核": ("申诉", "异议", "复核"),
    "标准": ("监测线", "收入线", "标准线", "监测标准", "标准"),
    "谁": ("哪个人", "哪位", "谁"),
}
_SAME = {way: word for word, ways in SYNONYMS.items() for way in ways}
_SAME_PATTERN = re.compile("|".join(sorted(map(re.escape, _SAME), key=len, reverse=True)))
# Words that name one entry outright (after the synonyms above): the entry's score is raised
# by ANCHOR_BONUS when one is in the message (「复核怎么弄」 is about 复核 however it is put).
ANCHORS: dict[str, tuple[str, ...]] = {
    "hotline": ("12317", "热线", "举报电话", "投诉电话", "咨询电话", "举报", "投诉"),
    "review": ("复核", "不公平"),
    "elimination": ("风险消除", "退出", "消除风险"),
    "privacy": ("公开", "隐私", "别人知道", "个人信息", "安全"),
    "cost": ("收费",),
    "what_to_send": ("材料", "拍照", "照片", "病历", "户口本"),
    "monitored": ("监测对象", "监测户", "易致贫户", "严重困难户", "不稳定户", "什么意思", "啥意思",
                  "就是贫困户", "算贫困户", "是贫困户吗"),
    "income_line": ("标准",),
    "how_long": ("多久",),
    "whom_to_call": ("找谁", "谁管", "联系谁", "谁负责", "管这个", "管这事", "负责的是谁",
                     "是谁管", "联系人"),
    "after_enrolled": ("帮扶", "纳入后"),
    "who_may_apply": ("条件",),
}
ANCHOR_BONUS = 0.25
# anchors that name an aspect of any topic (how long, whom to ask) weigh less when a topic's
# anchor is there too: 「监测多久才能解除」 asks about leaving monitoring, not the
# application's time
ASPECTS = frozenset({"how_long", "whom_to_call"})
# anchor words that say when, not what: an aspect too (「纳入以后还能退出吗」 asks about leaving)
FRAMES = frozenset({"纳入后"})
ASPECT_BONUS = 0.15
THRESHOLD = 0.45  # measured: the best accuracy on the dev questions (docs/benchmarks.md)


def clean(text: str) -> str:
    return _SAME_PATTERN.sub(lambda m: _SAME[m.group()], _FILLER.sub("", text))


@dataclass(frozen=True)
class Match:
    key: str
    score: float  # 0..1


class FaqIndex:
    """The FAQ's ways of asking, cleaned once per FAQ."""

    def __init__(self, entries: tuple[FaqEntry, ...]) -> None:
        self.asked = [(e.key, [clean(q) for q in e.questions], ANCHORS.get(e.key, ()),
                       e.key in ASPECTS) for e in entries]

    def best(self, text: str) -> Match | None:
        said = clean(text)
        best: Match | None = None
        scored = []
        for key, questions, anchors, aspect in self.asked:
            found = process.extractOne(said, questions, scorer=fuzz.ratio)
            named = {word for word in anchors if word in said}
            scored.append((key, found[1] / 100 if found else 0.0, bool(named),
                           aspect or (bool(named) and named <= FRAMES)))
        topic_named = any(anchored and not aspect for _, _, anchored, aspect in scored)
        for key, ratio, anchored, aspect in scored:
            bonus = (ASPECT_BONUS if aspect and topic_named else ANCHOR_BONUS) if anchored else 0.0
            if best is None or ratio + bonus > best.score:
                best = Match(key, ratio + bonus)
        return Match(best.key, min(best.score, 1.0)) if best and said else None


@lru_cache(maxsize=8)
def index(entries: tuple[FaqEntry, ...]) -> FaqIndex:
    return FaqIndex(entries)


def match(text: str, entries: tuple[FaqEntry, ...], *, threshold: float = THRESHOLD
          ) -> Match | None:
    """The FAQ entry a message asks, when its score reaches the threshold."""
    if not entries:
        return None
    found = index(entries).best(text)
    return found if found is not None and found.score >= threshold else None
