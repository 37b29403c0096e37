"""The conversation as farmers have it: several answers in one message or one word a
message, Chinese numerals, questions in the middle, a person asked for, over the real
webhook."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

from sqlalchemy import select, update

from approvals.record.models import Cadre, Case, Member, Pairing, Reexamination, Verdict
from bot.models import Conversation
from notifications.models import OutboxMessage
from notifications.wording import render
from tests.bot.sender import WeChatSender
from tests.db import session_scope
from tests.support.world import World, roster_head

NEW_ID = "11010519491231002X"  # not in the demo roster


def only_case(household_id: int) -> Case:
    with session_scope() as s:
        return s.scalars(select(Case).where(Case.household_id == household_id)).one()


def test_an_id_alone_a_name_next_an_approximate_income_a_question_and_a_photo(
        farmer: WeChatSender) -> None:
    """The walk of the issue: nothing said is lost, the question is answered and the pending
    one asked again, 「三万多」 is kept as approximate."""
    assert "身份证号" in farmer.say("我要申请帮扶")
    reply = farmer.say(NEW_ID)
    assert "身份证号记下了" in reply and "姓名" in reply
    assert "哪个村" in farmer.say("王秀英")
    assert "几口人" in farmer.say("西坡")
    assert "困难" in farmer.say("五口人")
    reply = farmer.say("我家老伴住院了能申请吗")
    assert "困难" in reply.split("我们接着填申请")[-1]  # answered, then asked again
    assert "收到照片（第1张）" in farmer.photo("media-bill-1")
    assert "收入" in farmer.say("老伴住院花了八万多")
    reply = farmer.say("三万多")
    assert "手机号" in reply
    reply = farmer.say("跳过")
    assert "请核对" in reply and "约30000元" in reply and "花费约80000元" in reply
    reply = farmer.say("同意")
    assert "申请编号" in reply
    with session_scope() as s:
        member = s.scalars(select(Member).where(Member.id_number == NEW_ID)).one()
        assert member.name == "王秀英" and member.household.village.name == "西坡村"
        case = s.scalars(select(Case).where(Case.household_id == member.household_id)).one()
        assert case.income_12m == Decimal(30000) and case.answers["income_approximate"] is True
        assert case.answers["expense"] == "80000" and case.risk_types == ["illness"]
        assert case.answers["household_size"] == 5 and case.attachments == ["media-bill-1"]
        assert case.number in reply


def test_everything_in_one_message_then_one_slot_changed_at_the_summary(
        farmer: WeChatSender) -> None:
    name, id_number, household_id = roster_head(index=2)
    reply = farmer.say(f"我叫{name} {id_number} 老伴住院花了八万多 一年收入两万五")
    assert "查到了您家的登记信息" in reply and "请核对" in reply, reply
    assert "25000元" in reply
    reply = farmer.say("收入改成两万")
    assert "请核对" in reply and "20000元" in reply and "25000" not in reply
    assert "申请编号" in farmer.say("同意")
    assert len(farmer.log) == 3
    assert only_case(household_id).income_12m == Decimal(20000)


def test_a_monthly_income_is_confirmed_as_a_yearly_one(farmer: WeChatSender) -> None:
    name, id_number, household_id = roster_head(index=3)
    for said in ("申请", f"{name} {id_number}", "冰雹把玉米打了"):
        farmer.say(said)
    reply = farmer.say("一个月两千")
    assert "24000元（按每月2000元算）" in reply
    farmer.say("同意")
    case = only_case(household_id)
    assert case.income_12m == Decimal(24000) and case.answers["income_monthly"] == 2000


def test_progress_in_the_middle_is_answered_and_the_application_goes_on(
        farmer: WeChatSender) -> None:
    name, id_number, _ = roster_head(index=4)
    farmer.say("申请")
    farmer.say(f"{name} {id_number}")
    reply = farmer.say("我家的申请到哪一步了")
    assert "还没有查到" in reply and "我们接着填申请" in reply and "困难" in reply
    with session_scope() as s:  # nothing changed by the question
        assert s.get(Conversation, farmer.openid).step == "difficulty"


def test_what_cannot_be_understood_gets_a_short_menu(farmer: WeChatSender) -> None:
    reply = farmer.say("嗯嗯嗯那个啥")
    assert "申请" in reply and "进度" in reply and "找干部" in reply


def test_a_roster_household_asks_for_a_person_and_is_told_who_and_by_when(
        farmer: WeChatSender, world: World) -> None:
    _, id_number, household_id = roster_head(index=5)
    with session_scope() as s:
        s.execute(update(Member).where(Member.id_number == id_number)
                  .values(openid=farmer.openid))
        paired = s.scalar(select(Cadre.name).join(Pairing, Pairing.cadre_id == Cadre.id).where(
            Pairing.household_id == household_id, Pairing.ended_on.is_(None)))
    reply = farmer.say("转人工")
    cadre = paired or world.cadre("village_cadre", "东沟村").name
    assert cadre in reply and "回电话" in reply and "前" in reply, reply
    assert "找干部" not in farmer.say("找干部").split("回电话")[0]  # one request, same promise


def test_a_stranger_asks_for_a_person_in_the_middle_of_an_application(
        farmer: WeChatSender) -> None:
    farmer.say("申请")
    farmer.say(f"王小明 {NEW_ID}")
    reply = farmer.say("能不能让村里人给我打个电话")
    assert "哪个村" in reply and "手机号" in reply
    reply = farmer.say("东沟村 13912345678")  # the village is the application's too
    assert "回电话" in reply and "我们接着填申请" in reply and "几口人" in reply


def test_why_not_me_after_a_rejection_says_the_reason_and_files_only_with_grounds(
        farmer: WeChatSender, world: World) -> None:
    name, id_number, household_id = roster_head(index=6)
    for said in ("申请", f"{name} {id_number}", "生病住院", "一万", "同意"):
        farmer.say(said)
    case_id = only_case(household_id).id
    world.advance(case_id)
    world.decides(case_id, world.approver(case_id), Verdict.REJECTED,
                  reason="入户核实发现风险不属实")
    reply = farmer.say("为什么不给我办")
    assert "入户核实发现风险不属实" in reply and "理由" in reply and "已收到" not in reply
    with session_scope() as s:
        assert s.scalar(select(Reexamination.id).where(Reexamination.case_id == case_id)) is None
    with session_scope() as s:  # the township's auditors are on WeChat
        for auditor in s.scalars(select(Cadre).where(Cadre.role == "township_auditor")):
            auditor.openid = auditor.openid or f"o_auditor_{auditor.id}"
    reply = farmer.say("冰雹灾害是真的，村里都知道")
    assert "复核申请" in reply
    with session_scope() as s:
        review = s.scalars(select(Reexamination).where(Reexamination.case_id == case_id)).one()
        assert review.grounds == "冰雹灾害是真的，村里都知道"
        told = s.scalars(select(OutboxMessage).where(
            OutboxMessage.key.startswith(f"reexamination:{review.id}:new:"))).all()
    assert told, "the township's auditor is told of the 复核 at once"
    text = render(told[0].event, told[0].params, "https://fangfan.example").text
    assert "新的待办" in text and "复核" in text and f"/c/{case_id}#reexamination" in text
    assert "冰雹" not in text  # the grounds are on the case page, not in a message


def test_a_stranger_gives_the_village_and_the_phone_in_two_messages(
        farmer: WeChatSender) -> None:
    assert "哪个村" in farmer.say("找干部")
    assert "哪个村" in farmer.say("13512340001") and "手机号" not in farmer.log[-1][1]
    reply = farmer.say("南滩村")
    assert "回电话" in reply and "前" in reply, reply


def test_a_weak_yes_at_the_summary_does_not_sign_the_consent(farmer: WeChatSender) -> None:
    name, id_number, _ = roster_head(index=7)
    for said in ("申请", f"{name} {id_number}", "房子漏雨了", "两万"):
        farmer.say(said)
    reply = farmer.say("好的")
    assert "申请编号" not in reply and "同意" in reply
    assert "申请编号" in farmer.say("同意")
    assert "已经提交了" in farmer.say("同意")  # said again: told, not 没太明白


def test_someone_elses_id_number_learns_no_case_number(
        farmer: WeChatSender, world: World) -> None:
    name, id_number, household_id = roster_head(index=4)
    world.apply(household_id)
    number = only_case(household_id).number
    farmer.say("申请")
    reply = farmer.say(f"{name} {id_number}")
    assert "已有正在办理的申请" in reply and number not in reply and "好的，我们开始" not in reply


def test_a_voice_message_not_recognised_mid_application_asks_the_pending_question_again(
        farmer: WeChatSender) -> None:
    farmer.say("申请")
    reply = farmer.voice(None)
    assert "打字" in reply and "找干部" in reply and "身份证号" in reply.split("接着填申请")[-1]


def test_a_plain_yes_confirms_what_a_cadre_filed(farmer: WeChatSender, world: World) -> None:
    """The household asked on its WeChat to confirm a cadre's filing answers 「同意」."""
    cadre = world.cadre("village_cadre", "东沟村")
    filer = replace(farmer, openid="o_cadre_filing", log=[])
    name, id_number, household_id = roster_head(index=6)
    with session_scope() as s:
        s.execute(update(Cadre).where(Cadre.id == cadre.id).values(openid=filer.openid))
        s.execute(update(Member).where(Member.id_number == id_number)
                  .values(openid=farmer.openid))
    for said in ("申请", f"{name} {id_number}", "房子裂了，下雨漏", "一万五", "同意"):
        reply = filer.say(said)
    assert "确认授权" in reply
    assert "已确认授权" in farmer.say("同意")
    assert not only_case(household_id).consent_pending
