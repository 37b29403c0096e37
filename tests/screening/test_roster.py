"""The roster a run screens, read from the record: every member still in a household, with the
household's village and township; the key groups' scope."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from sqlalchemy import select, update

from approvals.record.db import Database
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


def test_reading_the_roster_leaves_the_processs_own_connections_working(world: World) -> None:
    """On SQLite the roster is read by a second copy of SQLite (ADBC's): in this process it
    deleted the WAL under the process's own connections, and every later statement failed
    with 'disk I/O error'."""
    database = world.services.database
    with session_scope() as s:
        s.execute(update(Household).values(declared_size=3))
    wal = Path(f"{database.engine.url.database}-wal")
    had_wal = wal.exists()
    engine.roster(database.engine.url, "all")
    assert wal.exists() == had_wal or database.dialect != "sqlite"
    fresh = Database(database.engine)  # a connection the pool has not opened yet
    with session_scope() as s:
        first = s.scalars(select(Household.id).order_by(Household.id).limit(1)).one()
    done = ThreadPoolExecutor(4).map(lambda n: _write_and_read(fresh, first, n), range(3, 9))
    assert list(done) == list(range(3, 9))


def _write_and_read(database: Database, household: int, size: int) -> int:
    with database.session_scope() as s:
        s.execute(update(Household).where(Household.id == household)
                  .values(declared_size=size))
        return int(s.scalar(select(Household.declared_size)
                            .where(Household.id == household)) or 0)
