"""Odd parameters are a 400 or a 404 page, never a 500: every route of the app (app.url_map)
over real HTTP, anonymously and signed in, with ids past the database's integer, Unicode
digits, NUL bytes, bytes that are not UTF-8 and numbers no field can hold, in the path, the
query and the form. Run on SQLite and on PostgreSQL (FANGFAN_TEST_DATABASE_URL)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from urllib.parse import quote

from flask import Flask

from approvals.record.definitions import Stage
from fangfan.app import create_app
from fangfan.services import Services
from tests.support.web import Browser, anonymous, cadre, signed_in
from tests.support.world import World

# raw, already percent-escaped as they go on the wire
ODD = ["99999999999999999999", "2147483648", "-1", "%C2%B2", "%D9%A3", "%00", "1%00",
       "%FF%FE", "%C0%AF", "1e999", "NaN", "-Infinity", "9" * 400, "%E4%B8%AD" * 50]
QUERY_KEYS = ["page", "place", "cadre", "village", "stage", "q", "next", "after", "age",
              "from", "to", "sort", "source", "risk", "category", "overdue", "monitored",
              "saved", "openid", "state", "code"]
FORM_KEYS = ["verdict", "return_to", "reason", "reason_typed", "posted_on", "where",
             "raised_by", "content", "result", "handling", "to", "transfer_reason",
             "stand_in", "from", "kind", "kind_other", "subtype", "description", "unit",
             "amount", "planned_on", "task", "opinion", "cadre_id", "code", "next", "stage",
             "visitors", "visited_on", "risk", "income_estimate", "findings", "meeting_on",
             "attendance", "votes_for", "votes_against", "minutes", "comparison", "category",
             "paired_cadre_id", "measure_kind", "measure_description", "measure_planned_on",
             "members", "wage", "business", "property", "transfer", "production_costs",
             "out_of_pocket", "notes", "weak_motivation", "starts_on", "ends_on",
             "annual_social_security", "annual_schooling", "annual_employment",
             "member_id", "member_name", "member_relation", "member_id_number",
             "member_labour", "member_status", "medical", "education", "disaster",
             "secure_housing", "secure_drinking_water", "category-1", "paired_cadre_id-1",
             "measure_kind-1", "expected", "abstentions", "grounds", "review_reason", "note"]
SKIP = {"/wechat/mp"}  # the webhook's odd bodies are tests/bot's (signed XML, not forms)


def rules(app: Flask) -> Iterator[tuple[str, list[str], set[str]]]:
    for rule in app.url_map.iter_rules():
        if rule.rule in SKIP or rule.endpoint == "static":
            continue
        yield rule.rule, sorted(rule.arguments), set(rule.methods or ()) - {"HEAD", "OPTIONS"}


def path(rule: str, values: dict[str, str]) -> str:
    return re.sub(r"<(?:[a-z]+:)?([a-z_]+)>", lambda m: values[m.group(1)], rule)


def requests_for(app: Flask, known: dict[str, str]) -> Iterator[tuple[str, str, str | None]]:
    """(method, raw path and query, raw form body or None)."""
    for rule, args, methods in rules(app):
        normal = {a: known.get(a, "1") for a in args}
        base = path(rule, normal)
        urls = [path(rule, {**normal, a: odd}) for a in args for odd in ODD]
        urls += [base + "?" + "&".join(f"{k}={odd}" for k in QUERY_KEYS) for odd in ODD]
        for method in sorted(methods):
            for url in urls:
                yield method, url, None
            if method == "POST":
                for odd in ODD:
                    yield method, base, "&".join(f"{k}={odd}" for k in FORM_KEYS)


def send(browser: Browser, method: str, url: str, form: str | None) -> int:
    if method == "GET":
        return browser.get(url).status_code
    body = f"csrf_token={quote(browser.token)}&{form}" if form is not None else None
    return browser.http.request(
        method, browser.site + url, data=body, allow_redirects=False, timeout=30,
        headers={"Content-Type": "application/x-www-form-urlencoded"}).status_code


def test_odd_parameters_never_give_a_500(services: Services, world: World,
                                         site: str) -> None:
    case = world.apply(world.household())
    task = world.open_task(case)
    known = {"case_id": str(case), "task_id": str(task.id),
             "household_id": str(world.household()), "village_id": str(world.case(case)
                                                                        .village_id),
             "name": "roster.csv", "kind": "households", "stage": Stage.HOME_VERIFICATION}
    app = create_app(services)
    browsers = {"anonymous": anonymous(site),
                "village cadre": signed_in(site, cadre("village_cadre", "东沟村")),
                "county": signed_in(site, cadre("supervisor"))}
    failures, sent = [], 0
    for who, browser in browsers.items():
        for method, url, form in requests_for(app, known):
            status = send(browser, method, url, form)
            sent += 1
            if status >= 500:
                failures.append(f"{who} {method} {url[:120]} {(form or '')[:60]} → {status}")
    assert sent > 1000
    assert not failures, "\n".join(failures[:40]) + f"\n({len(failures)} of {sent})"


def test_the_examples_of_the_review(site: str, world: World) -> None:
    village = signed_in(site, cadre("village_cadre", "东沟村"))
    assert village.get("/c/99999999999999999999").status_code == 404
    assert village.get("/c/2147483648").status_code == 404
    assert village.get("/inbox?page=%C2%B2").status_code == 200  # the default page
    assert village.get("/inbox?q=%00").status_code == 400
    nul = village.post("/t/1/transfer", {"transfer_reason": "a\x00b", "to": "1"})
    assert nul.status_code == 400 and "提交的内容有误" in nul.text
    assert anonymous(site).get("/login?next=%00").status_code == 400
