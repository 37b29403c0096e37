"""复核 on the case page: a village cadre files it for the applicant, the township sees it in
the inbox and decides it there; nobody else may."""

from __future__ import annotations

from flask import Flask
from sqlalchemy import select

from approvals.record.definitions import Stage
from approvals.record.models import CaseStatus, Reexamination, Verdict
from tests.db import session_scope
from tests.support.web import Desk, cadre_id
from tests.support.world import World


def test_a_cadre_files_a_reexamination_and_the_township_decides_it(
        app: Flask, world: World) -> None:
    case_id = world.apply(world.household("东沟村"))
    world.approve_through(case_id, Stage.TOWNSHIP_AUDIT)
    world.decides(case_id, world.approver(case_id), Verdict.REJECTED, reason="材料不实")
    village = Desk(app.test_client()).signs_in(cadre_id("刘书记"))
    assert "代申请人申请复核" in village.get(f"/c/{case_id}").text
    res = village.post(f"/c/{case_id}/reexaminations", grounds="")
    assert res.status_code == 400 and "请写明申请人不服的理由" in res.text
    res = village.post(f"/c/{case_id}/reexaminations", grounds="住院票据漏报")
    page = village.get(res.headers["Location"]).text
    assert "已提交复核申请" in page and "申请复核：住院票据漏报" in page
    assert "提交复核结果" not in page  # the village files it; the township decides
    with session_scope() as s:
        review = s.scalars(select(Reexamination.id)).one()
    assert village.post(f"/reexaminations/{review}", result="upheld",
                        review_reason="x").status_code == 403

    township = Desk(app.test_client()).signs_in(cadre_id("王审核"))
    inbox = township.get("/inbox").text
    assert "待复核" in inbox and f'href="/c/{case_id}#reexamination"' in inbox
    res = township.post(f"/reexaminations/{review}", result="revoked", review_reason="")
    assert res.status_code == 400 and "请写明复核理由" in res.text
    res = township.post(f"/reexaminations/{review}", result="revoked",
                        review_reason="票据显示自付费用较大")
    page = township.get(res.headers["Location"]).text
    assert "复核结果已提交：撤销原结论并重新办理" in page
    assert "复核：撤销原结论并重新办理" in page and "票据显示自付费用较大" in page
    assert world.case(case_id).status == CaseStatus.OPEN
    world.advance(case_id)
    assert world.stage(case_id) == Stage.HOME_VERIFICATION
    assert "待复核" not in township.get("/inbox").text
