"""Scripted applicants over the real webhook: how many messages an application takes.

Five applicants, each reactive: it reads the bot's last reply, finds what is asked (the
question nearest the end of the reply) and answers that, until a reply carries 申请编号.
A roster household must get there in at most 5 messages, a new household in at most 8; the
one who asks questions in between may add one message per question, each of which must be
answered, with the pending question asked again. Every applicant stops at 20 messages, so a
bot that loops fails fast. The table of messages per application is printed on every run
(`pytest tests/bot/test_applicants.py -s`) and in a failure.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from decimal import Decimal

import pytest
from sqlalchemy import select

from approvals.record.definitions import Level
from approvals.record.models import Case, Member
from fangfan.app import create_app
from fangfan.config import Config
from fangfan.services import Services
from tests.bot.sender import WeChatSender
from tests.db import session_scope
from tests.support.web import Desk, cadre
from tests.support.world import World, roster_head

CAP = 20  # messages: past this an applicant is looping, not applying
ROSTER_LIMIT, NEW_LIMIT = 5, 8
DONE = "申请编号"
SUMMARY = re.compile(r"请核对(?!身份证号|后)")  # the summary, not 「请核对身份证号」 after a slip
APPROXIMATE = ("约", "左右", "大概", "多", "估")  # how a page may say a figure was approximate

# Not in the demo roster (its ID numbers are of 522631); valid check digits (GB 11643).
NEW_IDS = {"new": "513324196711030626", "all_at_once": "510122195803121145",
           "questions": "433130197205193319"}


def questions(config: Config) -> dict[str, str]:
    """What the bot's questions contain, by what they ask (the village's level name from
    config). 姓名 too: a bot holding the ID number may ask for the name alone."""
    return {"身份证号": "who", "姓名": "who", f"哪个{config.levels[Level.VILLAGE]}": "village",
            "几口人": "size", "困难": "difficulty", "哪一类": "risks", "收入": "income",
            "手机号": "phone"}


def asked(reply: str, config: Config) -> str | None:
    """What the reply asks for: the summary, else the question nearest its end."""
    if SUMMARY.search(reply):
        return "confirm"
    found = {what: reply.rfind(word) for word, what in questions(config).items()
             if word in reply}
    return max(found, key=lambda what: found[what]) if found else None


@dataclass
class Applicant:
    label: str
    kind: str  # roster or new: the limit of its kind
    opening: list[str]  # what it sends first, before anything is asked
    answers: dict[str, list[str]]  # what it says when asked, in turn (the last one again)
    asides: dict[str, tuple[str, str]] = field(default_factory=dict)  # when this is first
    # asked: a question of its own (and the FAQ entry that answers it) before answering

    @property
    def limit(self) -> int:
        return (ROSTER_LIMIT if self.kind == "roster" else NEW_LIMIT) + len(self.asides)


@dataclass
class Outcome:
    applicant: Applicant
    messages: int
    done: bool
    transcript: str
    problem: str = ""


def faq_words(config: Config, key: str) -> str:
    """A piece of the FAQ entry's answer as config.yaml words it (placeholders left out)."""
    entry = next((f for f in config.chat.faq if f.key == key), None)
    assert entry, f"config.yaml chat.faq has no entry {key}"
    pieces = re.split(r"\{[a-z_]+\}", entry.answer)
    return max(pieces, key=len).strip()[:12]


def apply(farmer: WeChatSender, applicant: Applicant, config: Config) -> Outcome:
    said: dict[str, int] = {}
    reply = ""
    problem = ""
    try:
        for text in applicant.opening:
            reply = farmer.say(text)
        while DONE not in reply:
            assert len(farmer.log) < CAP, f"no {DONE} after {CAP} messages"
            what = asked(reply, config)
            assert what in applicant.answers, f"the bot asks {what!r}: nothing to answer"
            if what in applicant.asides and what not in said:
                question, key = applicant.asides[what]
                answer = farmer.say(question)
                assert faq_words(config, key) in answer, f"{question!r} not answered"
                assert asked(answer, config) == what, f"after {question!r}, {what} not asked again"
            turns = applicant.answers[what]
            reply = farmer.say(turns[min(said.get(what, 0), len(turns) - 1)])
            said[what] = said.get(what, 0) + 1
    except AssertionError as failed:
        problem = str(failed).split("\n")[0]
    transcript = "\n".join(f"  农户：{text}\n  回复：{answer}" for text, answer in farmer.log)
    return Outcome(applicant, len(farmer.log), DONE in reply, transcript, problem)


def table(outcomes: list[Outcome]) -> str:
    lines = ["messages per application:",
             f"  {'applicant':<34}{'kind':<8}{'messages':>9}{'limit':>7}  result"]
    for o in outcomes:
        result = ("ok" if o.done and o.messages <= o.applicant.limit else
                  "over the limit" if o.done else f"no case number: {o.problem}")
        lines.append(f"  {o.applicant.label:<34}{o.applicant.kind:<8}{o.messages:>9}"
                     f"{o.applicant.limit:>7}  {result}")
    return "\n".join(lines)


def case_of(id_number: str) -> Case:
    with session_scope() as s:
        household = s.scalars(select(Member.household_id)
                              .where(Member.id_number == id_number)).one()
        return s.scalars(select(Case).where(Case.household_id == household)).one()


def household_size(id_number: str) -> int | None:
    with session_scope() as s:
        return s.scalars(select(Member).where(Member.id_number == id_number)).one().household.size


def income_on_page(services: Services, case: Case, village: str) -> str:
    """The income as the village cadre sees it on the case page (tags stripped)."""
    desk = Desk(create_app(services).test_client()).signs_in(cadre("village_cadre", village))
    page = desk.get(f"/c/{case.id}").text  # type: ignore[attr-defined]
    start = page.find("近12个月家庭收入")
    assert start >= 0, "the case page shows no income"
    return re.sub(r"<[^>]+>", " ", page[start:start + 300]).split("元")[0]


def applicants(config: Config) -> tuple[list[Applicant], dict[str, tuple[str, str, str]]]:
    """The five, and who each is (name, ID number, village)."""
    roster_name, roster_id, _ = roster_head("东沟村", 0)
    one_name, one_id, _ = roster_head("东沟村", 1)
    people = {"roster": (roster_name, roster_id, "东沟村"),
              "one_word": (one_name, one_id, "东沟村"),
              "new": ("韦美兰", NEW_IDS["new"], "西坡村"),
              "all_at_once": ("王秀英", NEW_IDS["all_at_once"], "南滩村"),
              "questions": ("蒋春兰", NEW_IDS["questions"], "北岭村")}
    agree = {"confirm": ["同意"]}
    return [
        Applicant("a roster household", "roster", ["我要申请帮扶"],
                  {"who": [f"{roster_name} {roster_id}"],
                   "difficulty": ["老伴住院做手术 花了五万多"], "risks": ["因病"],
                   "income": ["三万多"], "phone": ["跳过"]} | agree),
        Applicant("a new household", "new", ["想申请"],
                  {"who": [f"我叫韦美兰 {NEW_IDS['new']}"], "village": ["西坡那边"],
                   "size": ["五口人"], "difficulty": ["娃上大学 学费交不起"], "risks": ["因学"],
                   "income": ["两万五"], "phone": ["13789873032"]} | agree),
        Applicant("everything at once (new)", "new",
                  [f"我要申请 我叫王秀英 {NEW_IDS['all_at_once']} 南滩村的 家里五口人 "
                   "老伴住院花了八万多 一年收入两万左右 电话18400718531"],
                  {"who": [f"王秀英 {NEW_IDS['all_at_once']}"], "village": ["南滩村"],
                   "size": ["5"], "difficulty": ["老伴住院花了八万多"], "risks": ["因病"],
                   "income": ["两万左右"], "phone": ["18400718531"]} | agree),
        # one word a message: the ID number alone first, its name next (as the issue found)
        Applicant("one word a message (roster)", "roster", [one_id],
                  {"who": [one_name, one_id], "difficulty": ["住院"], "risks": ["因病"],
                   "income": ["三万"], "phone": ["跳过"]} | agree),
        Applicant("questions in between (new)", "new", ["申请"],
                  {"who": [f"蒋春兰 {NEW_IDS['questions']}"], "village": ["北岭"],
                   "size": ["4个人"], "difficulty": ["男人在工地上摔断了腿 干不了活"],
                   "risks": ["意外事故"], "income": ["一个月两千"], "phone": ["跳过"]} | agree,
                  asides={"who": ("身份证号给你们安全吗", "privacy"),
                          "village": ("我家老伴住院了能申请吗", "who_may_apply"),
                          "income": ("要多久能办好", "how_long")}),
    ], people


def test_applicants_get_a_case_number_in_few_messages(
        farmer: WeChatSender, services: Services, world: World,
        capsys: pytest.CaptureFixture[str]) -> None:
    config = services.config
    scripted, people = applicants(config)
    openids = ["o_roster", "o_new", "o_all_at_once", "o_one_word", "o_questions"]
    outcomes = [apply(replace(farmer, openid=openid, log=[]), applicant, config)
                for openid, applicant in zip(openids, scripted, strict=True)]
    report = table(outcomes)
    with capsys.disabled():
        print("\n" + report)
    failed = [o for o in outcomes if not (o.done and o.messages <= o.applicant.limit)]
    assert not failed, report + "\n\n" + "\n\n".join(
        f"{o.applicant.label}:\n{o.transcript}" for o in failed)

    roster = case_of(people["roster"][1])
    assert roster.risk_types == ["illness"] and roster.income_12m == Decimal(30000)
    shown = income_on_page(services, roster, "东沟村")
    assert "30000" in shown and any(w in shown for w in APPROXIMATE), shown  # 三万多

    one_word = case_of(people["one_word"][1])
    assert one_word.risk_types == ["illness"] and one_word.income_12m == Decimal(30000)
    shown = income_on_page(services, one_word, "东沟村")
    assert "30000" in shown and not any(w in shown for w in APPROXIMATE), shown  # 三万: exact

    new = case_of(NEW_IDS["new"])
    assert new.risk_types == ["schooling"] and new.income_12m == Decimal(25000)
    assert household_size(NEW_IDS["new"]) == 5 and new.answers["household_size"] == 5

    at_once = case_of(NEW_IDS["all_at_once"])
    assert at_once.risk_types == ["illness"] and at_once.income_12m == Decimal(20000)
    assert household_size(NEW_IDS["all_at_once"]) == 5
    shown = income_on_page(services, at_once, "南滩村")
    assert "20000" in shown and any(w in shown for w in APPROXIMATE), shown  # 两万左右

    asking = case_of(NEW_IDS["questions"])
    assert asking.income_12m == Decimal(24000)  # 一个月两千, confirmed as a year's
    assert "accident" in asking.risk_types and household_size(NEW_IDS["questions"]) == 4
    with session_scope() as s:  # each in the village it said
        for key in ("new", "all_at_once", "questions"):
            name, id_number, village = people[key]
            member = s.scalars(select(Member).where(Member.id_number == id_number)).one()
            assert (member.name, member.household.village.name) == (name, village)
