"""The validation stack's API: Starlette under uvicorn (uvloop, httptools).

Routes (each adds CAPSIM_STACK_CPU_MS of real CPU work, a "render" span):
  GET  /items/{id}  Redis GET; on a miss a Postgres SELECT on `items`, then a Redis SET with a TTL
  POST /items       UPDATE of one row of `items` on the primary, through the asyncpg pool
  POST /jobs        enqueue an arq job `process_item` (the worker does its own SELECT + INSERT)
  GET  /health      liveness (no spans)
  GET  /noop        nothing (no spans): the HTTP path's own round trip, for the experiment
Spans follow the contract in validation/README.md (service.name "api").
"""
from __future__ import annotations

import asyncio
import contextlib
import json
import os
import time

import asyncpg
import redis.asyncio as aioredis
from arq.connections import RedisSettings, create_pool
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from . import cpuwork
from .telemetry import CLIENT, INTERNAL, PRODUCER, SERVER, Tracer

DSN = os.environ.get("CAPSIM_STACK_DSN", "postgresql://capsim@127.0.0.1:25432/capsim")
REDIS_PORT = int(os.environ.get("CAPSIM_STACK_REDIS_PORT", "26379"))
CPU_MS = float(os.environ.get("CAPSIM_STACK_CPU_MS", "4"))
POOL_SIZE = int(os.environ.get("CAPSIM_STACK_POOL_SIZE", "8"))
CACHE_TTL = int(os.environ.get("CAPSIM_STACK_CACHE_TTL", "30"))
QUEUE = "arq:queue"
JOB = "process_item"

tracer = Tracer("api")
state: dict = {}


async def pg_acquire(parent):
    """pool.acquire span around the wait for a connection; returns the connection."""
    s = parent.child(
        "pool.acquire",
        INTERNAL,
        {"db.system.name": "postgresql", "capsim.pool.name": "primary", "capsim.pool.size": POOL_SIZE},
    )
    conn = await state["pool"].acquire()
    s.finish()
    return conn


def pg_span(parent, op, table):
    return parent.child(
        f"postgresql {op} {table}",
        CLIENT,
        {
            "db.system.name": "postgresql",
            "db.operation.name": op,
            "db.collection.name": table,
            "capsim.db.node": "primary",
        },
    )


async def get_item(request: Request):
    span = request.scope["capsim.span"]
    item_id = int(request.path_params["id"])
    key = f"item:{item_id}"
    r = state["redis"]
    s = span.child("redis GET", CLIENT, {"db.system.name": "redis", "db.operation.name": "GET"})
    raw = await r.get(key)
    s.attrs["capsim.cache.hit"] = raw is not None
    s.finish()
    if raw is not None:
        row = json.loads(raw)
    else:
        conn = await pg_acquire(span)
        try:
            with pg_span(span, "SELECT", "items"):
                rec = await conn.fetchrow("SELECT id, name, price, counter, descr FROM items WHERE id = $1", item_id)
        finally:
            await state["pool"].release(conn)
        if rec is None:
            return JSONResponse({"error": "not found"}, status_code=404)
        row = dict(rec)
        with span.child("redis SET", CLIENT, {"db.system.name": "redis", "db.operation.name": "SET"}):
            await r.set(key, json.dumps(row), ex=CACHE_TTL)
    with span.child("render", INTERNAL):
        digest = cpuwork.work(row, CPU_MS)
    return JSONResponse({"item": row, "digest": digest})


async def post_item(request: Request):
    span = request.scope["capsim.span"]
    body = await request.json()
    item_id = int(body.get("id", 1))
    conn = await pg_acquire(span)
    try:
        with pg_span(span, "UPDATE", "items"):
            rec = await conn.fetchrow(
                "UPDATE items SET counter = counter + 1, price = $2, updated_at = now() WHERE id = $1 "
                "RETURNING id, name, price, counter, descr",
                item_id,
                float(body.get("price", 1.0)),
            )
    finally:
        await state["pool"].release(conn)
    if rec is None:
        return JSONResponse({"error": "not found"}, status_code=404)
    row = dict(rec)
    with span.child("render", INTERNAL):
        digest = cpuwork.work(row, CPU_MS)
    return JSONResponse({"item": row, "digest": digest}, status_code=200)


async def post_job(request: Request):
    span = request.scope["capsim.span"]
    body = await request.json()
    item_id = int(body.get("id", 1))
    p = span.child(
        f"arq enqueue {JOB}",
        PRODUCER,
        {"messaging.system": "arq", "messaging.destination.name": QUEUE, "messaging.operation.type": "send"},
    )
    job = await state["arq"].enqueue_job(
        JOB, item_id=item_id, traceparent=p.traceparent(), enqueue_time_ns=time.time_ns()
    )
    p.finish()
    row = {"id": item_id, "job": job.job_id if job else None}
    with span.child("render", INTERNAL):
        digest = cpuwork.work(row, CPU_MS)
    return JSONResponse({"job": row["job"], "digest": digest}, status_code=202)


async def noop(request: Request):
    """No work and no spans: the round trip of the HTTP path alone (client, loopback, uvicorn)."""
    return Response(b"{}", media_type="application/json")


async def health(request: Request):
    try:
        await asyncio.wait_for(state["redis"].ping(), 2)
        async with state["pool"].acquire() as c:
            await c.fetchval("SELECT 1")
    except Exception as e:  # noqa: BLE001
        return JSONResponse({"ok": False, "error": str(e)}, status_code=503)
    return JSONResponse({"ok": True, "pid": os.getpid(), "iters_per_ms": cpuwork.iters_per_ms()})


async def _periodic_flush():
    while True:
        await asyncio.sleep(2.0)
        tracer.flush()


@contextlib.asynccontextmanager
async def lifespan(app):
    cpuwork.iters_per_ms()
    state["pool"] = await asyncpg.create_pool(DSN, min_size=POOL_SIZE, max_size=POOL_SIZE)
    state["redis"] = aioredis.Redis(host="127.0.0.1", port=REDIS_PORT, max_connections=64)
    await state["redis"].ping()
    state["arq"] = await create_pool(RedisSettings(host="127.0.0.1", port=REDIS_PORT))
    flusher = asyncio.get_running_loop().create_task(_periodic_flush())
    try:
        yield
    finally:
        flusher.cancel()
        tracer.close()
        await state["arq"].aclose()
        await state["redis"].aclose()
        await state["pool"].close()


class SpanMiddleware:
    """Pure ASGI middleware: one SERVER span per HTTP request, from the app's first byte of the
    request to its last byte of the response (route template from Starlette's scope["route"])."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or scope["path"] in ("/health", "/noop") or not tracer.enabled:
            return await self.app(scope, receive, send)
        method = scope["method"]
        span = tracer.start_span("", SERVER, attrs={"http.request.method": method})
        scope["capsim.span"] = span
        status = [500]

        async def send_wrap(msg):
            if msg["type"] == "http.response.start":
                status[0] = msg["status"]
            await send(msg)

        try:
            await self.app(scope, receive, send_wrap)
        finally:
            route = scope.get("route")
            path = getattr(route, "path", None) or scope["path"]
            span.name = f"{method} {path}"
            span.attrs["http.route"] = path
            span.attrs["http.response.status_code"] = status[0]
            span.finish()


routes = [
    Route("/items/{id}", get_item, methods=["GET"]),
    Route("/items", post_item, methods=["POST"]),
    Route("/jobs", post_job, methods=["POST"]),
    Route("/health", health, methods=["GET"]),
    Route("/noop", noop, methods=["GET"]),
]

_inner = Starlette(routes=routes, lifespan=lifespan)
app = SpanMiddleware(_inner)  # lifespan messages pass through to Starlette
