"""The application dialogue over the real webhook, as a farmer on a phone would have it."""

from __future__ import annotations

import threading
import time
from dataclasses import replace
from decimal import Decimal

from sqlalchemy import func, select, update
from werkzeug.serving import make_server

from approvals.procedure import reexaminations
from approvals.record.definitions import Stage
from approvals.record.models import (
    Cadre,
    Case,
    CaseStatus,
    Household,
    MediaFile,
    MediaStatus,
    Member,
    Place,
    Reexamination,
    ReexaminationResult,
    Source,
    Verdict,
)
from bot.models import Conversation
from fangfan.app import create_app
from fangfan.services import Services
from notifications import reexaminations as told
from notifications.models import OutboxMessage
from notifications.wording import render
from tests.bot.fake_api import FakeWeChatApi
from tests.bot.sender import WeChatSender
from tests.db import session_scope
from tests.support.world import World, roster_head

NEW_ID = "11010519491231002X"  # not in the demo roster


def only_case(household_id: int) -> Case:
    with session_scope() as s:
        return s.scalars(select(Case).where(Case.household_id == household_id)).one()


def test_known_household_applies_in_at_most_six_messages(farmer: WeChatSender) -> None:
    name, id_number, household_id = roster_head()
    farmer.say("申请")
    assert "身份证号" in farmer.log[-1][1]
    reply = farmer.say(f"{name} {id_number}")
    assert "查到了您家的登记信息" in reply and "困难" in reply
    reply = farmer.say("老伴住院做手术，花了五万多")
    assert "因病" in reply and "收入" in reply
    reply = farmer.say("三万")
    assert "请核对" in reply and "身份证号：" in reply
    assert id_number not in reply  # masked, even to the farmer, in the chat
    assert "同意" in reply and "授权" in reply  # consent is asked explicitly
    reply = farmer.say("同意")
    assert "申请编号" in reply

    assert len(farmer.log) <= 6
    case = only_case(household_id)
    assert case.source == Source.WECHAT and case.risk_types == ["illness"]
    assert case.income_12m == Decimal(30000)
    assert case.answers["description"] == "老伴住院做手术，花了五万多"  # kept as typed
    assert case.answers["consent"] is True
    assert case.number in reply
    with session_scope() as s:  # the farmer is now known to the account
        assert s.scalar(select(Member.openid).where(Member.id_number == id_number)) == farmer.openid


def test_new_household_forgiving_answers_and_a_change_before_submitting(
        farmer: WeChatSender) -> None:
    farmer.say("我要申请")
    assert "校验位" in farmer.say("王小明 110105194912310021")  # a typo in the ID
    assert "哪个村" in farmer.say(f"王小明 {NEW_ID}")
    assert "几口人" in farmer.say("西坡")  # part of a village's name
    assert "困难" in farmer.say("五口")
    reply = farmer.say("说来话长，日子过不下去了")  # no known keyword: pick from a list
    assert "哪一类" in reply
    assert "收入" in farmer.say("1 8")
    assert "手机号" in farmer.say("大概两万")
    assert "请核对" in farmer.say("跳过")
    assert "修改哪一项" in farmer.say("修改")
    assert "收入" in farmer.say("近12个月家庭总收入")
    reply = farmer.say("1.8万")
    assert "18000元" in reply and "未留" in reply
    reply = farmer.say("同意提交")
    assert "申请编号" in reply

    with session_scope() as s:
        member = s.scalars(select(Member).where(Member.id_number == NEW_ID)).one()
        assert member.name == "王小明" and member.is_head and member.openid == farmer.openid
        assert member.household.village.name == "西坡村"
        case = s.scalars(select(Case).where(Case.household_id == member.household_id)).one()
        assert case.risk_types == ["illness", "labour"] and case.income_12m == Decimal(18000)
        assert case.answers["household_size"] == 5
        assert member.household.size == 5  # kept on the household, not only in the answers


def test_draft_survives_a_restart_and_is_resumed_days_later(
        farmer: WeChatSender, services: Services, world: World) -> None:
    name, id_number, _ = roster_head(index=1)
    farmer.say("申请")
    farmer.say(f"{name} {id_number}")
    with session_scope() as s:  # what was said is in the database, not in a process
        conv = s.get(Conversation, farmer.openid)
        assert conv.step == "difficulty" and conv.draft["id_number"] == id_number
    restarted = make_server("127.0.0.1", 0, create_app(services), threaded=True)
    threading.Thread(target=restarted.serve_forever, daemon=True).start()
    farmer.url = f"http://127.0.0.1:{restarted.server_port}/wechat/mp"  # another web process
    world.clock.advance(days=3)
    reply = farmer.say("申请")
    assert "接着填" in reply and "困难" in reply
    farmer.say("冰雹把玉米打了")
    assert "请核对" in farmer.say("两万")
    restarted.shutdown()


def test_cancel_help_and_anything_not_understood(farmer: WeChatSender) -> None:
    assert "申请" in farmer.say("帮助") and "撤回" in farmer.log[-1][1]
    assert "回复「申请」" in farmer.say("今天天气不错")
    farmer.say("申请")
    farmer.say(f"王小明 {NEW_ID}")
    assert "已取消" in farmer.say("取消")
    with session_scope() as s:
        assert s.get(Conversation, farmer.openid).draft == {}
    assert "没有正在填写" in farmer.say("取消")


def test_questions_in_the_middle_of_an_application_leave_it_where_it_was(
        farmer: WeChatSender) -> None:
    """帮助, 政策 and 进度 are answered without the conversation: the draft stays as it was,
    the next answer goes on with it, and a stranger's questions leave no conversation."""
    name, id_number, household_id = roster_head(index=3)
    stranger = replace(farmer, openid="o_just_asking", log=[])
    assert "申请" in stranger.say("帮助") and "12317" in stranger.say("政策")
    assert "还没有查到" in stranger.say("进度")
    farmer.say("申请")
    farmer.say(f"{name} {id_number}")
    with session_scope() as s:
        before = s.get(Conversation, farmer.openid)
        step, draft = before.step, dict(before.draft)
    assert "还没有查到" in farmer.say("查询进度")
    assert "撤回" in farmer.say("帮助")
    with session_scope() as s:
        after = s.get(Conversation, farmer.openid)
        assert (after.step, after.draft) == (step, draft) == ("difficulty", draft)
        assert s.get(Conversation, stranger.openid) is None
    assert "收入" in farmer.say("孩子上学花销大")  # the application goes on where it was
    farmer.say("两万")
    assert "申请编号" in farmer.say("同意")
    assert only_case(household_id).answers["description"] == "孩子上学花销大"


def test_long_text_emoji_voice_and_unknown_message_types(farmer: WeChatSender) -> None:
    name, id_number, household_id = roster_head(index=2)
    farmer.say("申请")
    farmer.say(f"{name} {id_number}")
    farmer.say("住院了😭" + "很难" * 3000)  # 6,000 characters with an emoji
    assert "收入" in farmer.log[-1][1]
    assert "打字" in farmer.voice(None)  # a voice message WeChat could not transcribe
    reply = farmer.voice("三万块")  # WeChat's recognition is used as the text
    assert "请核对" in reply
    location = farmer.xml("location", "<Location_X>23.1</Location_X><Location_Y>113.3</Location_Y>"
                                      "<Scale>20</Scale><Label><![CDATA[某地]]></Label>")
    assert "文字、语音和照片" in farmer.post(location).text
    farmer.say("同意")
    case = only_case(household_id)
    assert case.answers["description"].startswith("住院了😭")
    assert len(case.answers["description"]) == 500


def test_progress_then_the_decision_with_its_reason(farmer: WeChatSender, world: World) -> None:
    assert "还没有查到" in farmer.say("进度")
    name, id_number, household_id = roster_head(index=3)
    for said in ("申请", f"{name} {id_number}", "孩子上大学学费交不起", "两万", "同意"):
        farmer.say(said)
    case_id = only_case(household_id).id
    world.advance(case_id)
    reply = farmer.say("进度")
    assert "入户核实" in reply and "预计" in reply and "月" in reply
    world.approve_through(case_id, Stage.COUNTY_APPROVAL)
    assert "县级比对审定" in farmer.say("查询")
    world.decides(case_id, world.approver(case_id), verdict="rejected",
                  reason="家庭收入高于监测范围")
    reply = farmer.say("进度")
    assert "不予纳入" in reply and "家庭收入高于监测范围" in reply and "复核" in reply


def test_progress_tells_a_return_with_its_reason_then_the_helper_after_enrolment(
        farmer: WeChatSender, world: World) -> None:
    name, id_number, household_id = roster_head(index=5)
    for said in ("申请", f"{name} {id_number}", "老伴住院", "两万", "同意"):
        farmer.say(said)
    case_id = only_case(household_id).id
    world.advance(case_id)
    world.approve_through(case_id, Stage.TOWNSHIP_AUDIT)
    world.decides(case_id, world.approver(case_id), Verdict.RETURNED,
                  return_to=Stage.HOME_VERIFICATION, reason="请补充住院发票")
    reply = farmer.say("进度")
    assert "「入户核实」" in reply and "办理" in reply
    assert "上级退回重新办理，原因：请补充住院发票" in reply, reply
    world.approve_through(case_id, Stage.COUNTY_APPROVAL)
    world.passes(case_id)
    helper = world.cadre("helper")
    reply = farmer.say("进度")
    assert "纳入监测" in reply and f"帮扶联系人：{helper.name}" in reply
    assert "退回" not in reply


def test_withdraw_before_the_village_review_only(farmer: WeChatSender, world: World) -> None:
    name, id_number, household_id = roster_head(index=4)
    for said in ("申请", f"{name} {id_number}", "生病住院", "一万", "同意"):
        farmer.say(said)
    case_id = only_case(household_id).id
    world.advance(case_id)
    assert "确定要撤回" in farmer.say("撤回")
    assert "申请保留" in farmer.say("算了")
    farmer.say("撤回")
    assert "已撤回" in farmer.say("确定")
    assert world.case(case_id).status == CaseStatus.WITHDRAWN
    assert world.open_task_count(case_id) == 0
    assert "已撤回" in farmer.say("进度")


def test_a_cadre_files_on_behalf_of_a_household(farmer: WeChatSender, world: World) -> None:
    cadre = world.cadre("village_cadre", "东沟村")
    with session_scope() as s:
        s.execute(update(Cadre).where(Cadre.id == cadre.id).values(openid=farmer.openid))
    name, id_number, household_id = roster_head(index=5)
    assert "代为申请" in farmer.say("申请")
    assert "不在您负责的范围" in farmer.say(" ".join(roster_head("南滩村")[:2]))
    for said in (f"{name} {id_number}", "房子裂了，下雨漏", "一万五", "同意"):
        reply = farmer.say(said)
    assert "申请编号" in reply
    # the cadre's 「同意」 is not the household's: its signed form is still to come
    assert "上传农户签字的《监测对象申请及承诺授权查询书》" in reply
    case = only_case(household_id)
    assert case.source == Source.CADRE_VISIT and case.filed_by == cadre.name
    assert case.consent_pending and case.answers["consent"]["how"] == "photo"
    with session_scope() as s:  # the cadre's WeChat is not bound to the household
        assert s.scalar(select(Member.openid).where(Member.id_number == id_number)) is None


def test_a_cadre_filing_in_the_chat_for_a_household_on_wechat_asks_it_to_confirm(
        farmer: WeChatSender, world: World) -> None:
    cadre = world.cadre("village_cadre", "东沟村")
    name, id_number, household_id = roster_head(index=6)
    with session_scope() as s:
        s.execute(update(Cadre).where(Cadre.id == cadre.id).values(openid=farmer.openid))
        s.execute(update(Member).where(Member.id_number == id_number)
                  .values(openid="o_household_06"))
    farmer.say("申请")
    for said in (f"{name} {id_number}", "房子裂了，下雨漏", "一万五", "同意"):
        reply = farmer.say(said)
    assert "已请农户在微信中回复「确认授权」" in reply
    case = only_case(household_id)
    assert case.consent_pending and case.answers["consent"]["how"] == "chat"


def moved_to(cadre_id: int, village: str) -> None:
    """The cadre now works in another village (a posting changed while they were filing)."""
    with session_scope() as s:
        place = s.scalar(select(Place.id).where(Place.name == village))
        s.execute(update(Cadre).where(Cadre.id == cadre_id).values(place_id=place))


def test_a_cadre_filing_outside_their_jurisdiction_is_refused_and_nothing_is_written(
        farmer: WeChatSender, fake_api: FakeWeChatApi, world: World) -> None:
    cadre = world.cadre("village_cadre", "东沟村")
    with session_scope() as s:
        s.execute(update(Cadre).where(Cadre.id == cadre.id).values(openid=farmer.openid))
        members, households = (s.scalar(select(func.count()).select_from(table))
                               for table in (Member, Household))
    name, id_number, _ = roster_head(index=8)
    with session_scope() as s:
        s.execute(update(Member).where(Member.id_number == id_number).values(phone=None))
    for said in ("申请", f"{name} {id_number}", "房子裂了，下雨漏", "一万五", "13912345678"):
        farmer.say(said)
    assert "收到照片" in farmer.photo("media-house-1")
    moved_to(cadre.id, "南滩村")
    reply = farmer.say("同意")
    assert "这户不在您负责的范围内，不能代为申请" in reply and "申请编号" not in reply, farmer.log

    assert "代为申请" in farmer.say("申请")  # a household of a village they no longer serve
    farmer.say(f"王小明 {NEW_ID}")
    village_list = farmer.log[-1][1]
    assert "南滩村" in village_list and "东沟村" not in village_list
    for said in ("南滩", "三口", "冰雹把庄稼打了", "两万", "跳过"):
        farmer.say(said)
    moved_to(cadre.id, "东沟村")
    assert "这户不在您负责的范围内" in farmer.say("同意")

    with session_scope() as s:  # no case, no household, no member, nothing attached or bound
        assert s.scalar(select(func.count()).select_from(Case)) == 0
        assert s.scalar(select(func.count()).select_from(Member)) == members
        assert s.scalar(select(func.count()).select_from(Household)) == households
        assert s.scalar(select(Member.phone).where(Member.id_number == id_number)) is None
        assert s.scalar(select(Member.id).where(Member.openid == farmer.openid)) is None
        assert s.scalar(select(MediaFile.case_id).where(
            MediaFile.media_id == "media-house-1")) is None
        assert s.get(Conversation, farmer.openid).step == "idle"


def test_photos_are_saved_after_the_answer_and_attached(
        farmer: WeChatSender, fake_api: FakeWeChatApi, services: Services) -> None:
    name, id_number, household_id = roster_head(index=6)
    farmer.say("申请")
    farmer.say(f"{name} {id_number}")
    reply = farmer.photo("media-bill-1")
    assert "收到照片（第1张）" in reply and "困难" in reply  # the question is asked again
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        with session_scope() as s:
            saved = s.scalars(select(MediaFile).where(MediaFile.media_id == "media-bill-1")).one()
            if saved.status == MediaStatus.SAVED:
                break
        time.sleep(0.05)
    assert saved.status == MediaStatus.SAVED and fake_api.media_downloads == ["media-bill-1"]
    assert open(saved.path, "rb").read().startswith(b"\xff\xd8")
    with session_scope() as s:  # "saved" reaches the farmer through the outbox
        assert s.scalar(select(OutboxMessage.event).where(
            OutboxMessage.recipient == farmer.openid)) == "media_saved"
    for said in ("住院", "两万", "同意"):
        farmer.say(said)
    case = only_case(household_id)
    assert case.attachments == ["media-bill-1"]
    farmer.photo("media-bill-2")  # after submitting: added to the open application
    with session_scope() as s:
        assert s.get(Case, case.id).attachments == ["media-bill-1", "media-bill-2"]
        assert s.scalar(select(func.count()).select_from(MediaFile)
                        .where(MediaFile.case_id == case.id)) == 2


def test_monitored_or_already_applying_households_are_told_at_once(
        farmer: WeChatSender, world: World) -> None:
    name, id_number, household_id = roster_head(index=7)
    world.apply(household_id)
    farmer.say("申请")
    reply = farmer.say(f"{name} {id_number}")
    assert "已有正在办理的申请" in reply
    with session_scope() as s:
        assert s.get(Conversation, farmer.openid).step == "idle"


def test_a_farmer_asks_for_a_reexamination_in_the_chat_and_hears_its_result(
        farmer: WeChatSender, world: World) -> None:
    name, id_number, household_id = roster_head(index=6)
    for said in ("申请", f"{name} {id_number}", "生病住院", "一万", "同意"):
        farmer.say(said)
    case_id = only_case(household_id).id
    world.advance(case_id)
    assert "还在办理中" in farmer.say("申请复核")
    world.decides(case_id, world.approver(case_id), Verdict.REJECTED,
                  reason="入户核实发现风险不属实")
    assert "回复「申请复核」加上理由即可申请" in farmer.say("进度")
    reply = farmer.say("我不服，医药费票据没算进去")
    assert f"已收到您对申请 {only_case(household_id).number} 的复核申请" in reply
    assert "乡镇会重新审查" in reply and "日前办结" in reply
    with session_scope() as s:
        review = s.scalars(select(Reexamination).where(Reexamination.case_id == case_id)).one()
        assert review.grounds == "医药费票据没算进去"
        assert review.requested_by == f"farmer:{farmer.openid}"
    assert "已经申请过复核" in farmer.say("要求复核")
    assert "您已申请复核，正在办理" in farmer.say("进度")
    with session_scope() as s:
        reexaminations.decide(s, review.id, world.cadre("township_auditor", "青山镇"),
                              ReexaminationResult.REVOKED, "补充票据后自付费用较大，重新核实",
                              now=world.clock.now(), calendar=world.services.calendar,
                              role_label="乡镇审核员")
    with session_scope() as s:
        told.announce(s.connection(), world.clock.now())
    with session_scope() as s:
        [result] = s.scalars(select(OutboxMessage).where(
            OutboxMessage.recipient == farmer.openid,
            OutboxMessage.event == "reexamination_decided")).all()
    assert "撤销原结论，重新办理" in render(result.event, result.params).text
    world.advance(case_id)
    assert world.stage(case_id) == Stage.HOME_VERIFICATION
