"""The `fangfan` command. Each command parses, calls one service, prints, and exits."""

from __future__ import annotations

import json
import os
import signal
import sys
from pathlib import Path
from typing import NoReturn

import click

from approvals.procedure.queries import list_cases, show_case
from approvals.record import audit, wording
from approvals.record.errors import Refused
from approvals.record.models import Source
from approvals.screening import evidence
from fangfan import config as config_module
from fangfan import logs
from fangfan.cli_words import Group
from fangfan.settings import SettingError, Settings


class Failed(click.ClickException):
    """A command that could not do its work: one Chinese line on stderr, exit status 1
    (click's own says "Error: ...")."""

    def show(self, file=None) -> None:
        click.echo(f"错误：{self.format_message()}", err=True)


def _services():
    from fangfan.services import build

    try:
        return build()
    except (config_module.ConfigError, SettingError) as err:
        raise Failed(str(err)) from None


def _stage(services, stage: str | None, option: str = "--stage") -> str | None:
    """A stage named on the command line: one of config.yaml's procedures'."""
    known = services.config.stage_labels()
    if stage is not None and stage not in known:
        raise Failed(f"{option} {stage}：没有这个环节，应为 {'、'.join(known)} 之一")
    return stage


def _anchor(services) -> None:
    """Publish the audit chain's head after a command that sealed (audit.anchor)."""
    with services.database.session_scope() as s:
        audit.anchor(s, services.settings.anchor_path, services.clock.now())


def _interrupt(_signum: int, _frame: object) -> None:
    raise KeyboardInterrupt


def _stop_on_signals() -> None:
    """SIGINT and SIGTERM both stop a long-running command the way Ctrl-C does, and before
    anything has started too (a shell may start us with SIGINT ignored). Not Python's own
    handler: asyncio.run would then put in one of its own, cancelling mid-start."""
    signal.signal(signal.SIGINT, _interrupt)
    signal.signal(signal.SIGTERM, _interrupt)


def _stopped(line: str) -> NoReturn:
    """Stopped while starting: say so and leave at once. Threads a library had begun (Prefect
    starts some as it is imported) must not keep the process, or print, on their way out."""
    click.echo(line, err=True)
    sys.stderr.flush()
    os._exit(0)


@click.group(cls=Group)
def main() -> None:
    """fangfan 防返贫监测识别与帮扶。"""
    logs.configure()  # every command, `serve` and `worker` included: personal data masked


@main.group()
def db() -> None:
    """数据库结构。\f

    Database schema."""


@db.command("upgrade")
def db_upgrade() -> None:
    """执行全部数据库迁移。\f

    Apply every migration (creates the SQLite file under var/ if needed)."""
    from fangfan.database import upgrade

    services = _services()
    upgrade(services.engine)
    click.echo("数据库已是最新结构。")


@main.command()
def demo() -> None:
    """载入演示数据（可重复执行）。\f

    Load the demo county (idempotent)."""
    from fangfan import demo as demo_module

    services = _services()
    loaded = demo_module.load(services)
    _anchor(services)
    click.echo("演示数据已载入。" if loaded else "演示数据已存在，未重复载入。")


@main.command()
@click.option("--host", default="127.0.0.1")
def serve(host: str) -> None:
    """启动网页服务（开发用）。\f

    The web app (development server; production runs it under gunicorn)."""
    _stop_on_signals()
    try:
        from werkzeug.serving import run_simple

        from fangfan.app import create_app

        services = _services()
        app = create_app(services)
        # werkzeug's server, as Flask's app.run starts it but without Flask's English banner
        # (`make run` prints the addresses); it ends its loop quietly on KeyboardInterrupt,
        # which our signals raise
        run_simple(host, services.settings.port, app, threaded=True)
        services.close()
    except KeyboardInterrupt:  # stopped while it was still starting
        _stopped("网页服务已停止。")
    click.echo("网页服务已停止。", err=True)


@main.command()
def worker() -> None:
    """启动后台：推进案件、定时对账、发送消息；配置了 Prefect 时还运行部门筛查。\f

    The scheduler: advances pending cases, reconciles on a schedule. With PREFECT_API_URL
    it also serves the screening deployment, one schedule per config.yaml round."""
    import asyncio

    _stop_on_signals()
    try:
        from fangfan.worker import build_scheduler, run_until_stopped

        services = _services()
        try:
            scheduler = build_scheduler(services)
        except config_module.ConfigError as err:
            raise Failed(str(err)) from None
        if not asyncio.run(run_until_stopped(services, scheduler)):
            _stopped("后台已停止。")  # a job's thread still running would keep the process
        services.close()
    except KeyboardInterrupt:  # stopped while it was still starting: nothing of its own runs
        _stopped("后台已停止。")
    click.echo("后台已停止。", err=True)


@main.command("screen")
@click.option("--feeds", "folder", required=True, metavar="文件夹",
              type=click.Path(exists=True, file_okay=False, path_type=Path),
              help="六个部门数据文件所在的文件夹")
@click.option("--as-of", "as_of", type=click.DateTime(["%Y-%m-%d"]), default=None,
              metavar="日期", help="比对截止日期（默认今天），如 2026-11-30")
@click.option("--scope", type=click.Choice(["all", "key"]), default="all", show_default=True,
              help="all 全面排查（全部人口），key 重点人群排查（监测户和脱贫户）")
@click.option("--json", "as_json", is_flag=True, help="以 JSON 输出报告")
def screen(folder: Path, as_of, scope: str, as_json: bool) -> None:
    """部门筛查预警：部门数据与户籍名单比对，按规则立案、补充证据或列入走访。\f

    Run the screening flow over the feeds in FOLDER and print its report (docs/screening.md).
    With a Prefect API configured the run is a Prefect flow run; without, the same code runs
    here without Prefect."""
    from approvals.record.calendar import local_date
    from approvals.screening import runs
    from workflows import screening as screening_flow

    services = _services()
    day = as_of.date() if as_of else local_date(services.clock.now())
    with services.database.session_scope() as s:
        run_id = runs.queue(s, as_of=day, scope=scope, trigger="命令行", started_by="cli",
                            feeds_dir=folder.resolve(), now=services.clock.now())
    run = screening_flow.screening if services.settings.prefect_api_url \
        else screening_flow.screening.fn
    try:
        with screening_flow.given(services.screening_setup()):
            report = run(folder=str(folder.resolve()), as_of=day.isoformat(),
                         scope="key" if scope == "key" else "all", run_id=run_id)
    except screening_flow.Refused as err:
        raise Failed(f"筛查 #{run_id} 未完成：{err}") from None
    _anchor(services)
    if as_json:
        click.echo(json.dumps(report, ensure_ascii=False, indent=1))
        return
    click.echo(screening_flow.summary(run_id, report))
    if report["unmatched"]:
        click.echo(f"\n身份证号不在户籍名单中的 {report['unmatched']} 条已保存，"
                   f"可在县级“部门筛查预警”页面下载。")


@main.group()
def wechat() -> None:
    """微信公众号。\f

    The WeChat Official Account."""


@wechat.command("menu")
def wechat_menu() -> None:
    """创建公众号菜单：我要申请 / 查询进度 / 政策说明。\f

    Create the account's menu: 我要申请 / 查询进度 / 政策说明."""
    from bot.dialogue import MENU
    from bot.wechat_adapter import WeChatApiError

    try:
        _services().wechat_api().create_menu(MENU)
    except WeChatApiError as err:
        raise Failed(f"创建菜单失败：{err}") from None
    click.echo("菜单已创建：" + " / ".join(b["name"] for b in MENU["button"]))


@main.command("outbox")
@click.option("--failed", is_flag=True, help="只看发送失败或不确定是否送达的")
@click.option("--limit", default=50, show_default=True)
def outbox_list(failed: bool, limit: int) -> None:
    """查看发给农户和干部的消息：状态、渠道和失败原因（北京时间）。\f

    Messages to farmers and cadres: status, channel, and why one failed. Times are Beijing
    time, as the pages show them; a farmer's message held by the quiet hours says when it
    will go."""
    from sqlalchemy import select

    from approvals.record.calendar import LOCAL
    from approvals.record.models import Cadre
    from notifications.dispatch import held_until
    from notifications.models import Audience, OutboxMessage, OutboxStatus
    from notifications.wording import CHANNEL_NAMES, EVENT_NAMES

    services = _services()
    now, quiet = services.clock.now(), services.quiet_hours()
    labels = {"pending": "待发送", "sending": "发送中", "sent": "已送达", "dead": "发送失败",
              "uncertain": "不确定是否送达"}
    with services.database.session_scope() as s:
        q = select(OutboxMessage).order_by(OutboxMessage.id.desc()).limit(limit)
        if failed:
            q = q.where(OutboxMessage.status.in_([OutboxStatus.DEAD, OutboxStatus.UNCERTAIN]))
        rows = s.scalars(q).all()
        cadres = dict(s.execute(select(Cadre.id, Cadre.name).where(Cadre.id.in_(
            {int(m.recipient[6:]) for m in rows if m.recipient.startswith("cadre:")}))).all())
        if rows:
            click.echo("编号\t写入时间（北京时间）\t状态\t送达时间\t消息\t接收人\t渠道\t尝试次数")
        for m in rows:
            who = (f"干部{cadres.get(int(m.recipient[6:]), m.recipient[6:])}"
                   if m.recipient.startswith("cadre:") else f"农户{m.recipient[:6]}…")
            sent = f"{m.sent_at.astimezone(LOCAL):%Y-%m-%d %H:%M}" if m.sent_at else "-"
            reason = f"  {m.last_error}" if m.status != OutboxStatus.SENT and m.last_error else ""
            event = EVENT_NAMES.get(m.event, m.event)
            channel = CHANNEL_NAMES.get(m.channel or "", m.channel or "-")
            status = labels[m.status]
            until = held_until(max(m.next_attempt_at, now), quiet) if (
                m.status == OutboxStatus.PENDING and m.audience == Audience.FARMER) else None
            if until:
                status += f"（夜间免打扰，{until.astimezone(LOCAL):%m-%d %H:%M}后发送）"
            click.echo(f"{m.id}\t{m.created_at.astimezone(LOCAL):%Y-%m-%d %H:%M}\t{status}\t"
                       f"{sent}\t{event}\t{who}\t{channel}\t尝试{m.attempts}次{reason}")
    if not rows:
        click.echo("没有" + ("失败的" if failed else "") + "消息。")


@main.command()
def reconcile() -> None:
    """找出应推进或中断的案件并推进。\f

    Find every case whose next step is due or missing, and drive it."""
    from workflows.advance import reconcile as reconcile_flow

    services = _services()
    result = reconcile_flow(services.runtime)
    _anchor(services)
    said = {"marked": "找到待推进", "waiting": "等待办理", "returned": "退回",
            "rejected": "不予纳入或暂不标注风险消除", "enrolled": "纳入监测",
            "eliminated": "风险消除", "closed": "已办结", "failed": "出错"}
    click.echo("已推进：" + ("、".join(f"{said.get(k, k)}{n}件" for k, n in result.items() if n)
                          or "没有需要推进的案件") + "。")


@main.group()
def case() -> None:
    """案件。\f

    Cases."""


def _source(source: str | None) -> Source | None:
    """A case's source named on the command line (Source's values)."""
    if source is None:
        return None
    if source not in wording.SOURCE:
        known = "、".join(f"{k}（{v}）" for k, v in wording.SOURCE.items())
        raise Failed(f"--source {source}：没有这个来源，应为 {known} 之一")
    return Source(source)


@case.command("list")
@click.option("--stage", help="环节（config.yaml 中的环节键）")
@click.option("--source", help="来源：wechat 农户自主申报、cadre_visit 干部走访排查、"
                               "screening 部门筛查预警、village_list 村提出名单")
@click.option("--overdue", is_flag=True)
@click.option("--json", "as_json", is_flag=True)
@click.option("--limit", default=200, show_default=True)
def case_list(stage: str | None, source: str | None, overdue: bool, as_json: bool,
              limit: int) -> None:
    """列出案件（JSON 含来源和部门筛查预警的证据）。"""
    services = _services()
    with services.database.session_scope() as s:
        rows = list_cases(s, services.clock.now(), stage=_stage(services, stage),
                          overdue=overdue, source=_source(source), limit=limit)
        if as_json:
            evidence.attach(s, rows)
    if as_json:
        click.echo(json.dumps(rows, ensure_ascii=False, indent=1))
        return
    for r in rows:
        late = " 超期" if r["overdue"] else ""
        status = wording.case_status(r["status"], r["kind"])
        click.echo(f"{r['number']}  {r['village']}  {r['head']}  {status}  "
                   f"{r['stage_label'] or '-'}{late}  {wording.SOURCE.get(r['source'], '')}")


@case.command("show")
@click.argument("case_id", type=int)
@click.option("--json", "as_json", is_flag=True)
def case_show(case_id: int, as_json: bool) -> None:
    """查看一件案件，含来源和部门筛查预警的证据（身份证号隐去中间）。"""
    services = _services()
    try:
        with services.database.session_scope() as s:
            [data] = evidence.attach(s, [show_case(s, case_id, services.clock.now())])
    except Refused as err:
        raise Failed(str(err)) from None
    click.echo(json.dumps(data, ensure_ascii=False, indent=None if as_json else 1))


FORM_MAX_BYTES = 256 * 1024  # a stage's findings are a few kilobytes


def _read_form(path: str | None) -> dict | None:
    """The findings from a JSON file: one object, bounded in size."""
    if path is None:
        return None
    with open(path, "rb") as f:
        raw = f.read(FORM_MAX_BYTES + 1)
    if len(raw) > FORM_MAX_BYTES:
        raise Failed(
            f"--form 文件超过 {FORM_MAX_BYTES // 1024} KB，不像是一份核查表。")
    try:
        data = json.loads(raw.decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise Failed(f"--form 文件不是有效的 JSON（UTF-8）：{err}") from None
    if not isinstance(data, dict):
        raise Failed("--form 文件应是一个 JSON 对象（各项核查内容）。")
    return data


@case.command("decide")
@click.argument("case_id", type=int)
@click.option("--verdict", type=click.Choice(["approved", "rejected", "returned"]),
              default="approved", show_default=True)
@click.option("--reason", default="", help="不予纳入或退回时必填，农户会收到")
@click.option("--return-to", help="退回到的环节（本案已办过的环节）")
@click.option("--as", "cadre_id", type=int,
              help="办理干部的编号（开发模式以外必填）")
@click.option("--form", "form_file", type=click.Path(exists=True, dir_okay=False),
              help="本环节核查内容的 JSON 文件（开发模式以外通过时必填）")
def case_decide(case_id: int, verdict: str, reason: str, return_to: str | None,
                cadre_id: int | None, form_file: str | None) -> None:
    """以办理干部的身份办理案件当前环节（供脚本用，干部在手机上办理）。\f

    Decide the case's open stage as a cadre who holds it (scripts; cadres use /inbox).

    Outside dev_mode the cadre (--as) and, to approve, the findings (--form) are the
    operator's: nothing is filled in. In dev_mode they default to the demo's cadre and
    answers. Whether the cadre may decide the task is decisions.decide's to check."""
    from sqlalchemy import select

    from approvals.procedure import decisions
    from approvals.procedure.permissions import Actor
    from approvals.record.calendar import FixedClock, local_date
    from approvals.record.definitions import Stage
    from approvals.record.models import Task, TaskStatus, Verdict

    services = _services()
    dev = services.config.dev_mode
    if not dev and cadre_id is None:
        raise Failed("未开启开发模式：请用 --as 指明办理人（干部编号），"
                                   "系统不会代填办理人。")
    if not dev and verdict == "approved" and form_file is None:
        raise Failed("未开启开发模式：通过时请用 --form 提供本环节核查内容的 "
                                   "JSON 文件，系统不会代填演示数据。")
    if verdict != "approved" and form_file is not None:
        raise Failed("只有“通过”需要 --form；不予纳入（或暂不标注风险消除）、退回请写 --reason。")
    data = _read_form(form_file)
    return_to = _stage(services, return_to, "--return-to")
    now = services.clock.now()
    try:
        with services.database.session_scope() as s:
            task = s.scalars(select(Task).where(Task.case_id == case_id,
                                                Task.status == TaskStatus.OPEN)).first()
            if task is None:
                if s.scalar(select(Task.id).where(Task.case_id == case_id, Task.awaits_pass)):
                    raise Refused("上一个决定正在等待推进到下一环节，请稍后再试"
                                  "（需要 fangfan worker 在运行）。")
                raise Refused("这个案件没有待办的环节。")
            filled = False  # the demo's answers, not the operator's
            if dev and (cadre_id is None or (data is None and verdict == "approved")):
                from fangfan.demo import Demo

                demo = Demo(services, FixedClock(now))
                if data is None and verdict == "approved":
                    data, filled = demo.form(s, task), True
                if cadre_id is None:
                    cadre_id = demo.actor_for(s, task).id
            if data is not None and task.stage == Stage.COUNTY_APPROVAL:
                # the records the county compares the case with, as its page shows them:
                # each must be ticked in the form's `checked` or a reason given
                from approvals.screening import comparison

                shown = comparison.case_records(s.connection(), services.screening_dir, case_id)
                data = shown.into(data) | ({"checked": shown.refs} if filled else {})
            assert cadre_id is not None  # --as, or the demo's cadre in dev_mode (above)
            actor = Actor.signed_in(s, cadre_id, local_date(now))
            decided = decisions.decide(
                s, task.id, actor, Verdict(verdict), now=now, reason=reason,
                return_to=return_to, data=data)
    except Refused as err:
        raise Failed(str(err)) from None
    click.echo(f"已办理（{actor.name}）：案件 {case_id} 的「{decided.stage_label}」"
               f"{decisions.verdict_label(decided.verdict, decided.case_kind)}；"
               "后台会在几秒内推进到下一步。")


@main.group()
def cadre() -> None:
    """干部：绑定微信以使用手机工作台。\f

    Cadres: binding their WeChat for the phone pages."""


@cadre.command("code")
@click.argument("cadre_id", type=int)
def cadre_code(cadre_id: int) -> None:
    """生成干部首次登录绑定微信用的一次性绑定码。\f

    A one-time code with which the cadre binds their WeChat at first sign-in."""
    from approvals.record import bindings
    from approvals.record.models import Cadre

    services = _services()
    days = services.config.workbench.bind_code_days
    try:
        with services.database.session_scope() as s:
            code = bindings.issue_code(s, cadre_id, now=services.clock.now(), valid_days=days)
            name = s.get_one(Cadre, cadre_id).name
    except Refused as err:
        raise Failed(str(err)) from None
    click.echo(f"{name}的绑定码：{code}（{days}天内有效，仅能使用一次；不分大小写，短横线可省略）。"
               "请电话或当面告知本人，第一次从微信打开办理链接时输入。"
               f"输错{services.config.workbench.bind_code_max_failures}次即作废，需重新获取。")


def _place_actor(s, place_name: str | None):
    """The command line acts with the jurisdiction of the place it names (the county by
    default): it is run by whoever runs the server."""
    from sqlalchemy import select

    from approvals.procedure.permissions import Actor
    from approvals.record.models import Place

    query = select(Place).order_by(Place.path)
    place = s.scalars(query.where(Place.name == place_name) if place_name else query).first()
    if place is None:
        raise Failed(f"没有找到地区：{place_name}")
    return place, Actor(0, "命令行", "supervisor", True, place.path, place.level)


@main.group("export")
def export_group() -> None:
    """导出。\f

    Exports for the county offices."""


@export_group.command("ledger")
@click.option("--place", "place_name", help="地区名称（默认为整个辖区）")
@click.option("--stage", help="环节（config.yaml 中的环节键）")
@click.option("--overdue", is_flag=True, help="只导出超期案件")
@click.option("--monitored", is_flag=True, help="只导出监测对象")
@click.option("--full-ids", is_flag=True, help="显示完整身份证号（默认隐去中间）")
@click.option("-o", "--output", type=click.Path(dir_okay=False), required=True)
def export_ledger(place_name: str | None, stage: str | None, overdue: bool, monitored: bool,
                  full_ids: bool, output: str) -> None:
    """导出台账（Excel，每户一行）。\f

    The ledger (台账) as Excel: one row per household."""
    from approvals.desk import ledger

    services = _services()
    config = services.config
    labels = ledger.Labels(config.categories, config.risk_types)
    stage = _stage(services, stage)
    with services.database.session_scope() as s:
        place, actor = _place_actor(s, place_name)
        scope = ledger.Scope(place.id, stage, overdue, monitored)
        written = [0]

        def progress(n: int) -> None:
            written[0] += n
            click.echo(f"\r已写入 {written[0]} 户……", nl=False, err=True)

        count = ledger.write(output, f"{place.name}防返贫监测台账", ledger.rows(
            s, actor, scope, labels, services.clock.now(), full_ids=full_ids),
            progress=progress, chain=audit.head(s), levels=config.levels)
    click.echo(f"\n已导出 {count} 户到 {output}。")


@main.command("import")
@click.argument("kind", type=click.Choice(["roster", "cadres", "pairings"]))
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
def import_file(kind: str, file: str) -> None:
    """从 .xlsx 或 .csv 导入户籍名单、干部或结对帮扶（全部成功或全部不导入）。\f

    Import households and members, cadres, or pairings from .xlsx or .csv (all or nothing)."""
    from pathlib import Path

    from approvals.desk import imports

    services = _services()
    try:
        named = imports.headers(services.config.levels)
        rows = imports.read_file(Path(file), imports.COLUMNS[kind],
                                 services.config.import_limits(), named)
    except imports.BadFile as err:
        raise Failed(str(err)) from None
    now = services.clock.now()
    with services.database.session_scope() as s:
        _, actor = _place_actor(s, None)
        with click.progressbar(length=len(rows), label="导入中", show_pos=True) as bar:
            result = imports.run(s, kind, rows, actor, now=now, progress=bar.update,
                                 roles=services.config.roles)
        if not result.ok:
            s.rollback()
    if not result.ok:
        for problem in result.problems[:200]:
            click.echo(problem.said(named), err=True)
        more = len(result.problems) - 200
        raise Failed(
            f"共 {len(result.problems)} 处问题{f'（另有{more}处未列出）' if more > 0 else ''}，"
            "未导入任何数据。请改正后重新导入。")
    click.echo(f"导入完成：新增 {result.added}，更新 {result.changed}，"
               f"未变 {result.unchanged}。")


@main.group("audit")
def audit_group() -> None:
    """审计日志。\f

    The audit log."""


def _head(value: str) -> audit.Head:
    seq, _, digest = value.partition(":")
    if not seq.isdigit() or len(digest) < 8 or any(c not in "0123456789abcdef"
                                                   for c in digest.lower()):
        raise click.BadParameter("应为 序号:哈希（至少前8位），如 1234:0f3a9c2e5b7d1a44")
    return audit.Head(int(seq), digest.lower())


@audit_group.command("verify")
@click.option("--head", "printed", multiple=True, metavar="SEQ:HASH",
              help="台账或公示上印的审计链头（审计链：第N条 哈希 …），一并核对")
def audit_verify(printed: tuple[str, ...]) -> None:
    """核对审计日志的哈希链和锚点，发现修改或删除时以状态1退出。\f

    Check the whole hash chain against its anchors; exit 1 at any changed or deleted row."""
    heads = [_head(p) for p in printed]
    services = _services()
    with services.database.session_scope() as s:
        count, breaks = audit.verify(s, services.settings.anchor_path, heads)
        waiting = audit.unsealed(s)
    for b in breaks:
        click.echo(f"审计链断裂：{b.problem}", err=True)
    if breaks:
        sys.exit(1)
    note = f"另有 {waiting} 条新记录等待后台封存。" if waiting else ""
    click.echo(f"审计日志完整：共 {count} 条记录，哈希链校验通过，与锚点一致。{note}")


@main.group("config")
def config_group() -> None:
    """配置文件 config.yaml。\f

    config.yaml."""


@config_group.command("check")
def config_check() -> None:
    """检查 config.yaml（含各环节及流程），生产模式下还检查密钥和 https。\f

    Validate config.yaml (its procedures' stages too: a module each, and what the flows
    run) and, with dev_mode off, what production demands (secrets, https)."""
    from fangfan import production
    from fangfan.worker import check_flows

    try:
        settings = Settings.from_env()
        config = config_module.load(settings.config_path, settings.config_overrides)
        check_flows(config, settings.config_path)
        production.check(settings, config)
    except (config_module.ConfigError, SettingError) as err:
        raise Failed(str(err)) from None
    mode = "开发模式" if config.dev_mode else "生产模式"
    click.echo(f"{settings.config_path}: 配置有效（{mode}）。")


@main.group("dev")
def dev_group() -> None:
    """演示用（仅开发模式）。\f

    The demo (dev_mode only)."""


@dev_group.command("clock")
@click.argument("step")
def dev_clock(step: str) -> None:
    """快进演示时间（所有进程一起）：+5d 五天、+2h 两小时、+30m 三十分钟；reset 恢复实际时间。\f

    Move the demo's time forward for every process: +5d, +2h, +30m; `reset` puts it back."""
    from approvals.record.calendar import LOCAL

    services = _services()
    try:
        moved = services.move_clock(step)
    except ValueError as err:
        raise Failed(str(err)) from None
    ahead = services.clock.offset()
    shown = moved.astimezone(LOCAL).strftime("%Y-%m-%d %H:%M")
    click.echo(f"演示时间现在是 {shown}" + (
        f"（比实际时间快{_span(ahead)}）。" if ahead else "（实际时间）。"))


def _span(delta) -> str:
    days, rest = divmod(int(delta.total_seconds()), 86400)
    hours, rest = divmod(rest, 3600)
    parts = [f"{days}天" if days else "", f"{hours}小时" if hours else "",
             f"{rest // 60}分钟" if rest // 60 else ""]
    return "".join(parts) or "不到1分钟"


@main.command("run")
def run() -> None:
    """本机一键启动：Prefect 服务、后台和网页服务（即 make run）。\f

    Everything for a laptop: Prefect server, worker, web app (what `make run` starts)."""
    from fangfan.devrun import run_all

    try:
        settings = Settings.from_env()
    except SettingError as err:
        raise Failed(str(err)) from None
    run_all(settings)
