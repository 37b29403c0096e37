"""Where the worker's schedule lives and who runs a job when several workers run.

Jobs are kept in the database (APScheduler's SQLAlchemyJobStore, table `scheduler_jobs`,
created by the migrations), so they survive restarts. Every worker has the same jobs; a
run takes a lease on the job's row in `job_leases` first, so only one worker runs a job at
a time, on SQLite and PostgreSQL alike. A worker that dies holding a lease loses it when
the lease runs out.
"""

from __future__ import annotations

import datetime as dt
import os
import socket
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import String, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, mapped_column

from approvals.record.db import Base, Database, rowcount

JOBS_TABLE = "scheduler_jobs"
HOLDER = f"{socket.gethostname()}:{os.getpid()}"


class JobLease(Base):
    __tablename__ = "job_leases"

    job: Mapped[str] = mapped_column(String(64), primary_key=True)
    holder: Mapped[str] = mapped_column(String(128))
    until: Mapped[dt.datetime]


@contextmanager
def lease(database: Database, job: str, now: dt.datetime, length: dt.timedelta,
          holder: str = HOLDER) -> Iterator[bool]:
    """Yields True when this process may run `job` now (and holds it until done)."""
    with database.session_scope() as s:
        taken = rowcount(s.execute(update(JobLease).where(
            JobLease.job == job, (JobLease.until <= now) | (JobLease.holder == holder))
            .values(holder=holder, until=now + length)))
    if not taken:
        try:
            with database.session_scope() as s:
                s.add(JobLease(job=job, holder=holder, until=now + length))
            taken = 1
        except IntegrityError:  # another worker has it
            taken = 0
    try:
        yield bool(taken)
    finally:
        if taken:
            with database.session_scope() as s:
                s.execute(update(JobLease).where(JobLease.job == job, JobLease.holder == holder)
                          .values(until=now))
