"""`/` over real HTTP: anonymous visitors, and cadres who signed out, are sent to sign in and see
no household's name; a cadre lands on their own start page, scoped to their jurisdiction."""

from __future__ import annotations

from sqlalchemy import select

from approvals.record.models import Member
from tests.db import session_scope
from tests.support.web import Browser, anonymous, cadre, signed_in
from tests.support.world import World


def heads() -> set[str]:
    with session_scope() as s:
        return set(s.scalars(select(Member.name).where(Member.is_head)))


def head_of(household_id: int) -> str:
    with session_scope() as s:
        return s.scalars(select(Member.name).where(Member.household_id == household_id,
                                                   Member.is_head)).one()


def assert_sent_to_sign_in_without_names(visitor: Browser) -> None:
    """`/` sends `visitor` to sign in, and no household head's name is on the way there."""
    names = heads()
    assert names  # the demo roster's heads: something a page could give away
    res = visitor.get("/")
    assert res.status_code == 302 and res.headers["Location"].startswith("/login")
    followed = visitor.http.get(visitor.site + "/", timeout=30)
    assert followed.url.startswith(f"{visitor.site}/login")
    assert not {name for name in names if name in res.text + followed.text}


def test_anonymous_gets_sign_in_and_no_names(site: str, world: World) -> None:
    for village in ("东沟村", "西坡村", "南滩村"):
        world.apply(world.household(village))
    assert_sent_to_sign_in_without_names(anonymous(site))


def test_a_cadre_who_signed_out_gets_sign_in_and_no_names(site: str, world: World) -> None:
    mine = world.household("东沟村")
    world.apply(mine)
    village = signed_in(site, cadre("village_cadre", "东沟村"))
    assert head_of(mine) in village.http.get(site + "/", timeout=30).text  # shown while signed in
    out = village.post("/logout")
    assert out.status_code == 302 and out.headers["Location"] == "/login"
    assert_sent_to_sign_in_without_names(village)  # the same browser, its cookie kept


def test_a_village_cadre_starts_on_their_own_villages_work(
        site: str, world: World) -> None:
    mine, theirs = world.household("东沟村"), world.household("南滩村")
    world.apply(mine)
    world.apply(theirs)
    village = signed_in(site, cadre("village_cadre", "东沟村"))
    res = village.get("/")
    assert res.status_code == 302 and res.headers["Location"] == "/inbox"
    page = village.http.get(site + "/", timeout=30).text
    assert head_of(mine) in page
    assert head_of(theirs) not in page
    supervisor = signed_in(site, cadre("supervisor"))
    assert supervisor.get("/").headers["Location"] == "/dashboard"
