"""Create and seed the `items` table once (idempotent), and pre-warm Redis with the hot ids.

python -m app.seed            # schema + rows (if not there yet) + warm cache
"""
import asyncio
import json
import os

import asyncpg
import redis.asyncio as aioredis

DSN = os.environ.get("CAPSIM_STACK_DSN", "postgresql://capsim@127.0.0.1:25432/capsim")
REDIS_PORT = int(os.environ.get("CAPSIM_STACK_REDIS_PORT", "26379"))
N = int(os.environ.get("CAPSIM_STACK_ITEMS", "100000"))
HOT = int(os.environ.get("CAPSIM_STACK_HOT", "1000"))


async def main():
    conn = await asyncpg.connect(DSN)
    await conn.execute(
        """
        CREATE TABLE IF NOT EXISTS items (
            id integer PRIMARY KEY, name text NOT NULL, price double precision NOT NULL,
            counter bigint NOT NULL DEFAULT 0, descr text NOT NULL,
            updated_at timestamptz NOT NULL DEFAULT now());
        CREATE TABLE IF NOT EXISTS job_log (
            id bigserial PRIMARY KEY, item_id integer NOT NULL, digest text NOT NULL,
            created_at timestamptz NOT NULL DEFAULT now());
        """
    )
    have = await conn.fetchval("SELECT count(*) FROM items")
    if have < N:
        await conn.execute(
            """INSERT INTO items (id, name, price, descr)
               SELECT g, 'item-' || lpad(g::text, 6, '0'), (g % 1000) / 10.0 + 1, md5(g::text) || md5((g * 7)::text)
               FROM generate_series(1, $1) g ON CONFLICT (id) DO NOTHING""",
            N,
        )
        await conn.execute("ANALYZE items")
        print(f"seed: items has {N} rows")
    rows = await conn.fetch("SELECT id, name, price, counter, descr FROM items WHERE id <= $1", HOT)
    await conn.close()
    r = aioredis.Redis(host="127.0.0.1", port=REDIS_PORT)
    pipe = r.pipeline(transaction=False)
    for rec in rows:
        pipe.set(f"item:{rec['id']}", json.dumps(dict(rec)))  # hot set: no TTL
    await pipe.execute()
    await r.aclose()
    print(f"seed: {len(rows)} hot items cached")


if __name__ == "__main__":
    asyncio.run(main())
