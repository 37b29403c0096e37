"""No personal data in logs: the suite's worst paths run against the real app over HTTP with
every logger at DEBUG (SQLAlchemy's statements and rows included) through the filter the
processes install (fangfan.logs), and everything logged is scanned for an unmasked resident ID
number or mobile phone."""

from __future__ import annotations

import io
import logging
import re
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from approvals.record.models import Household, Member
from fangfan import logs
from fangfan.services import Services
from fangfan.settings import ROOT
from tests.bot.fake_api import FakeWeChatApi
from tests.bot.sender import WeChatSender
from tests.db import session_scope
from tests.support.production import GOOD, environment, wait_healthy
from tests.support.web import anonymous, cadre, signed_in
from tests.support.world import World

ID_NUMBER = re.compile(r"(?<![0-9])[0-9]{17}[0-9Xx](?![0-9])")
PHONE = re.compile(r"(?<![0-9])1[3-9][0-9]{9}(?![0-9])")
HEAD_ID = "52263119680315001X"  # the demo's 王长林 (approvals/desk/examples/roster.csv)
NEW_ID, NEW_PHONE = "522631197005200048", "13800001111"


@pytest.fixture
def captured() -> Iterator[io.StringIO]:
    """Every record at DEBUG, as a process that called fangfan.logs.configure writes it."""
    factory, root = logging.getLogRecordFactory(), logging.getLogger()
    levels = {name: logging.getLogger(name).level for name in ("", "werkzeug", "sqlalchemy")}
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    logs.install()
    root.addHandler(handler)
    for name in levels:
        logging.getLogger(name).setLevel(logging.DEBUG)
    yield out
    root.removeHandler(handler)
    for name, level in levels.items():
        logging.getLogger(name).setLevel(level)
    logging.setLogRecordFactory(factory)


def assert_clean(text: str) -> None:
    assert not ID_NUMBER.findall(text), ID_NUMBER.findall(text)[:5]
    assert not PHONE.findall(text), PHONE.findall(text)[:5]


def test_a_database_error_keeps_its_parameters_and_the_log_masks_the_rest(
        world: World, captured: io.StringIO) -> None:
    with session_scope() as s:
        taken = s.scalars(select(Member.id_number).order_by(Member.id)).first()
    with pytest.raises(IntegrityError) as raised, session_scope() as s:
        household = s.scalars(select(Household)).first()
        s.add(Member(household=household, name="重复者", id_number=taken, relation="子女",
                     phone=NEW_PHONE, able_to_work=True))
        s.flush()
    err = str(raised.value)
    assert "parameters hidden" in err and NEW_PHONE not in err  # hide_parameters
    # PostgreSQL puts the duplicate key itself in the message ("Key (id_number)=(...)"):
    # the filter masks it wherever it is logged, with its traceback and arguments
    logging.getLogger("fangfan.test").exception("insert failed for %s (%s)", taken, NEW_PHONE)
    logging.getLogger("fangfan.test").error("failed: %s", raised.value, exc_info=raised.value)
    text = captured.getvalue()
    assert "IntegrityError" in text and f"{taken[:6]}********{taken[-4:]}" in text
    assert "138****1111" in text
    assert_clean(text)


def test_the_worst_paths_over_http_log_nothing_personal(
        world: World, services: Services, fake_api: FakeWeChatApi, site: str,
        captured: io.StringIO) -> None:
    # a village cadre searching by ID number and phone (the access log has the query)
    village = signed_in(site, cadre("village_cadre", "东沟村"))
    assert village.get(f"/inbox?q={HEAD_ID}").status_code == 200
    assert village.get(f"/inbox?q={NEW_PHONE}").status_code == 200
    # odd requests carrying ID numbers
    assert village.get(f"/c/{HEAD_ID[:-1]}").status_code == 404
    assert village.get(f"/inbox?village={NEW_ID}&q=%00{NEW_PHONE}").status_code == 400
    anonymous(site).get(f"/login?next=/h/{NEW_ID}")
    # a farmer applying over the webhook with name, ID number and phone
    mp = services.config.wechat.mp
    farmer = WeChatSender(f"{site}/wechat/mp", mp.token, mp.app_id, mp.encoding_aes_key,
                          now=lambda: services.clock.now().timestamp())
    assert "姓名" in farmer.say("申请")  # answered: the webhook took the farmer's messages
    farmer.say(f"王长林 {HEAD_ID}")
    farmer.say(f"我的电话 {NEW_PHONE}，身份证 {NEW_ID}")
    # an import with bad rows full of ID numbers and phones, and an over-long name
    county = signed_in(site, cadre("supervisor"))
    header = "乡镇,村,村民小组,户主身份证号,姓名,身份证号,与户主关系,联系电话,劳动能力\n"
    bad = (header + f"青山镇,东沟村,1组,{NEW_ID},{'长' * 300},{NEW_ID},户主,{NEW_PHONE},有\n"
           f"青山镇,西沟村,1组,{HEAD_ID},张三,{HEAD_ID},户主,{NEW_PHONE}9,可能\n"
           f"青山镇,东沟村,1组,{HEAD_ID},王长林,522631196803150011,户主,,有\n")
    res = county.post("/import", {"kind": "roster"},
                      files={"file": ("roster.csv", bad.encode(), "text/csv")})
    assert res.status_code in (200, 400)
    services.close()  # the inbound log's writer flushes what it kept behind
    text = captured.getvalue()
    assert "GET /inbox?q=522631********001X" in text  # the paths were logged, masked
    assert "SELECT" in text  # and SQLAlchemy's statements and rows at DEBUG with them
    assert_clean(text)


def test_the_filter_masks_message_args_traceback_and_stack(captured: io.StringIO) -> None:
    log = logging.getLogger("fangfan.test")
    try:
        raise ValueError(f"bad member {NEW_ID} phone +86{NEW_PHONE}")
    except ValueError:
        log.exception("while importing %s", {"身份证号": HEAD_ID, "电话": NEW_PHONE},
                      stack_info=True)
    log.warning(f"{NEW_ID} in the message itself, {NEW_PHONE[:3]}-{NEW_PHONE[3:]} not a phone")
    log.info("a longer number is no ID: %s", "1" + NEW_ID + "1")
    text = captured.getvalue()
    assert "ValueError: bad member 522631********0048 phone 138****1111" in text
    assert "Stack (most recent call last)" in text
    assert "1" + NEW_ID + "1" in text  # not an ID: left alone
    assert_clean(text.replace("1" + NEW_ID + "1", ""))


@pytest.mark.slow
def test_gunicorns_access_log_is_masked(database_url: str, tmp_path: Path) -> None:
    """gunicorn logs every request line with its query; fangfan.wsgi installs the filter in
    each worker, so a search by ID number or phone reaches the log masked."""
    config = tmp_path / "config.yaml"
    config.write_text((ROOT / "config.yaml").read_text(encoding="utf-8").replace(
        "base_url: http://127.0.0.1:8000", "base_url: https://fangfan.example.cn"),
        encoding="utf-8")
    env = environment(database_url, config, **GOOD)
    url = f"http://127.0.0.1:{env['FANGFAN_PORT']}"
    proc = subprocess.Popen([sys.executable, "-m", "gunicorn", "-w", "1", "-b", url[7:],
                             "--access-logfile", "-", "--log-level", "debug", "fangfan.wsgi:app"],
                            env=env, cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    try:
        wait_healthy(f"{url}/healthz", proc)
        for query in (f"q={NEW_ID}", f"phone={NEW_PHONE}", f"next=/h/{HEAD_ID}"):
            with urllib.request.urlopen(f"{url}/healthz?{query}", timeout=10):
                pass
    finally:
        proc.terminate()
        out, _ = proc.communicate(timeout=30)
    assert "GET /healthz?q=522631********0048" in out, out
    assert_clean(out)
