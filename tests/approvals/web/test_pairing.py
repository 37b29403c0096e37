"""The county's enrolment names the household's 帮扶联系人: from outside over real HTTP, a
nonexistent id, a supervisor, a cadre of another township or one who has left gets the form
again with a Chinese error and decides nothing; the batch approval is refused the same way
(the check is in `decisions.decide`, behind every door)."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest
import requests
from sqlalchemy import event, select, update
from werkzeug.datastructures import MultiDict

from approvals.procedure import batch, decisions
from approvals.record.definitions import Stage
from approvals.record.errors import Refused
from approvals.record.models import Cadre, Pairing, Place, TaskStatus, Verdict
from fangfan.services import Services
from tests.db import session_scope
from tests.support.web import cadre_id
from tests.support.world import World

pytestmark = pytest.mark.slow
PAIRABLE = "帮扶联系人、村干部/驻村工作队、乡镇帮扶干部、县直帮扶干部"  # config.yaml `pairable`


def token(page: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]


def cadre_of(role: str, place: str) -> int:
    with session_scope() as s:
        return s.scalars(select(Cadre.id).join(Place).where(Cadre.role == role,
                                                            Place.name == place)).first()


def at_county(world: World) -> tuple[int, int]:
    case_id = world.apply(world.household("东沟村"))
    world.approve_through(case_id, Stage.COUNTY_APPROVAL)
    return case_id, world.open_task(case_id).id


def test_the_paired_cadre_must_be_a_pairable_cadre_of_the_households_jurisdiction(
        world: World, site: str) -> None:
    case_id, task_id = at_county(world)
    gone = cadre_of("helper", "东沟村")
    with session_scope() as s:
        s.execute(update(Cadre).where(Cadre.id == gone).values(active=False))
    http = requests.Session()
    page = http.get(f"{site}/login", timeout=10).text
    http.post(f"{site}/login/dev", data={"csrf_token": token(page),
                                         "cadre_id": cadre_id("赵审定")}, timeout=10)
    form = token(http.get(f"{site}/c/{case_id}", timeout=10).text)

    def approve(paired: object) -> requests.Response:
        return http.post(f"{site}/t/{task_id}/decide", data={
            "csrf_token": form, "verdict": "approved", "comparison": "与医保数据比对一致",
            "category": "sudden", "paired_cadre_id": paired, "measure_kind": "健康",
            "measure_planned_on": "2026-11-30"}, allow_redirects=False, timeout=10)

    refused = {
        99_999_999: "没有找到这位在岗人员",
        gone: "没有找到这位在岗人员",
        cadre_id("钱督导"): f"应为{PAIRABLE}",  # a supervisor
        cadre_of("township_auditor", "青山镇"): f"应为{PAIRABLE}",
        cadre_of("helper", "南滩村"): "不在该户所在辖区",  # another township's helper
        cadre_of("village_cadre", "西坡村"): "不在该户所在辖区",  # the next village's
    }
    for paired, error in refused.items():
        res = approve(paired)
        assert res.status_code == 400, paired
        assert f"「帮扶联系人」{error}" in res.text
        assert 'id="decide"' in res.text  # the form again, answers kept
        assert world.open_task(case_id).id == task_id  # nothing decided

    helper = _active_helper("东沟村")
    done = approve(helper)
    assert done.status_code == 302 and urlsplit(done.headers["Location"]).path == "/inbox"
    world.advance(case_id)
    with session_scope() as s:
        assert s.scalars(select(Pairing.cadre_id).where(
            Pairing.household_id == world.case(case_id).household_id,
            Pairing.ended_on.is_(None))).all() == [helper]


def _active_helper(village: str) -> int:
    with session_scope() as s:
        return s.scalars(select(Cadre.id).join(Place).where(
            Cadre.role == "helper", Cadre.active, Place.name == village)).first()


def test_the_batch_approval_does_not_pair_with_a_cadre_who_has_left(world: World) -> None:
    """A batch enrolment chosen with a cadre who has left (still the household's pairing)
    is refused, as a single approval is."""
    case_id, task_id = at_county(world)
    with session_scope() as s:
        household = world.case(case_id).household_id
        gone = _active_helper("东沟村")
        s.execute(update(Pairing).where(Pairing.household_id == household)
                  .values(ended_on=world.clock.now().date()))
        s.add(Pairing(household_id=household, cadre_id=gone, started_on=world.clock.now().date()))
        s.execute(update(Cadre).where(Cadre.id == gone).values(active=False))
    county = world.cadre("county_approver")
    with session_scope() as s, pytest.raises(Refused, match="没有找到这位在岗人员"):
        batch.approve_one(s, task_id, county, opinion="与部门数据比对一致",
                          now=world.clock.now(), posted=MultiDict([
                              (f"category-{task_id}", "sudden"),
                              (f"paired_cadre_id-{task_id}", str(gone)),
                              (f"measure_kind-{task_id}", "健康"),
                              (f"measure_description-{task_id}", ""),
                              (f"measure_planned_on-{task_id}", "2026-11-09")]))
    assert world.open_task(case_id).status == TaskStatus.OPEN


def test_the_check_costs_the_decision_no_statement(world: World, services: Services) -> None:
    """The pairing is a guard of the decision's own write: a county enrolment is as many
    statements as the township's audit, as the phone page's POST runs them."""
    def statements(stage: Stage, household: int) -> int:
        case_id = world.apply(world.household("西坡村", household))
        world.approve_through(case_id, stage)
        task_id = world.open_task(case_id).id
        form = world.form(case_id, stage)
        seen: list[str] = []

        def count(*args: object) -> None:
            seen.append(str(args[2]))

        # on the POST's own connection (PostgreSQL's is the autocommit twin's, not the engine's)
        with services.database.connection_scope() as conn:  # as the POST runs
            actor, task = decisions.signed_in_at(conn, world.approver(case_id).id,
                                                 world.clock.now().date(), task_id, 0)
            assert actor is not None and task is not None
            event.listen(conn, "before_cursor_execute", count)
            decisions.decide(conn, task, actor, Verdict.APPROVED, now=world.clock.now(),
                             data=form)
        assert seen  # counted
        return len(seen)

    # and one read: the household's 脱贫户 flag and the verification's proposed category,
    # which the enrolment records beside its own (approvals/procedure/stages/county_approval.py)
    assert statements(Stage.COUNTY_APPROVAL, 0) == statements(Stage.TOWNSHIP_AUDIT, 1) + 1
