"""`fangfan demo`: the demo county, its cadres and households, and cases at every stage.

Idempotent: a database that already has the county is left as it is. The cases are driven
through the same services and procedures as real ones, on a clock that starts weeks ago,
so their histories, deadlines and overdue tasks are real.
"""

from __future__ import annotations

import datetime as dt
import shutil
import struct
import zlib
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session
from stdnum.cn import ric

from approvals.procedure import cases, decisions, elimination, notices, objections
from approvals.procedure import stages as stage_modules
from approvals.procedure.permissions import Actor
from approvals.record import photos
from approvals.record.calendar import FixedClock, local_date
from approvals.record.definitions import Level, Stage
from approvals.record.models import (
    Cadre,
    Case,
    CaseKind,
    Household,
    IncomeRecord,
    Labour,
    Measure,
    Member,
    MonitoringStatus,
    Pairing,
    Place,
    Revisit,
    Source,
    Task,
    TaskStatus,
    Verdict,
)
from approvals.screening import runs as screening_runs
from fangfan.services import Services
from fangfan.settings import ROOT
from workflows import screening
from workflows.advance import advance_case
from workflows.runtime import Runtime

# 部门筛查预警's example files (docs/screening.md): six departments' records of the demo's
# people, dated up to this day
EXAMPLE_FEEDS = ROOT / "docs" / "examples" / "feeds"
FEEDS_AS_OF = dt.date(2026, 11, 30)
SURNAMES = "王李张刘陈杨赵黄周吴徐孙马朱胡郭何高林罗"
GIVEN = {True: ["建国", "国强", "志明", "德福", "永红", "金山", "宝林", "长春", "占军", "福来"],
         False: ["桂兰", "春花", "秀英", "玉梅", "海燕", "凤英", "丽娟", "淑珍", "红梅", "秋菊"]}
def id_number(seq: int, birth: dt.date, male: bool) -> str:
    body = f"522631{birth:%Y%m%d}{seq % 100:02d}{(seq % 5) * 2 + (1 if male else 0)}"
    return body + ric.calc_check_digit(body + "0")


@dataclass
class Demo:
    services: Services
    clock: FixedClock

    def at(self, days_ago: float) -> dt.datetime:
        self.clock.current = self.real_now - dt.timedelta(days=days_ago)
        return self.clock.current

    @property
    def real_now(self) -> dt.datetime:
        return self.services.clock.now()

    def apply(self, household_id: int, days_ago: float, **kw) -> int:
        config = self.services.config
        with self.services.database.session_scope() as s:
            hh = s.get_one(Household, household_id)
            case = cases.open_identification(
                s, hh, definition=config.definition(CaseKind.IDENTIFICATION),
                calendar=self.services.calendar, now=self.at(days_ago),
                filed_by=kw.pop("filed_by", "farmer:wechat"),
                source=kw.pop("source", Source.WECHAT),
                fast_track_risks=frozenset(config.fast_track_risks), **kw)
            case_id = case.id
        self.advance(case_id)
        return case_id

    def advance(self, case_id: int) -> None:
        with self.services.database.session_scope() as s:
            kind = s.get_one(Case, case_id).kind
        advance_case.fn(case_id, kind, Runtime(self.clock, self.services.calendar,
                                               self.services.database))

    def decide(self, case_id: int, days_ago: float, verdict: Verdict = Verdict.APPROVED,
               **kw) -> None:
        with self.services.database.session_scope() as s:
            task = s.scalars(select(Task).where(Task.case_id == case_id,
                                                Task.status == TaskStatus.OPEN)).one()
            actor = self.actor_for(s, task)
            data = kw.pop("data", None)
            if data is None and verdict == Verdict.APPROVED:
                data = self.form(s, task)
            decisions.decide(s, task.id, actor, verdict, now=self.at(days_ago), data=data, **kw)
        self.advance(case_id)

    def through(self, case_id: int, stages: int, start_days_ago: float, step: float = 1.5) -> None:
        """Approve the next `stages` stages, one every `step` days from `start_days_ago`."""
        days = start_days_ago
        for _ in range(stages):
            with self.services.database.session_scope() as s:
                stage = s.get_one(Case, case_id).stage
            if stage == Stage.PUBLIC_NOTICE:
                # posted the day the stage opened: the period starts from the posting
                self.post_notice(case_id, days + step)
                days -= 6  # the notice runs its period, then the worker passes it
                self.at(days)
                self.advance(case_id)
            else:
                self.decide(case_id, days)
            days -= step

    def post_notice(self, case_id: int, days_ago: float) -> None:
        """The village records the notice on the board, with a photo (a plain grey one)."""
        now = self.at(days_ago)
        with self.services.database.session_scope() as s:
            task = s.scalars(select(Task).where(Task.case_id == case_id,
                                                Task.status == TaskStatus.OPEN)).one()
            if notices.posted(task.data):  # a longer period still running: posted once
                return
            upload = photos.Upload.of([_grey_png()])
            upload.store(self.services.media_dir, case_id)
            notices.post_notice(s, task.id, self.actor_for(s, task), posted_on=local_date(now),
                                where="村委会公示栏", photos=upload.names, now=now,
                                calendar=self.services.calendar)

    def actor_for(self, s: Session, task: Task) -> Actor:
        return Actor.load(s, s.scalars(select(Cadre.id).where(
            Cadre.role == task.role, Cadre.place_id == task.place_id).limit(1)).one())

    def form(self, s: Session, task: Task) -> dict | None:
        """The stage's form as the demo fills it in (its module's `demo_form`)."""
        return stage_modules.of(task.stage).demo_form(s, s.get_one(Case, task.case_id),
                                                      local_date(self.clock.current))


def _grey_png(size: int = 64) -> bytes:
    """A plain grey PNG, the demo's stand-in for a photo of the notice board."""
    def chunk(kind: bytes, body: bytes) -> bytes:
        return (struct.pack(">I", len(body)) + kind + body
                + struct.pack(">I", zlib.crc32(kind + body)))
    rows = b"".join(b"\x00" + b"\xc8" * size for _ in range(size))
    header = struct.pack(">IIBBBBB", size, size, 8, 0, 0, 0, 0)  # 8-bit greyscale
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
            + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))


def load(services: Services) -> bool:
    """Load the demo; False when it was already there."""
    config = services.config
    with services.database.session_scope() as s:
        if s.scalar(select(Place.id).where(Place.name == config.places.name,
                                           Place.level == Level.COUNTY)):
            return False
        households = roster(s, services)
        for cadre in s.scalars(select(Cadre)):  # the demo's cadres "follow" the account,
            cadre.openid = f"o_demo_cadre_{cadre.id}"  # so /dev/messages shows their reminders
    _cases(Demo(services, FixedClock(services.clock.now())), households)
    screening_round(services)
    return True


def screening_round(services: Services) -> int | None:
    """The example department files dropped into the inbox folder, as the departments do for a
    round (集中排查), and one run over them, finished: its cases open at 入户核实, its visits
    listed, the county desk's page shows it. The run over the same files again, from the desk
    or Prefect's UI, opens nothing twice."""
    if not EXAMPLE_FEEDS.is_dir():  # installed without the docs: no example files
        return None
    inbox = services.settings.screening_dir / "inbox"
    inbox.mkdir(parents=True, exist_ok=True)
    for path in sorted(EXAMPLE_FEEDS.iterdir()):
        shutil.copyfile(path, inbox / path.name)
    with services.database.session_scope() as s:
        run_id = screening_runs.queue(s, as_of=FEEDS_AS_OF, scope="all", trigger="演示数据",
                                      started_by="demo", feeds_dir=inbox,
                                      now=services.clock.now())
    with screening.given(services.screening_setup()):  # no Prefect: the demo loads first
        screening.screening.fn(folder=str(inbox), as_of=FEEDS_AS_OF.isoformat(), scope="all",
                               run_id=run_id)
    return run_id


def roster(s: Session, services: Services) -> list[int]:
    config = services.config
    county = Place(name=config.places.name, level=Level.COUNTY)
    s.add(county)
    s.flush()
    county.path = f"/{county.id}/"
    s.add_all([Cadre(name="赵审定", role="county_approver", place=county, phone="13900000001",
                     unit="县乡村振兴局"),
               Cadre(name="钱督导", role="supervisor", place=county, phone="13900000002",
                     unit="县乡村振兴局")])
    households, seq = [], 0
    for ti, t in enumerate(config.places.townships):
        township = Place(name=t.name, level=Level.TOWNSHIP, parent=county)
        s.add(township)
        s.flush()
        township.path = f"{county.path}{township.id}/"
        s.add(Cadre(name=f"{SURNAMES[ti]}审核", role="township_auditor", place=township,
                    phone=f"1390000010{ti}", unit=f"{t.name}人民政府"))
        for vi, name in enumerate(t.villages):
            village = Place(name=name, level=Level.VILLAGE, parent=township)
            s.add(village)
            s.flush()
            village.path = f"{township.path}{village.id}/"
            k = ti * 10 + vi
            s.add_all([
                Cadre(name=f"{SURNAMES[k + 3]}书记", role="village_cadre", place=village,
                      phone=f"1390000{k:02d}11", unit=f"{name}村委会"),
                Cadre(name=f"{SURNAMES[k + 5]}帮扶", role="helper", place=village,
                      phone=f"1390000{k:02d}12", unit="县农业农村局"),
                Cadre(name=f"{SURNAMES[k + 7]}联络", role="helper", place=village,
                      phone=f"1390000{k:02d}13", unit="县教育局")])
            for h in range(11):
                seq += 1
                hh = Household(village=village, group_name=f"{h % 4 + 1}组",
                               formerly_poor=seq % 5 == 3)  # 脱贫户: one in five
                size = 2 + seq % 3
                head_born = 1958 + (seq * 7) % 28
                for m in range(size):  # 户主, 配偶 (her own surname), 子女 (his)
                    head, spouse = m == 0, m == 1
                    # in the oldest households of four the youngest is a grandchild of school
                    # age (留守儿童), whom the screening's dropout rule can find
                    grandchild = m == 3 and head_born <= 1966
                    year = (head_born if head else head_born + seq % 5 - 2 if spouse
                            else 2011 + seq % 6 if grandchild
                            else head_born + 22 + (seq + m * 3) % 9)
                    birth = dt.date(year, 1 + (seq + m * 5) % 12, 1 + (seq * 3 + m * 7) % 28)
                    surname = SURNAMES[(seq + (7 if spouse else 0)) % 20]
                    male = head or (not spouse and (seq + m) % 2 == 0)
                    hh.members.append(Member(
                        name=surname + GIVEN[male][(seq + m * 3) % 10],
                        id_number=id_number(seq * 7 + m, birth, male=male),
                        phone=f"138{seq:04d}{m:04d}" if head else None,
                        relation="户主" if head else "配偶" if spouse else
                        "孙子女" if grandchild else "子女",
                        is_head=head, labour=Labour.NONE if seq % 9 == 0 or grandchild else
                        Labour.PARTIAL if m == 1 and seq % 4 == 0 else Labour.FULL))
                s.add(hh)
                s.flush()
                households.append(hh.id)
    return households


def _cases(demo: Demo, hh: list[int]) -> None:
    ill = {"risk_types": ["illness"], "category": "sudden", "income_12m": Decimal("18000"),
           "answers": {"description": "家人住院，医疗费用支出大。"}}
    # at 入户核实: fresh ones, and two overdue
    for i, days in enumerate([0.2, 0.5, 1, 12, 9]):
        demo.apply(hh[i], days, **ill)
    # further along: each approved stage by stage up to the one it waits in
    stages_passed = [1, 1, 1, 1, 2, 2, 2, 3, 3, 3, 4, 4, 4, 5, 5, 5, 1, 2]
    for i, stages in zip(range(5, 23), stages_passed, strict=True):
        case = demo.apply(hh[i], 14, **ill)
        demo.through(case, stages, 13)
    # an objection during 公示, still open
    case = demo.apply(hh[23], 6, **ill)
    demo.through(case, 2, 5, step=1)
    with demo.services.database.session_scope() as s:
        actor = Actor.load(s, s.scalars(select(Cadre.id).where(
            Cadre.role == "village_cadre", Cadre.place_id == s.get_one(Case, case).village_id)
            .limit(1)).one())
        objections.raise_objection(s, case, actor, raised_by="本组村民",
                                   content="反映该户有一辆新购货车，收入情况需再核实。",
                                   now=demo.at(1))
    # returned by the township to 入户核实
    case = demo.apply(hh[24], 12, **ill)
    demo.through(case, 3, 11)
    demo.decide(case, 1, Verdict.RETURNED, return_to=Stage.HOME_VERIFICATION,
                reason="入户核实未附医疗费用票据，请补充后重新核实。")
    # rejected by the county
    case = demo.apply(hh[25], 20, risk_types=["employment"], category="marginal",
                      income_12m=Decimal("96000"), answers={"description": "打工收入不稳定。"})
    demo.through(case, 4, 19)
    demo.decide(case, 2, Verdict.REJECTED,
                reason="经比对，家庭人均纯收入明显高于监测范围，且无大额刚性支出。")
    # enrolled households, one of them long enough ago to be eliminated
    enrolled = []
    for i in (30, 31, 32):
        case = demo.apply(hh[i], 260, **ill)
        demo.through(case, 5, 259)
        enrolled.append(i)
    # fast track: a fire, assistance first
    demo.apply(hh[29], 1, risk_types=["disaster"], category="sudden", income_12m=Decimal("12000"),
               answers={"description": "房屋失火，家中财物损毁。"}, source=Source.CADRE_VISIT,
               filed_by="cadre:demo",
               assistance=[{"kind": "综合保障", "description": "临时救助 3000 元"}])
    _eliminate(demo, [hh[i] for i in enrolled])


def _eliminate(demo: Demo, households: list[int]) -> None:
    """One household eliminated, one on its way; both with the evidence the rules ask for."""
    config = demo.services.config
    for hh_id in households[:2]:
        with demo.services.database.session_scope() as s:
            today = local_date(demo.at(20))
            s.execute(Measure.__table__.update().where(Measure.household_id == hh_id)
                      .values(done_on=today - dt.timedelta(days=150)))
            helper = s.scalar(select(Pairing.cadre_id).where(Pairing.household_id == hh_id))
            members = len(s.get_one(Household, hh_id).members)
            # revisits over more than six months, the latest finding 两不愁三保障 secure
            for days_ago, income in ((220, "9800"), (120, "10100"), (20, "10400")):
                on = today - dt.timedelta(days=days_ago)
                net = Decimal(income)
                visit = Revisit(household_id=hh_id, cadre_id=helper, visited_on=on,
                                members=members, wage=net * members, business=Decimal(0),
                                property=Decimal(0), transfer=Decimal(0),
                                production_costs=Decimal(0), out_of_pocket=Decimal(800),
                                per_capita_net=net, risk_remains=False, annual={
                                    "social_security": "全员参加医保和养老保险",
                                    "schooling": "无失学辍学", "employment": "一人在县城务工",
                                    "housing": "住房安全", "water": "饮水安全",
                                    "policies": "医疗救助、公益性岗位"} if days_ago == 220 else {},
                                secure=dict.fromkeys(elimination.SECURITY, True)
                                if days_ago == 20 else {},
                                notes="", photos=[], recorded_at=demo.at(20))
                s.add(visit)
                s.flush()
                s.add(IncomeRecord(household_id=hh_id, per_capita_net=net, recorded_on=on,
                                   revisit_id=visit.id))
    for hh_id, stages in zip(households[:2], (5, 2), strict=True):
        with demo.services.database.session_scope() as s:
            household = s.get_one(Household, hh_id)
            actor = Actor.load(s, s.scalars(select(Cadre.id).where(
                Cadre.role == "village_cadre", Cadre.place_id == household.village_id)).one())
            case = elimination.propose(
                s, household, actor, rules=config.elimination_rules(),
                definition=config.definition(CaseKind.RISK_ELIMINATION),
                calendar=demo.services.calendar, now=demo.at(20)).id
        demo.advance(case)
        demo.through(case, stages, 19, step=2)
    with demo.services.database.session_scope() as s:
        assert s.get_one(Household, households[0]).monitoring == MonitoringStatus.ELIMINATED
        assert s.scalar(select(Pairing.id).where(Pairing.household_id == households[0]))
