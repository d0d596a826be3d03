"""arq worker: `arq app.worker.WorkerSettings` (service.name "worker").

Job `process_item(item_id, traceparent, enqueue_time_ns)`: a CONSUMER span whose parent is the
API's PRODUCER span (context carried in the job's kwargs), a SELECT of the item, CAPSIM_STACK_JOB_CPU_MS
of CPU work, and an INSERT into job_log, each with its own CLIENT span.
"""
import asyncio
import os

import asyncpg
from arq.connections import RedisSettings

from . import cpuwork
from .telemetry import CLIENT, CONSUMER, INTERNAL, Tracer, parse_traceparent

DSN = os.environ.get("CAPSIM_STACK_DSN", "postgresql://capsim@127.0.0.1:25432/capsim")
REDIS_PORT = int(os.environ.get("CAPSIM_STACK_REDIS_PORT", "26379"))
JOB_CPU_MS = float(os.environ.get("CAPSIM_STACK_JOB_CPU_MS", "2"))
MAX_JOBS = int(os.environ.get("CAPSIM_STACK_WORKER_JOBS", "4"))
POLL_S = float(os.environ.get("CAPSIM_STACK_POLL_MS", "5")) / 1000.0

tracer = Tracer("worker")


def _pg(parent, op, table):
    return parent.child(
        f"postgresql {op} {table}",
        CLIENT,
        {"db.system.name": "postgresql", "db.operation.name": op, "db.collection.name": table,
         "capsim.db.node": "primary"},
    )


async def process_item(ctx, item_id: int, traceparent: str = "", enqueue_time_ns: int = 0):
    trace_id, parent_id = parse_traceparent(traceparent)
    span = tracer.start_span(
        "arq process process_item",
        CONSUMER,
        trace_id=trace_id,
        parent_id=parent_id,
        attrs={
            "messaging.system": "arq",
            "messaging.operation.type": "process",
            "messaging.destination.name": "arq:queue",
            "capsim.job.enqueue_time_unix_nano": int(enqueue_time_ns),
            "capsim.worker.concurrency": MAX_JOBS,
        },
    )
    pool = ctx["pg"]
    try:
        async with pool.acquire() as conn:
            with _pg(span, "SELECT", "items"):
                rec = await conn.fetchrow("SELECT id, name, price, counter, descr FROM items WHERE id = $1", item_id)
        row = dict(rec) if rec else {"id": item_id}
        with span.child("render", INTERNAL):
            digest = cpuwork.work(row, JOB_CPU_MS)
        async with pool.acquire() as conn:
            with _pg(span, "INSERT", "job_log"):
                await conn.execute("INSERT INTO job_log (item_id, digest) VALUES ($1, $2)", item_id, digest)
    finally:
        span.finish()
    return None


async def _flusher():
    while True:
        await asyncio.sleep(2.0)
        tracer.flush()


async def startup(ctx):
    cpuwork.iters_per_ms()
    ctx["pg"] = await asyncpg.create_pool(DSN, min_size=2, max_size=MAX_JOBS)
    ctx["flusher"] = asyncio.get_running_loop().create_task(_flusher())


async def shutdown(ctx):
    ctx["flusher"].cancel()
    tracer.close()
    await ctx["pg"].close()


class WorkerSettings:
    functions = [process_item]
    redis_settings = RedisSettings(host="127.0.0.1", port=REDIS_PORT)
    max_jobs = MAX_JOBS
    poll_delay = POLL_S
    keep_result = 0
    on_startup = startup
    on_shutdown = shutdown
    handle_signals = True
    health_check_interval = 3600


if __name__ == "__main__":
    # `python -m app.worker`: arq's worker with its per-job INFO log lines off (they cost CPU on
    # the shared core at hundreds of jobs/s)
    import logging

    from arq.worker import run_worker

    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    run_worker(WorkerSettings)
