"""What a screening hit does to the record (approvals/screening/outcomes.py): a case opened with
its evidence and its 入户核实 opened by the worker's pass for the village cadre; one case however
many rules hit a household; nothing new on a rerun; evidence added to an open case; a monitored
household or a `visit` rule listed until a visit; the household told nothing before a cadre has
visited; and the bulk opening, counted in statements."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy import event, func, select, update

from approvals.assistance import household as household_view
from approvals.assistance import revisits
from approvals.procedure import applications, casefile, fast_track, reexaminations
from approvals.procedure.permissions import Actor
from approvals.record.calendar import LOCAL, local_date
from approvals.record.definitions import Stage
from approvals.record.errors import NotAllowed, Refused
from approvals.record.models import (
    AuditEntry,
    Cadre,
    Case,
    CaseKind,
    CaseRisk,
    CaseStatus,
    Definition,
    Household,
    Member,
    MonitoringStatus,
    Pairing,
    Place,
    ScreeningHit,
    Source,
    Task,
    TaskStatus,
    Verdict,
)
from approvals.screening import engine, evidence, outcomes
from approvals.screening.outcomes import FILED_BY
from bot import progress
from bot.application import cannot_apply
from fangfan.demo import id_number
from notifications import reminders
from notifications.models import OutboxMessage
from notifications.wording import render
from tests.approvals.test_assistance import ANNUAL, reopening
from tests.db import session_scope
from tests.support import hits
from tests.support.world import World
from workflows.advance import advance_chunk, pending_cases

RULES = reminders.Rules(due_soon_working_days=1, escalate_after_working_days=2)


def worker_pass(world: World) -> dict[str, int]:
    """What the worker's advance-pending does: every marked case, in chunks of 50."""
    pending = pending_cases(world.services.database, 100_000)
    done: dict[str, int] = {}
    for start in range(0, len(pending), 50):
        for outcome, n in advance_chunk.fn(pending[start:start + 50], world.runtime).items():
            done[outcome] = done.get(outcome, 0) + n
    return done


def messages_to(recipient: str) -> list[OutboxMessage]:
    with session_scope() as s:
        return list(s.scalars(select(OutboxMessage).where(OutboxMessage.recipient == recipient)
                              .order_by(OutboxMessage.id)))


def bind_head(household_id: int, openid: str) -> None:
    with session_scope() as s:
        s.execute(update(Member).where(Member.household_id == household_id, Member.is_head)
                  .values(openid=openid))


def bind_cadre(cadre_id: int, openid: str) -> None:
    with session_scope() as s:
        s.execute(update(Cadre).where(Cadre.id == cadre_id).values(openid=openid))


def monitored(world: World, household_id: int, helper: Actor) -> None:
    with session_scope() as s:
        s.execute(update(Household).where(Household.id == household_id).values(
            monitoring=MonitoringStatus.MONITORED, category="edge",
            monitored_since=dt.date(2026, 6, 1)))
        s.add(Pairing(household_id=household_id, cadre_id=helper.id,
                      started_on=dt.date(2026, 6, 1)))


def timeline(world: World, case_id: int) -> list[casefile.Event]:
    """The case page's timeline, as the village cadre holding its task reads it."""
    with session_scope() as s:
        village = s.get_one(Case, case_id).village.name
    with session_scope() as s:
        return casefile.load(s, case_id, world.cadre("village_cadre", village),
                             world.clock.now(), world.services.calendar,
                             personal_data_roles=[]).events


def open_cases(household_id: int) -> list[Case]:
    with session_scope() as s:
        return list(s.scalars(select(Case).where(Case.household_id == household_id,
                                                 Case.status == CaseStatus.OPEN)))


def test_a_hit_opens_a_case_with_its_evidence_and_the_pass_opens_verification(
        world: World) -> None:
    household = world.household("东沟村", 2)
    village_cadre = world.cadre("village_cadre", "东沟村")
    applied = hits.apply(world, [hits.medical(household)])
    [case_id] = applied.opened
    assert (applied.added, applied.listed, applied.repeated) == (0, 0, 0)
    now = world.clock.now()
    with session_scope() as s:
        case = s.get_one(Case, case_id)
        assert case.kind == CaseKind.IDENTIFICATION and case.source == Source.SCREENING
        assert case.filed_by == FILED_BY and case.risk_types == ["illness"]
        assert case.status == CaseStatus.OPEN and case.pending_since == now
        definition = world.config.definition(CaseKind.IDENTIFICATION)
        assert case.due_at == world.services.calendar.due(now, definition.procedure.total)
        assert s.get_one(Definition, case.definition_id).digest == definition.digest()
        # the household never applied: its signed 承诺授权书 is collected at the visit
        assert case.consent_pending and case.answers["consent"]["how"] == "photo"
        assert "个人自付合计23,500元" in case.answers["description"]
        assert s.scalars(select(CaseRisk.risk).where(CaseRisk.case_id == case_id)).all() == [
            "illness"]
        actions = s.scalars(select(AuditEntry.action).where(AuditEntry.case_id == case_id)
                            .order_by(AuditEntry.id)).all()
    assert actions == ["case.open.identification", "screening.opened"]
    [hit] = hits.hits_of(household)
    assert (hit.case_id, hit.outcome, hit.level, hit.rule_name) == (
        case_id, "opened", "红", "大额医疗自付")

    assert worker_pass(world) == {"waiting": 1}
    assert [(e.who, e.what) for e in timeline(world, case_id)][:2] == [
        (FILED_BY, "部门筛查预警立案"), ("系统", "进入「入户核实」")]
    task = world.open_task(case_id)
    assert task.stage == Stage.HOME_VERIFICATION and task.role == "village_cadre"
    assert village_cadre.place_path.endswith(f"/{task.place_id}/")  # its village's cadre

    with session_scope() as s:
        [shown] = evidence.of_case(s, case_id)
    assert shown.rule == "medical_out_of_pocket" and shown.outcome_label == "据此立案"
    assert shown.text.startswith("医保数据：2025-11-01至2026-10-31家庭成员个人自付合计")
    assert shown.evidence[0]["values"]["个人自付"] == 23_500.0


def test_two_rules_hitting_one_household_open_one_case(world: World) -> None:
    household = world.household("东沟村", 3)
    applied = hits.apply(world, [hits.medical(household), hits.disability(household),
                                 hits.assistance(household)])
    [case_id] = applied.opened
    assert applied.added == 1  # the `visit` rule's hit goes with the case opened
    assert [c.id for c in open_cases(household)] == [case_id]
    assert world.case(case_id).risk_types == ["illness", "disability"]
    assert [(h.rule, h.outcome, h.case_id) for h in hits.hits_of(household)] == [
        ("medical_out_of_pocket", "opened", case_id),
        ("severe_disability", "opened", case_id),
        ("new_assistance", "added", case_id)]


def test_a_rerun_adds_nothing_even_with_the_same_hit_twice_in_one_call(world: World) -> None:
    household, other = world.household("东沟村", 4), world.household("西坡村", 4)
    first = hits.apply(world, [hits.medical(household), hits.medical(household),
                               hits.assistance(other)])
    assert len(first.opened) == 1 and first.listed == 1 and first.repeated == 1
    with session_scope() as s:
        before = (s.scalar(select(func.count()).select_from(ScreeningHit)),
                  s.scalar(select(func.count()).select_from(Case)),
                  s.scalar(select(func.count()).select_from(AuditEntry)))
    again = hits.apply(world, [hits.medical(household), hits.assistance(other)])
    assert (again.opened, again.added, again.listed, again.repeated) == ([], 0, 0, 2)
    with session_scope() as s:
        assert before == (s.scalar(select(func.count()).select_from(ScreeningHit)),
                          s.scalar(select(func.count()).select_from(Case)),
                          s.scalar(select(func.count()).select_from(AuditEntry)))
    # new data for the same household (another fingerprint) is evidence for its open case
    newer = hits.apply(world, [hits.medical(household, total=31_000.0, salt="2")])
    assert (newer.opened, newer.added) == ([], 1)


def test_an_open_case_gets_the_evidence_and_no_second_case(world: World) -> None:
    household = world.household("西坡村", 1)
    case_id = world.apply(household)  # the farmer applied already
    applied = hits.apply(world, [hits.medical(household), hits.assistance(household)])
    assert (applied.opened, applied.added, applied.listed) == ([], 2, 0)
    assert [c.id for c in open_cases(household)] == [case_id]
    with session_scope() as s:
        shown = evidence.of_case(s, case_id)
    assert [(e.rule, e.outcome_label) for e in shown] == [
        ("medical_out_of_pocket", "补充到在办案件"), ("new_assistance", "补充到在办案件")]
    with session_scope() as s:
        assert s.scalars(select(AuditEntry.action).where(
            AuditEntry.case_id == case_id, AuditEntry.action.startswith("screening."))
        ).all() == ["screening.added", "screening.added"]
    # whoever holds it sees, on the case page's timeline, that evidence came in
    assert [e.what for e in timeline(world, case_id)].count(
        "部门数据比对发现新情况，已补充到本案") == 2


def test_a_monitored_household_is_listed_for_its_cadre_until_a_revisit(world: World) -> None:
    household = world.household("南滩村", 0)
    helper = world.cadre("helper", "南滩村")
    monitored(world, household, helper)
    applied = hits.apply(world, [hits.medical(household)])
    assert (applied.opened, applied.listed) == ([], 1)
    assert open_cases(household) == []
    with session_scope() as s:
        [listed] = evidence.listed(s, household)
        assert listed.level == "红" and "达到20,000元的预警线" in listed.text
        [visit] = [v for v in evidence.to_visit(s) if v.household_id == household]
        assert visit.paired == helper.id and visit.rules == ("大额医疗自付",)
        # 我的结对户: the households with 部门数据提示 first
        assert [(h[0], h[-1]) for h in household_view.paired_with(s, helper)] == [
            (household, True)]

    world.clock.advance(days=1)
    data = {"visited_on": local_date(world.clock.now()).isoformat(), "members": 3,
            "wage": "24000", "business": "0", "property": "0", "transfer": "0",
            "production_costs": "0", "out_of_pocket": "21000", "risk_remains": True,
            "annual": ANNUAL}
    with session_scope() as s:
        revisits.record(s, s.get_one(Household, household), helper, data, photos=[],
                        now=world.clock.now(), reopen=reopening(world))
    [hit] = hits.hits_of(household)
    assert hit.visited_at == world.clock.now()
    with session_scope() as s:
        assert evidence.listed(s, household) == []
        assert household not in {v.household_id for v in evidence.to_visit(s)}
        assert [h[-1] for h in household_view.paired_with(s, helper)] == [False]
        assert s.scalar(select(AuditEntry.action).where(
            AuditEntry.action == "screening.visited")) == "screening.visited"


def test_a_visit_rule_lists_the_household_for_the_village_cadres(world: World) -> None:
    household = world.household("北岭村", 2)
    applied = hits.apply(world, [hits.assistance(household)])
    assert (applied.opened, applied.listed) == ([], 1)
    village_cadre = world.cadre("village_cadre", "北岭村")
    outsider = world.cadre("village_cadre", "东沟村")
    with session_scope() as s:
        [visit] = [v for v in evidence.to_visit(s) if v.household_id == household]
        assert visit.paired is None and visit.level == "黄"  # no pairing: the village's cadres
        with pytest.raises(Refused, match="走访了解的情况"):
            revisits.looked_at(s, s.get_one(Household, household), village_cadre, " ",
                               world.clock.now())
        with pytest.raises(NotAllowed):
            revisits.looked_at(s, s.get_one(Household, household), outsider, "已走访",
                               world.clock.now())
    with session_scope() as s:
        assert revisits.looked_at(s, s.get_one(Household, household), village_cadre,
                                  "已走访，临时救助已到位，生活无困难。", world.clock.now()) == 1
    with session_scope() as s:
        assert evidence.listed(s, household) == []


def test_the_household_hears_nothing_until_its_verification_is_decided(world: World) -> None:
    household = world.household("东沟村", 5)
    bind_head(household, "o_screened")
    village_cadre = world.cadre("village_cadre", "东沟村")
    bind_cadre(village_cadre.id, "o_cadre_dg")
    [case_id] = hits.apply(world, [hits.medical(household)]).opened
    worker_pass(world)
    world.advance(case_id)  # a pass again: still nothing for the household
    assert messages_to("o_screened") == []
    [told] = messages_to(f"cadre:{village_cadre.id}")  # the cadre IS told
    text = render(told.event, told.params).text
    assert told.event == "task_new" and "入户核实" in text and "部门筛查预警" in text
    with session_scope() as s:  # nor in the chat: 进度, 确认授权, a second application
        assert progress.cases_of(s, "o_screened") == []
        assert applications.confirm_in_chat(s, "o_screened", world.clock.now()) is None
    with session_scope() as s:
        said = cannot_apply(s, s.get_one(Household, household), "o_screened")
        assert said is not None and "编号" not in said and "部门" not in said
        with pytest.raises(Refused, match="没有找到您家的申请记录"):  # 申请复核 in the chat
            reexaminations.request_from_chat(s, "o_screened", "不服", now=world.clock.now(),
                                             calendar=world.services.calendar,
                                             rules=world.config.reexamination)

    # the cadre visits: the signed 承诺授权书 photographed, the verification approved
    with pytest.raises(Refused, match="承诺授权"):  # not before the form is there
        world.decides(case_id, village_cadre)
    with session_scope() as s:
        applications.consent_by_photo(s, case_id, village_cadre, ["consent.jpg"],
                                      world.clock.now())
    world.decides(case_id, village_cadre)
    [passed] = messages_to("o_screened")
    assert passed.event == "stage_passed" and passed.params["passed"] == "入户核实"
    with session_scope() as s:
        assert [c.id for c in progress.cases_of(s, "o_screened")] == [case_id]


def test_a_rejection_at_the_visit_is_told_as_any_applicant_hears_it(world: World) -> None:
    household = world.household("西坡村", 6)
    bind_head(household, "o_rejected")
    [case_id] = hits.apply(world, [hits.disability(household)]).opened
    worker_pass(world)
    village_cadre = world.cadre("village_cadre", "西坡村")
    world.decides(case_id, village_cadre, Verdict.REJECTED, reason="残疾证为旧证换发，家庭收入稳定")
    [told] = messages_to("o_rejected")
    assert told.event == "case_rejected" and "收入稳定" in render(told.event, told.params).text


def test_two_hundred_households_open_in_a_handful_of_statements(world: World) -> None:
    """Bulk: the statements applying hits do not grow with the households (the benchmark
    times 10,000); the worker's pass then opens 入户核实 for each."""
    with session_scope() as s:
        village = s.scalar(select(Place).where(Place.name == "南滩村"))
        assert village is not None
        for n in range(200):
            born = dt.date(1960 + n % 30, 1 + n % 12, 1 + n % 28)
            s.add(Household(village_id=village.id, members=[Member(
                name=f"测试{n:03d}", id_number=id_number(5000 + n, born, male=True),
                relation="户主", is_head=True)]))
        s.flush()
        ids = s.scalars(select(Household.id).where(Household.village_id == village.id)
                        .order_by(Household.id.desc()).limit(200)).all()
    made = [hits.medical(h) for h in ids] + [hits.disability(h) for h in ids[:50]]
    statements: list[str] = []
    engine = world.services.database.engine

    def count(conn: object, cursor: object, statement: str, *args: object) -> None:
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        applied = hits.apply(world, made)
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert len(applied.opened) == 200 and applied.added == 0
    writes = [st for st in statements if st.lstrip().upper().startswith(("INSERT", "UPDATE"))]
    assert len(writes) <= 12, writes  # cases, risks, hits, audit, the run: a few pages each
    assert worker_pass(world) == {"waiting": 200}
    with session_scope() as s:
        assert s.scalar(select(func.count()).select_from(Task).where(
            Task.case_id.in_(applied.opened), Task.stage == Stage.HOME_VERIFICATION,
            Task.status == TaskStatus.OPEN)) == 200
        assert s.scalar(select(func.count()).select_from(CaseRisk).where(
            CaseRisk.case_id.in_(applied.opened))) == 250


def test_the_daily_digest_names_the_households_to_visit(world: World) -> None:
    paired, unpaired = world.household("南滩村", 1), world.household("南滩村", 2)
    helper, village_cadre = world.cadre("helper", "南滩村"), world.cadre("village_cadre", "南滩村")
    monitored(world, paired, helper)
    bind_cadre(helper.id, "o_helper")
    bind_cadre(village_cadre.id, "o_village")
    hits.apply(world, [hits.medical(paired), hits.assistance(unpaired)])

    def screening_items(cadre: Actor, day: dt.date) -> list[dict[str, object]]:
        world.clock.current = dt.datetime.combine(day, dt.time(17, 0), LOCAL)
        with session_scope() as s:
            reminders.sweep(s, world.clock.now(), world.services.calendar, RULES)
            digest = s.scalar(select(OutboxMessage).where(
                OutboxMessage.key == f"digest:{cadre.id}:{day.isoformat()}"))
        if digest is None:
            return []
        text = render(digest.event, digest.params, "https://ff.example.cn").text
        found = [i for i in digest.params["items"] if i["kind"] == "screening"]
        if found:
            assert f"部门数据提示需走访{len(found)}户" in text
            for item in found:
                assert f"https://ff.example.cn/h/{item['household_id']}" in text
        return found

    monday = dt.date(2026, 11, 2)  # the run's day
    [to_helper] = screening_items(helper, monday)
    assert (to_helper["household_id"], to_helper["level"], to_helper["rules"]) == (
        paired, "红", "大额医疗自付")
    [to_village] = screening_items(village_cadre, monday)  # no pairing: the village's cadre
    assert to_village["household_id"] == unpaired
    assert "【部门预警·黄】南滩村" in render("cadre_digest", {"name": "x", "items": [to_village]}
                                          ).text
    assert screening_items(village_cadre, dt.date(2026, 11, 3)) == []  # every 5 working days
    with session_scope() as s:
        revisits.looked_at(s, s.get_one(Household, paired), helper, "已走访，住院费用已报销。",
                           world.clock.now())
    assert screening_items(helper, dt.date(2026, 11, 9)) == []  # visited: off the list
    assert [i["household_id"] for i in screening_items(village_cadre, dt.date(2026, 11, 9))
            ] == [unpaired]


def test_the_engines_hits_from_files_open_a_case_once_however_often_run(
        world: World, tmp_path: Path) -> None:
    """Not hand-made: two departments' files read and screened by the engine against the
    record's roster, applied, then the same files again (a rerun opens and adds nothing)."""
    ill, helped = world.household("东沟村", 6), world.household("西坡村", 7)
    with session_scope() as s:
        [sick] = s.execute(select(Member.name, Member.id_number).where(
            Member.household_id == ill, Member.is_head)).all()
        [poor] = s.execute(select(Member.name, Member.id_number).where(
            Member.household_id == helped, Member.is_head)).all()
    (tmp_path / "医保.csv").write_text(
        "姓名,身份证号,结算日期,医疗总费用,医保报销,个人自付\n"
        f"{sick.name},{sick.id_number},2026-03-01,30000,18000,12000\n"
        f"{sick.name},{sick.id_number},2026/9/2,20000,11000,9000\n", encoding="utf-8")
    (tmp_path / "civil.csv").write_text(
        "姓名,身份证号,救助类型,变化,变化日期\n"
        f"{poor.name},{poor.id_number},低保,新增,2026-09-15\n", encoding="gbk")

    def run() -> outcomes.Applied:
        feeds = engine.read(tmp_path, {}, max_rows=1000, max_bytes=2**20)
        assert set(feeds.loaded) == {"medical", "civil"}  # the other four: not sent
        screened = engine.screen(feeds.loaded, engine.roster(
            world.services.database.engine.url, "all"), world.config.screening.rules,
            hits.AS_OF)
        return hits.apply(world, screened.hits)

    first = run()
    assert (len(first.opened), first.listed, first.repeated) == (1, 1, 0)
    [case] = open_cases(ill)
    assert case.id == first.opened[0] and case.risk_types == ["illness"]
    with session_scope() as s:
        [shown] = evidence.of_case(s, case.id)
        assert shown.text == ("医保数据：2025-11-01至2026-10-31家庭成员个人自付合计21,000元"
                              "（2条记录），达到20,000元的预警线。")
        assert [e["row"] for e in shown.evidence] == [2, 3]
        [listed] = evidence.listed(s, helped)
        assert listed.text.startswith("民政数据：") and listed.level == "黄"
    again = run()
    assert (again.opened, again.added, again.listed, again.repeated) == ([], 0, 0, 2)


def test_fast_track_before_the_visit_is_told_to_the_township_and_later_the_household(
        world: World) -> None:
    """先帮扶后认定 marked on a screening case before its verification is decided: the
    township hears at once, the household once the verification is decided."""
    household = world.household("东沟村", 7)
    bind_head(household, "o_fast")
    auditor = world.cadre("township_auditor")
    bind_cadre(auditor.id, "o_auditor")
    village_cadre = world.cadre("village_cadre", "东沟村")
    [case_id] = hits.apply(world, [hits.medical(household)]).opened
    worker_pass(world)
    with session_scope() as s:
        fast_track.mark(s, case_id, village_cadre, cause=fast_track.OTHER,
                        facts="户主突发重病住院，家中无其他收入", public_agrees=True,
                        measure_kind="综合保障", measure_description="发放临时救助金3000元",
                        fast_track_risks=world.config.fast_track_risks,
                        risk_labels=world.config.risk_types,
                        measure_types=world.config.measure_types, now=world.clock.now())
    worker_pass(world)
    assert [m.event for m in messages_to(f"cadre:{auditor.id}")] == [
        "case_fast_tracked_township"]
    assert messages_to("o_fast") == []
    with session_scope() as s:
        applications.consent_by_photo(s, case_id, village_cadre, ["consent.jpg"],
                                      world.clock.now())
    world.decides(case_id, village_cadre)
    assert sorted(m.event for m in messages_to("o_fast")) == ["case_fast_tracked",
                                                              "stage_passed"]
    assert len(messages_to(f"cadre:{auditor.id}")) == 1  # told once
