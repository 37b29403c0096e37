"""Webhook benchmark: fangfan's bot behind gunicorn on the database, against a bare Flask +
wechatpy echo bot (bench/echo_bot.py) behind the same gunicorn, loaded by wrk in one run.

    .venv/bin/python bench/webhook.py                 # SQLite (WAL); needs wrk
    .venv/bin/python bench/webhook.py --db postgresql
    .venv/bin/python bench/webhook.py --mix steps     # half the messages steps that write

Each request is a text message in safe mode (encrypted, as production is set up), signed
moments before the run (the webhook refuses signatures older than its window), with a new
MsgId from one of the demo county's farmers, every one of whose households has a case
(`prepare`). The requests of a run are made beforehand (`write_requests`: Lua cannot
encrypt), MAX_RATE a second for the run's length; a faster server would reuse them (retries).
The default mix alternates 「进度」 (a query of their cases) and 「帮助」: questions, answered
from reads, their records written behind. `--mix steps` adds 「申请」 and 「取消」:
steps of the conversation, each a transaction that writes the conversation and the
message's retry key before answering. First each server's peak (wrk, 32 connections; the
two in turns, --rounds times, each the median of its runs), then fangfan paced at half the
echo bot's peak (the pace corrected until it is reached), for the latency. Beside each run's
throughput, the servers' CPU time per request (gunicorn's processes, and PostgreSQL's when
it is used): the echo's throughput swings 2x between runs here, its CPU per request less.
Targets (issue 4): throughput at least 50% of the echo bot's; p99 under 100 ms at half the
echo bot's peak rate.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import os
import re
import shutil
import signal
import socket
import statistics
import struct
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes  # noqa: E402

from bench.pg import ensure_database  # noqa: E402
from fangfan.database import make_engine, upgrade  # noqa: E402

# The account as production runs it (dev_mode off refuses config.yaml's demo secrets): the
# servers get these from the environment, as a deployment does (production_env).
TOKEN, APP_ID = "fangfanbench", "wxfangfandemo0001"
AES_KEY = "ZmFuZ2Zhbi1iZW5jaC1rZXktbm90LWEtc2VjcmV0ISE"
THREADS = 2  # wrk's
MAX_RATE = 6000  # requests a second the prepared requests last for
LUA = """
local n = 0
function setup(thread)
  n = n + 1
  thread:set("tid", n)
end
function init(args)
  file = assert(io.open("%(requests)s" .. tid))
end
function request()
  local line = file:read("*l")
  if not line then
    file:seek("set")
    line = file:read("*l")
  end
  local tab = line:find("\t", 1, true)
  return wrk.format("POST", line:sub(1, tab - 1), {["Content-Type"] = "text/xml"},
                    line:sub(tab + 1))
end
%(delay)s
"""


@dataclass(frozen=True)
class Load:
    texts: list[str]  # what each farmer says, in turn
    farmers: int  # odd, so that with 2 or 4 texts each farmer says every one


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(app: str, port: int, workers: int, threads: int, env: dict[str, str]
          ) -> subprocess.Popen:
    proc = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-w", str(workers), "-k", "gthread", "--threads",
         str(threads), "-b", f"127.0.0.1:{port}", "--log-level", "warning", app],
        cwd=ROOT, env=env, start_new_session=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/wechat/mp", timeout=1)
        except urllib.error.HTTPError:
            return proc  # 403/405: it answers
        except OSError:
            time.sleep(0.2)
    raise SystemExit(f"{app} did not start")


RUNS = iter(range(1, 1000))
# What the farmers say, in turn; each farmer goes through the whole list.
MIXES = {"questions": ["进度", "帮助"],  # answered from reads, the records written behind
         "steps": ["进度", "帮助", "申请", "取消"]}  # half of them steps that write


TICK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(server: subprocess.Popen) -> float:
    """CPU time so far of the server's processes (gunicorn and its workers: its process
    group) and of PostgreSQL's, which serve only the benchmark here."""
    total = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            comm_end = (text := stat.read_text()).rindex(")")
        except OSError:  # the process has gone
            continue
        fields = text[comm_end + 2:].split()
        if int(fields[2]) == server.pid or text[text.index("(") + 1:comm_end] == "postgres":
            total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / TICK


KEY = base64.b64decode(AES_KEY + "=")
CIPHER = Cipher(algorithms.AES(KEY), modes.CBC(KEY[:16]))


def encrypt(xml: str) -> str:
    """Safe mode's Encrypt (the WeChat protocol, as tests/bot/sender.py has it): AES-256-CBC
    over random(16) + length + xml + app id, PKCS#7-padded to 32 bytes."""
    body = xml.encode()
    plain = os.urandom(16) + struct.pack(">I", len(body)) + body + APP_ID.encode()
    pad = 32 - len(plain) % 32
    encryptor = CIPHER.encryptor()
    return base64.b64encode(encryptor.update(plain + bytes([pad]) * pad)
                            + encryptor.finalize()).decode()


def sha1(*parts: str) -> str:
    return hashlib.sha1("".join(sorted(parts)).encode()).hexdigest()


def write_requests(prefix: str, seconds: int, load: Load, first_id: int) -> None:
    """A file of requests ("path<TAB>body" lines) for each wrk thread: each a farmer's text
    in turn, encrypted and signed now, with a MsgId of its own."""
    ts = str(int(time.time()))
    for tid in range(1, THREADS + 1):
        with open(f"{prefix}{tid}", "w") as out:
            for counter in range(1, MAX_RATE * seconds // THREADS + 1):
                msg_id = first_id + tid * 100_000_000 + counter
                encrypted = encrypt(
                    "<xml><ToUserName><![CDATA[gh_bench]]></ToUserName>"
                    f"<FromUserName><![CDATA[o_bench_{msg_id % load.farmers}]]></FromUserName>"
                    f"<CreateTime>{ts}</CreateTime><MsgType><![CDATA[text]]></MsgType>"
                    f"<Content><![CDATA[{load.texts[counter % len(load.texts)]}]]></Content>"
                    f"<MsgId>{msg_id}</MsgId></xml>")
                nonce = str(msg_id)
                out.write(f"/wechat/mp?timestamp={ts}&nonce={nonce}&signature="
                          f"{sha1(TOKEN, ts, nonce)}&encrypt_type=aes&msg_signature="
                          f"{sha1(TOKEN, ts, nonce, encrypted)}\t<xml><ToUserName><![CDATA["
                          f"gh_bench]]></ToUserName><Encrypt><![CDATA[{encrypted}]]></Encrypt>"
                          "</xml>\n")


def wrk(server: subprocess.Popen, port: int, seconds: int, connections: int,
        load: Load, delay_ms: float = 0) -> dict[str, float]:
    """One load run, with the server's CPU time per request. Every run's MsgIds are new: a
    repeated one is a retry (a failed insert, a rollback and the first answer read back),
    which is not what is measured."""
    first_id = next(RUNS) * 10**12
    prefix = tempfile.mktemp(prefix="fangfan-bench-requests-")
    write_requests(prefix, seconds, load, first_id)
    delay = f"function delay() return {delay_ms:.3f} end" if delay_ms else ""
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as f:
        f.write(LUA % {"requests": prefix, "delay": delay})
    cpu = cpu_seconds(server)
    out = subprocess.run(["wrk", f"-t{THREADS}", f"-c{connections}", f"-d{seconds}s", "--latency",
                          "-s", f.name, f"http://127.0.0.1:{port}"],
                         capture_output=True, text=True, check=True).stdout
    cpu = cpu_seconds(server) - cpu
    os.unlink(f.name)
    for tid in range(1, THREADS + 1):
        os.unlink(f"{prefix}{tid}")

    def ms(label: str) -> float:
        value, unit = re.search(rf"{label}\s+([\d.]+)(us|ms|s)\b", out).groups()
        return float(value) * {"us": 0.001, "ms": 1, "s": 1000}[unit]

    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    requests = int(re.search(r"(\d+) requests in", out).group(1))
    return {"per_s": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),
            "p50_ms": ms("50%"), "p99_ms": ms("99%"),
            "errors": int(errors.group(1)) if errors else 0,
            "cpu_ms": round(1000 * cpu / max(requests, 1), 3)}


def paced_run(server: subprocess.Popen, port: int, seconds: int, rate: float, load: Load,
              connections: int = 32) -> dict[str, float]:
    """A run at `rate` requests/s. wrk paces each connection by a delay between a response
    and its next request, so a connection's cycle is the delay plus the latency: the delay
    is corrected by the latency measured in the run before, until the rate is within 5%."""
    delay_ms = 1000 * connections / rate
    for _ in range(4):
        run = wrk(server, port, seconds, connections, load, delay_ms=delay_ms)
        if run["per_s"] >= 0.95 * rate or delay_ms == 0:
            break
        latency_ms = 1000 * connections / run["per_s"] - delay_ms
        delay_ms = max(1000 * connections / rate - latency_ms, 0)
    return {**run, "delay_ms": round(delay_ms, 3)}


def median_run(runs: list[dict[str, float]]) -> dict[str, float]:
    """The run with the median throughput, with every run's throughput alongside."""
    ordered = sorted(runs, key=lambda r: r["per_s"])
    return {**ordered[len(ordered) // 2], "runs_per_s": [round(r["per_s"]) for r in runs],
            "cpu_ms_runs": [r["cpu_ms"] for r in runs]}


def prepare(url: str) -> int:
    """A fresh database with the demo county (`make run`'s: cases at every stage, returned,
    rejected, enrolled), a case at 入户核实 for every other household, and every member of
    every household following the account: the farmers who ask 「进度」 have a case. Returns
    how many farmers there are (an odd number, so that each goes through the whole mix)."""
    os.environ["FANGFAN_DATABASE_URL"] = url
    from sqlalchemy import select, text

    engine = make_engine(url)
    if url.startswith("postgresql"):
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
    upgrade(engine)
    from approvals.record.calendar import FixedClock
    from approvals.record.models import Case, Household, Member
    from fangfan import demo
    from fangfan.services import build

    services = build(engine=engine)
    demo.load(services)
    with services.database.session_scope() as s:
        without = s.scalars(select(Household.id).where(Household.id.not_in(
            select(Case.household_id)))).all()
    applying = demo.Demo(services, FixedClock(services.clock.now()))
    for household_id in without:
        applying.apply(household_id, 0, risk_types=["illness"], category="sudden",
                       filed_by="farmer:bench")
    with services.database.session_scope() as s:
        members = s.scalars(select(Member).order_by(Member.id)).all()
        farmers = len(members) - (1 - len(members) % 2)
        for k, member in enumerate(members[:farmers]):
            member.openid = f"o_bench_{k}"
    engine.dispose()
    return farmers


def production_env(tmp: Path) -> dict[str, str]:
    """What a production web process is started with: dev_mode off, secrets of its own, and
    a config whose base_url is https (fangfan.production refuses anything less)."""
    raw = yaml.safe_load((ROOT / "config.yaml").read_text(encoding="utf-8"))
    raw["notifications"]["base_url"] = "https://fangfan.bench.invalid"
    (tmp / "config.yaml").write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    return {"FANGFAN_CONFIG": str(tmp / "config.yaml"), "FANGFAN_DEV_MODE": "false",
            "FANGFAN_SECRET_KEY": "fangfan-bench-" + "x" * 32,
            "FANGFAN_WECHAT_MP_TOKEN": TOKEN, "FANGFAN_WECHAT_MP_ENCODING_AES_KEY": AES_KEY,
            "FANGFAN_WECHAT_MP_APP_SECRET": "fangfan-bench-app-secret"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--mix", choices=sorted(MIXES), default="questions",
                        help="what the farmers say (MIXES)")
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=3, help="runs of each server, in turns")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn processes")
    parser.add_argument("--threads", type=int, default=1, help="threads per gunicorn process")
    args = parser.parse_args()
    if not shutil.which("wrk"):
        raise SystemExit("wrk not found: apt-get install wrk")
    tmp = Path(tempfile.mkdtemp(prefix="fangfan-bench-"))
    url = ensure_database() if args.db == "postgresql" else f"sqlite:///{tmp / 'bench.db'}"
    load = Load(MIXES[args.mix], prepare(url))
    env = {**os.environ, **production_env(tmp), "FANGFAN_DATABASE_URL": url,
           "FANGFAN_MEDIA_DIR": str(tmp / "media")}
    procs = []
    try:
        echo_port, bot_port = free_port(), free_port()
        echo_server = start("bench.echo_bot:app", echo_port, args.workers, args.threads, env)
        procs.append(echo_server)
        bot_server = start("fangfan.wsgi:app", bot_port, args.workers, args.threads, env)
        procs.append(bot_server)
        wrk(echo_server, echo_port, 3, 8, load)
        wrk(bot_server, bot_port, 3, 8, load)  # warm up both
        # in turns, each the median of --rounds runs: the echo bot, which does almost
        # nothing per request, swings by 2x from one run to the next on this machine
        echo_runs, bot_runs = [], []
        for _ in range(args.rounds):
            echo_runs.append(wrk(echo_server, echo_port, args.seconds, 32, load))
            bot_runs.append(wrk(bot_server, bot_port, args.seconds, 32, load))
        echo, bot = median_run(echo_runs), median_run(bot_runs)
        half = echo["per_s"] / 2
        paced = paced_run(bot_server, bot_port, args.seconds, half, load)
    finally:
        for proc in procs:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(10)
        shutil.rmtree(tmp, ignore_errors=True)
    echo_cpu = statistics.median(r["cpu_ms"] for r in echo_runs)
    bot_cpu = statistics.median(r["cpu_ms"] for r in bot_runs)
    cpu_ratio = echo_cpu / bot_cpu
    result = {"db": args.db, "mix": args.mix, "farmers": load.farmers,
              "gunicorn_workers": args.workers, "echo": echo, "fangfan": bot,
              "ratio": round(bot["per_s"] / echo["per_s"], 2), "cpu_ratio": round(cpu_ratio, 2),
              "paced_target_per_s": round(half), "paced": paced}
    print(f"echo bot (Flask + wechatpy, no database): {echo['per_s']:.0f} req/s (median of "
          f"{echo['runs_per_s']}), p50 {echo['p50_ms']:.2f} ms, p99 {echo['p99_ms']:.2f} ms")
    print(f"fangfan ({args.db}, {args.mix}): {bot['per_s']:.0f} req/s "
          f"(median of {bot['runs_per_s']}), "
          f"p50 {bot['p50_ms']:.2f} ms, p99 {bot['p99_ms']:.2f} ms  → {result['ratio']:.2f}× echo")
    print(f"server CPU per request (median): echo {echo_cpu:.3f} ms, fangfan {bot_cpu:.3f} ms"
          f" → fangfan does {result['cpu_ratio']:.2f}× the echo's requests per CPU second")
    print(f"fangfan paced at {half:.0f}/s (half the echo's peak): {paced['per_s']:.0f} req/s, "
          f"p50 {paced['p50_ms']:.2f} ms, p99 {paced['p99_ms']:.2f} ms")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
