"""部门筛查预警 at the county desk: the runs, a run's hits, the six files uploaded to start one,
and the lists a run keeps for the county (bad rows, ID numbers not in the roster) as Excel.

Only the county's staff (runs.ensure_county). A run is started through the Context
(`start_screening`: Prefect's deployment on the worker, else a thread here) and the page
follows it on its row, reloading itself while it runs.
"""

from __future__ import annotations

import datetime as dt
import io
import secrets
from pathlib import Path
from typing import Any

import xlsxwriter
from flask import Blueprint, redirect, render_template, request, url_for
from werkzeug.datastructures import FileStorage

from approvals.procedure.permissions import Actor
from approvals.record.calendar import local_date
from approvals.record.errors import NotFound
from approvals.record.identity import mask_id
from approvals.screening import feeds, runs
from approvals.screening.evidence import LEVEL_CLASSES
from approvals.screening.feeds import FEEDS
from approvals.web.download import XLSX, send
from approvals.web.session import now, services, session_scope, signed_in

bp = Blueprint("screening", __name__)

XLSX_MAGIC = b"PK\x03\x04"  # an .xlsx is a zip
UPLOAD_ENDPOINT = "approvals.screening.start"


def upload_limit() -> int:
    """The whole request's bound for the upload (six files and the form), in bytes: read
    before any view (approvals.web.install), since the CSRF check parses the form first."""
    return (len(FEEDS) * services().config.screening.max_file_mb + 1) * 1024 * 1024


def _county(actor: Actor) -> Actor:
    runs.ensure_county(actor, services().config.levels)
    return actor


@bp.get("/screening")
@signed_in
def index(actor: Actor) -> Any:
    _county(actor)
    return _index_page([], status=200)


def _index_page(errors: list[str], status: int) -> Any:
    with session_scope() as s:
        rows = runs.runs(s)
    return render_template(
        "screening.html", rows=rows, feeds=FEEDS, errors=errors,
        today=local_date(now()).isoformat(), scopes=runs.SCOPES,
        max_mb=services().config.screening.max_file_mb,
        refresh=any(r.running for r in rows)), status


def _saved(feed: str, upload: FileStorage, folder: Path, max_bytes: int) -> str | None:
    """Keep one uploaded file in the run's folder; a Chinese refusal, else None."""
    label = FEEDS[feed].label
    name = upload.filename or ""
    suffix = Path(name).suffix.lower()
    if suffix not in (".csv", ".xlsx"):
        return f"{label}：只接受 CSV 或 Excel（.xlsx）文件，「{name}」不是。"
    stream = upload.stream
    stream.seek(0, io.SEEK_END)
    size = stream.tell()
    stream.seek(0)
    if size > max_bytes:
        return (f"{label}：文件「{name}」有 {size / 1024 / 1024:.1f}MB，"
                f"超过了 {max_bytes // 1024 // 1024}MB 的上限，请分批导出或联系系统管理员。")
    if size == 0:
        return f"{label}：文件「{name}」是空的。"
    head = stream.read(4096)
    stream.seek(0)
    if suffix == ".xlsx" and not head.startswith(XLSX_MAGIC):
        return f"{label}：文件「{name}」不是有效的 Excel（.xlsx）文件，请用 Excel 另存为 .xlsx。"
    if suffix == ".csv" and (b"\x00" in head or head.startswith(XLSX_MAGIC)):
        return f"{label}：文件「{name}」不是文本 CSV 文件，请用 Excel 另存为 CSV 或 .xlsx。"
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    # named by its department (医保.csv): the engine finds a feed by its name, whatever the
    # department called the file, and the report says 医保.csv for the rows it lists
    kept = folder / f"{label}{suffix}"
    upload.save(kept)
    # the headers now, while the county is at the page, not in a run that fails later
    columns = services().config.screening.columns
    try:
        found = feeds.header(kept)
    except feeds.FileProblem:
        return f"{label}：文件「{name}」无法读取，请确认是 CSV（UTF-8 或 GBK 编码）或 .xlsx 文件。"
    lacking = feeds.missing(FEEDS[feed], found, columns.get(feed, {}))
    if lacking:
        other = feeds.looks_like(found, columns)
        wanted = "、".join(feeds.headers(FEEDS[feed], columns.get(feed, {})).values())
        hint = (f"它看起来是{other.label}的数据，请放到「{other.label}」一栏。" if other
                else f"{label}数据应有列：{wanted}。")
        return f"{label}：文件「{name}」缺少列 {'、'.join(lacking)}；{hint}"
    return None


@bp.post("/screening")
@signed_in
def start(actor: Actor) -> Any:
    """Six files (any of them), an as-of date and a scope: checked, kept, a run started."""
    _county(actor)
    ctx = services()
    errors: list[str] = []
    try:
        as_of = dt.date.fromisoformat(request.form.get("as_of", ""))
    except ValueError:
        as_of = None
        errors.append("请填写比对截止日期（年-月-日）。")
    if as_of is not None and as_of > local_date(now()):
        errors.append("比对截止日期不能晚于今天。")
    scope = request.form.get("scope", "all")
    if scope not in runs.SCOPES:
        errors.append("请选择比对范围。")
    chosen = {feed: f for feed in FEEDS if (f := request.files.get(feed)) and f.filename}
    if not chosen:
        errors.append("请至少选择一个部门的数据文件。")
    if errors:
        return _index_page(errors, status=400)
    moment = now()
    folder = (ctx.screening_dir / "uploads"
              / f"{local_date(moment):%Y%m%d}-{secrets.token_hex(4)}")
    max_bytes = ctx.config.screening.max_file_mb * 1024 * 1024
    errors = [e for feed, f in chosen.items() if (e := _saved(feed, f, folder, max_bytes))]
    if errors:
        for kept in folder.glob("*") if folder.exists() else []:
            kept.unlink()
        if folder.exists():
            folder.rmdir()
        return _index_page(errors, status=400)
    assert as_of is not None
    with session_scope() as s:
        run_id = runs.queue(s, as_of=as_of, scope=scope, trigger="县级上传",
                            started_by=f"cadre:{actor.id}", feeds_dir=folder, now=moment)
    ctx.start_screening(run_id, folder, as_of, scope)
    return redirect(url_for("approvals.screening.show", run_id=run_id), code=303)


@bp.get("/screening/<int:run_id>")
@signed_in
def show(actor: Actor, run_id: int) -> Any:
    _county(actor)
    config = services().config
    args = request.args
    rules = config.screening.rules
    filters = runs.HitFilters(
        rule=args.get("rule") if args.get("rule") in rules else None,
        level=args.get("level") if args.get("level") in ("红", "橙", "黄") else None,
        township_id=args.get("township", type=int))
    with session_scope() as s:
        run = runs.run(s, run_id)
        hits = runs.hits(s, run_id, filters) if not run.running else []
        townships = runs.townships(s)
    return render_template("screening_run.html", run=run, r=run.report, hits=hits,
                           filters=filters, rules=rules, townships=townships,
                           risks=config.risk_types, refresh=run.running,
                           level_class=LEVEL_CLASSES)


def _xlsx(title: str, header: list[str], rows: list[list[Any]]) -> bytes:
    out = io.BytesIO()
    book = xlsxwriter.Workbook(out, {"in_memory": True})
    sheet = book.add_worksheet(title)
    bold = book.add_format({"bold": True})
    sheet.write_row(0, 0, header, bold)
    for i, row in enumerate(rows, start=1):
        sheet.write_row(i, 0, row)  # every value as text or number: IDs stay strings
    sheet.set_column(0, len(header) - 1, 18)
    book.close()
    return out.getvalue()


@bp.get("/screening/<int:run_id>/bad.xlsx")
@signed_in
def bad_rows(actor: Actor, run_id: int) -> Any:
    """The rows left out, by file, row and column, for the departments to correct."""
    _county(actor)
    with session_scope() as s:
        run = runs.run(s, run_id)
    rows = [[b["file"], b["row"], b["column"], b["problem"]]
            for b in run.report.get("bad_rows", [])]
    return send(_xlsx("有问题的行", ["文件", "行号", "列", "问题"], rows),
                f"部门筛查_有问题的行_{run_id}.xlsx", f"screening-bad-rows-{run_id}.xlsx", XLSX)


@bp.get("/screening/<int:run_id>/unmatched.xlsx")
@signed_in
def unmatched(actor: Actor, run_id: int) -> Any:
    """The feed rows whose ID number is not in the roster: full numbers for the roles that
    see personal data, masked for the others."""
    _county(actor)
    ctx = services()
    with session_scope() as s:
        runs.run(s, run_id)
    frame = runs.unmatched(ctx.screening_dir, run_id)
    if frame is None:
        raise NotFound("这次筛查没有保存未匹配的身份证号。")
    full = actor.role in ctx.config.workbench.personal_data_roles
    labels = {k: f.label for k, f in FEEDS.items()}
    rows = [[labels.get(r["feed"], r["feed"]), r["file"], r["row"],
             r["id_number"] if full else mask_id(r["id_number"])]
            for r in frame.iter_rows(named=True)]
    return send(_xlsx("未匹配身份证号", ["部门", "文件", "行号", "身份证号"], rows),
                f"部门筛查_未匹配身份证号_{run_id}.xlsx", f"screening-unmatched-{run_id}.xlsx",
                XLSX)
