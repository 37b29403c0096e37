"""The roster a run screens, read from the record: every member still in a household, with the
household's village and township; the key groups' scope."""

from __future__ import annotations

from sqlalchemy import select, update

from approvals.record.models import Household, Member, MonitoringStatus, Place
from approvals.screening import engine
from tests.db import session_scope
from tests.support.world import World


def test_the_roster_is_every_member_still_in_a_household(world: World) -> None:
    with session_scope() as s:
        first, second = s.scalars(select(Household.id).order_by(Household.id).limit(2)).all()
        s.execute(update(Household).where(Household.id == first)
                  .values(monitoring=MonitoringStatus.MONITORED))
        s.execute(update(Household).where(Household.id == second).values(formerly_poor=True))
        gone = s.scalars(select(Member).where(Member.household_id == first)
                         .order_by(Member.id.desc())).first()
        assert gone is not None
        gone.left_on = world.clock.now().date()
        members = s.execute(select(Member.id_number, Member.household_id, Place.parent_id)
                            .join(Household, Household.id == Member.household_id)
                            .join(Place, Place.id == Household.village_id)
                            .where(Member.left_on.is_(None))).all()
        gone_id = gone.id_number
        key_groups = set(s.scalars(select(Household.id).where(
            Household.formerly_poor | (Household.monitoring != MonitoringStatus.NONE))))
        assert {first, second} <= key_groups < set(s.scalars(select(Household.id)))
    url = world.services.database.engine.url
    everyone, key = engine.roster(url, "all"), engine.roster(url, "key")
    assert everyone.height == len(members) > 0
    assert gone_id not in everyone.get_column("id_number").to_list()
    assert sorted(everyone.select("id_number", "household_id", "township_id").rows()) == sorted(
        tuple(m) for m in members)
    assert everyone.get_column("in_scope").all()
    assert key.height == everyone.height  # all known ...
    assert set(key.filter("in_scope").get_column("household_id")) == key_groups  # ... key
