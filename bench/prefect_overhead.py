"""What a Prefect run costs here: a sync flow run, an async flow run, a task run in a flow.

    .venv/bin/python bench/prefect_overhead.py      # against a temporary local Prefect server

The figures decide how fangfan advances cases (docs/architecture.md): a flow run per
decision would cap the system at a few decisions a second, so flows advance batches.
"""

from __future__ import annotations

import asyncio
import statistics
import time

from prefect import flow, task
from prefect.testing.utilities import prefect_test_harness


@task
def step(i: int) -> int:
    return i


@flow
def sync_flow() -> int:
    return 1


@flow
async def async_flow() -> int:
    return 1


@flow
def many_tasks(n: int) -> float:
    t0 = time.perf_counter()
    for i in range(n):
        step(i)
    return (time.perf_counter() - t0) / n


def timed(fn, runs: int) -> float:
    samples = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - t0)
    return statistics.median(samples)


def main() -> None:
    with prefect_test_harness(server_startup_timeout=120):
        sync_flow()  # warm up
        print(f"sync flow run:   {timed(sync_flow, 10) * 1e3:7.1f} ms (median of 10)")
        print(f"async flow run:  {timed(lambda: asyncio.run(async_flow()), 10) * 1e3:7.1f} ms")
        print(f"task run in flow:{many_tasks(200) * 1e3:7.1f} ms (mean of 200)")


if __name__ == "__main__":
    main()
