"""README's demo walk, replayed as a new user takes it: the demo county loaded, the app served
on 127.0.0.1 with the demo's clock, a farmer applying in the chat simulator (signed messages
to the real webhook), the cadres deciding on the phone pages in Chromium, the clock moved by
the command line and the simulator's button, the worker's jobs advancing the case and
delivering the messages, until the chat says 纳入监测 and the case page says it is closed.

The walk also forgets to post the 公示 once and moves the clock past its deadline: the case
must still wait at 公示, since a notice period starts only when the posting is recorded."""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from fangfan import demo as demo_data
from fangfan import worker
from fangfan.app import create_app
from fangfan.dev_clock import ShiftedClock
from fangfan.services import Services
from tests.support.cli import fangfan
from tests.support.phone import open_case, sign_in
from tests.support.web import board, serve_app, shot
from tests.support.world import START

pytestmark = pytest.mark.slow

PHONE = {"viewport": {"width": 390, "height": 844}, "locale": "zh-CN",
         "timezone_id": "Asia/Shanghai"}
WAIT = 20_000  # ms: the simulator asks for pushed messages every 3 seconds


@pytest.fixture
def demo_site(services: Services, tmp_path: Path) -> Iterator[tuple[Services, str, Path]]:
    """`make run` in one process: the demo loaded, the app served with the demo's clock (the
    test's, moved by the offset the command line and the button share), the WeChat API the
    dispatcher calls being the simulator's stand-in, as config.yaml's demo has it."""
    offset = tmp_path / "dev-clock"
    site_services = dataclasses.replace(services, clock=ShiftedClock(services.clock, offset))
    assert demo_data.load(site_services)
    for url in serve_app(create_app(site_services)):
        wechat = site_services.config.wechat.model_copy(
            update={"api_base_url": f"{url}/dev/wechat/api"})
        site_services.config = site_services.config.model_copy(update={"wechat": wechat})
        site_services._cache.clear()
        yield site_services, url, offset


def worker_passes(svc: Services) -> None:
    """What `fangfan worker` does in the seconds after a click: its jobs, as it runs them."""
    for job in ("advance", "reconcile", "outbox"):
        worker.run(svc, job)


def choose(page: Any, verdict: str) -> None:
    page.get_by_role("group", name="办理结果").get_by_text(verdict, exact=True).click()


@pytest.mark.usefixtures("prefect")
def test_a_new_user_walks_a_case_from_the_chat_to_monitoring(
        demo_site: tuple[Services, str, Path], browser: Any, database_url: str) -> None:
    svc, site, offset = demo_site
    farmer = browser.new_context(base_url=site, **PHONE).new_page()
    cadre = browser.new_context(base_url=site, **PHONE).new_page()
    chat = farmer.locator("#chat")

    # 1. The farmer applies in the simulator, tapping the first demo head (README: of 南滩村).
    farmer.goto("/dev/wechat")
    now = farmer.locator("#now")
    expect(now).to_have_text(f"演示时间：{START:%Y-%m-%d %H:%M}")
    bubbles = farmer.locator(".msg.bot")

    def say(text: str) -> Any:
        count = bubbles.count()
        farmer.fill("#text", text)
        farmer.click("form#send button")
        expect(bubbles).to_have_count(count + 1)
        return bubbles.nth(count)

    say("申请")
    head = farmer.locator("a.head").first
    expect(head).to_contain_text("南滩村")
    name = head.inner_text().split("（")[0]
    head.click()
    farmer.click("form#send button")
    expect(bubbles.last).to_contain_text("困难")
    say("老伴住院花了五万多")
    expect(say("一年两万左右")).to_contain_text("承诺授权")
    expect(say("同意")).to_contain_text("申请编号")
    worker_passes(svc)
    progress = say("进度")
    expect(progress).to_contain_text("「入户核实」这一步，由朱书记")  # README: 朱书记 for 南滩村
    due = re.search(r"预计(\d+月\d+日)前完成", progress.inner_text())
    assert due, progress.inner_text()
    shot(farmer, "walk-01-applied")

    # 2-3. The village cadre: the case in the inbox with the chat's due date; 入户核实.
    cadre.goto("/")
    sign_in(cadre, "朱书记")
    expect(cadre.locator("#tasks a", has_text=name)).to_contain_text(f"{due.group(1)}前")
    open_case(cadre, name)
    case_page = cadre.url.split("#")[0]  # (the inbox links to its #task: no reload)
    expect(cadre.get_by_text("当前环节：入户核实")).to_be_visible()
    choose(cadre, "通过")
    cadre.get_by_label("入户人员2").fill("郭帮扶")
    cadre.get_by_label("工资性收入").fill("12000")
    cadre.get_by_label("转移性收入").fill("8000")
    cadre.get_by_label("医疗支出").fill("52000")
    cadre.get_by_label("合规自付支出").fill("30000")
    cadre.get_by_label("核实情况").fill("老伴住院花费五万多，报销后自付三万")
    cadre.get_by_role("button", name="确认通过").click()
    expect(cadre.get_by_text("入户核实通过")).to_be_visible()
    worker_passes(svc)
    expect(chat).to_contain_text("已通过「入户核实」", timeout=WAIT)

    # 4. 村民主评议: attendance and votes that add up.
    open_case(cadre, name)
    expect(cadre.get_by_text("当前环节：村民主评议")).to_be_visible()
    for label, value in (("应到人数", "30"), ("参会人数", "25"), ("同意票数", "20"),
                         ("反对票数", "3"), ("弃权票数", "2")):
        cadre.get_by_label(label).fill(value)
    cadre.get_by_label("会议纪要", exact=True).fill("村民代表会议评议，同意纳入")
    choose(cadre, "通过")
    cadre.get_by_role("button", name="确认通过").click()
    expect(cadre.get_by_text("村民主评议通过")).to_be_visible()
    worker_passes(svc)
    expect(chat).to_contain_text("已通过「村民主评议」", timeout=WAIT)

    # 5. 公示, forgotten at first: the clock moved past its deadline (the command line) and
    # the worker's passes leave it waiting, unposted.
    open_case(cadre, name)
    expect(cadre.get_by_text("当前环节：公示")).to_be_visible()
    expect(cadre.get_by_text("尚未登记张贴")).to_be_visible()
    moved = fangfan("dev", "clock", "+6d", database_url=database_url,
                    env={"FANGFAN_DEV_CLOCK": str(offset)})
    assert moved.returncode == 0 and "比实际时间快6天" in moved.stdout, moved.stderr
    worker_passes(svc)
    cadre.reload()
    expect(cadre.get_by_text("当前环节：公示")).to_be_visible()
    expect(cadre.get_by_text("尚未登记张贴")).to_be_visible()
    openid = farmer.evaluate("localStorage.getItem('fangfan-sim-openid')")
    sent = farmer.request.get("/dev/wechat/pushed", params={"openid": openid}).json()
    assert sent["messages"] and not any("公示期满" in m["text"] for m in sent["messages"])

    # ...then posted, not without a photo of the board.
    cadre.get_by_role("button", name="登记张贴").click()
    expect(cadre.get_by_text("请拍一张公示张贴在公示栏上的照片")).to_be_visible()
    photo, filename = board()
    cadre.get_by_label(re.compile("张贴照片")).set_input_files(
        {"name": filename, "mimeType": "image/jpeg", "buffer": photo.getvalue()})
    cadre.get_by_role("button", name="登记张贴").click()
    expect(cadre.get_by_text("已登记公示，公示期至")).to_be_visible()
    expect(cadre.get_by_text("晚于期限张贴")).to_be_visible()  # the late posting shows
    shot(cadre, "walk-05-posted")
    worker_passes(svc)
    expect(cadre.get_by_text("当前环节：公示")).to_be_visible()

    # 6. 快进6天 in the simulator: the period is over, the worker moves the case on.
    farmer.get_by_role("button", name="快进6天").click()  # 6 days after the command's 6
    expect(now).to_have_text(f"演示时间：{START + dt.timedelta(days=12):%Y-%m-%d %H:%M}")
    worker_passes(svc)
    expect(chat).to_contain_text("公示期满无异议，现在进入「乡镇审核」", timeout=WAIT)
    cadre.goto(case_page)  # no longer the village's task: its page, where they may look
    expect(cadre.get_by_text("公示期满无异议")).to_be_visible()

    # 7. The township auditor of 河湾乡.
    sign_in(cadre, "李审核")
    open_case(cadre, name)
    expect(cadre.get_by_text("当前环节：乡镇审核")).to_be_visible()
    choose(cadre, "通过")
    cadre.get_by_role("button", name="确认通过").click()
    expect(cadre.get_by_text("乡镇审核通过")).to_be_visible()
    worker_passes(svc)
    expect(chat).to_contain_text("已通过「乡镇审核」", timeout=WAIT)

    # 8. The county approver: the category, the paired cadre and the measures.
    sign_in(cadre, "赵审定")
    open_case(cadre, name)
    expect(cadre.get_by_text("当前环节：县级比对审定")).to_be_visible()
    choose(cadre, "通过")
    cadre.get_by_label("部门数据比对情况").fill("与民政、医保数据比对一致")
    expect(cadre.get_by_label("监测类别")).to_have_value("sudden")
    cadre.get_by_label("措施内容1").fill("落实医疗救助和大病保险")
    cadre.get_by_role("button", name="确认通过").click()
    expect(cadre.get_by_text("案件办结：纳入监测")).to_be_visible()
    worker_passes(svc)

    expect(chat).to_contain_text("纳入监测", timeout=WAIT)
    expect(farmer.locator(".msg.pushed").last).to_contain_text("帮扶联系人：朱书记")
    shot(farmer, "walk-08-chat")
    cadre.goto(case_page)  # closed, it is in no inbox: its page, as the county reopens it
    expect(cadre.get_by_text("纳入监测").first).to_be_visible()
    closed = cadre.get_by_text("案件已办结")
    expect(closed).to_contain_text("监测类别：突发严重困难户")
    expect(closed).to_contain_text("结对帮扶干部：朱书记")
    expect(closed).to_contain_text("帮扶措施：健康")
    shot(cadre, "walk-08-closed")
    farmer.context.close()
    cadre.context.close()
