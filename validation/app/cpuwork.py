"""Real CPU work per request: render a payload and hash it with sha256 in a loop.

The loop count comes from CAPSIM_STACK_CPU_ITERS_PER_MS (start.sh measures it once, on the API's
CPU, with `python -m app.cpuwork`, so the API and worker processes use the same figure), else from a
calibration at import. The work holds the GIL and blocks the event loop, as a real handler's
rendering does.
"""
import hashlib
import json
import os
import sys
import time

_sha = hashlib.sha256


def render(row: dict, n: int = 8) -> bytes:
    # a ~1 KB payload, like a rendered JSON response
    return json.dumps({"item": row, "related": [dict(row, rank=i) for i in range(n)]}).encode()


def spin(payload: bytes, iters: int) -> str:
    h = b""
    for _ in range(iters):
        h = _sha(payload + h).digest()
    return h.hex()


_ROW = {"id": 1, "name": "item-000001", "price": 12.5, "counter": 0, "descr": "x" * 64}


def measure(total_ms: float = 300.0) -> float:
    """Iterations per ms, measured on a warm CPU (best of several blocks)."""
    payload = render(_ROW)
    spin(payload, 2000)  # warm up
    best = 0.0
    t_end = time.perf_counter() + total_ms / 1000
    while time.perf_counter() < t_end:
        t0 = time.perf_counter()
        spin(payload, 500)
        dt = time.perf_counter() - t0
        best = max(best, 500 / (dt * 1000))
    return best


_PLEN = len(render(_ROW))
_ipm = float(os.environ.get("CAPSIM_STACK_CPU_ITERS_PER_MS", "0") or 0) or None


def iters_per_ms() -> float:
    global _ipm
    if _ipm is None:
        _ipm = measure()
    return _ipm


def work(row: dict, ms: float) -> str:
    """Render `row` and hash it for about `ms` ms of CPU on a warm core. The payload is brought to
    the calibration payload's length so that a loop iteration costs the same for every route."""
    payload = render(row)
    if len(payload) != _PLEN:
        payload = (payload * (_PLEN // max(1, len(payload)) + 1))[:_PLEN]
    return spin(payload, max(1, int(ms * iters_per_ms())))


if __name__ == "__main__":
    print(f"{measure(float(sys.argv[1]) if len(sys.argv) > 1 else 400.0):.2f}")
