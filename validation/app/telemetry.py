"""A small span recorder that writes the OTLP JSON file-exporter format (see
/work/briefs/span-contract.md, summarised in validation/README.md).

No OpenTelemetry SDK: a span is a small list while it is open; finished spans are buffered and
written as one `ExportTraceServiceRequest` JSON object per line to
`$CAPSIM_SPANS_DIR/<service>-<pid>.jsonl`, in batches, and on shutdown (flush() is called from the
app's lifespan / the worker's on_shutdown, and from atexit as a backstop).
"""
from __future__ import annotations

import atexit
import json
import os
import random
import time

INTERNAL, SERVER, CLIENT, PRODUCER, CONSUMER = 1, 2, 3, 4, 5

_rand = random.Random(int.from_bytes(os.urandom(8), "little"))
_getrandbits = _rand.getrandbits
_now = time.time_ns


def new_trace_id() -> str:
    return "%032x" % (_getrandbits(128) | 1)


def new_span_id() -> str:
    return "%016x" % (_getrandbits(64) | 1)


def _attr(k, v):
    if isinstance(v, bool):
        return {"key": k, "value": {"boolValue": v}}
    if isinstance(v, int):
        return {"key": k, "value": {"intValue": str(v)}}
    if isinstance(v, float):
        return {"key": k, "value": {"doubleValue": v}}
    return {"key": k, "value": {"stringValue": str(v)}}


class Span:
    __slots__ = ("tracer", "trace_id", "span_id", "parent_id", "name", "kind", "start", "end", "attrs")

    def __init__(self, tracer, name, kind, trace_id, parent_id, attrs, start=None):
        self.tracer = tracer
        self.trace_id = trace_id
        self.span_id = new_span_id()
        self.parent_id = parent_id
        self.name = name
        self.kind = kind
        self.attrs = attrs
        self.start = _now() if start is None else start
        self.end = 0

    def child(self, name, kind=INTERNAL, attrs=None):
        return Span(self.tracer, name, kind, self.trace_id, self.span_id, attrs if attrs is not None else {})

    def set(self, key, value):
        self.attrs[key] = value

    def finish(self, end=None):
        self.end = _now() if end is None else end
        self.tracer._finished(self)

    # `with parent.child(...) as s:` times a block
    def __enter__(self):
        return self

    def __exit__(self, et, ev, tb):
        self.finish()
        return False

    def traceparent(self) -> str:
        return f"00-{self.trace_id}-{self.span_id}-01"


class Tracer:
    def __init__(self, service: str, spans_dir: str | None = None, batch: int = 512):
        self.service = service
        self.dir = spans_dir if spans_dir is not None else os.environ.get("CAPSIM_SPANS_DIR", "")
        self.batch = batch
        self.buf: list[Span] = []
        self.path = None
        self.fh = None
        self.pid = None
        self.spans_written = 0
        if self.dir:
            os.makedirs(self.dir, exist_ok=True)
        atexit.register(self.flush)

    @property
    def enabled(self) -> bool:
        return bool(self.dir)

    def start_span(self, name, kind, trace_id=None, parent_id=None, attrs=None, start=None) -> Span:
        return Span(self, name, kind, trace_id or new_trace_id(), parent_id, attrs if attrs is not None else {}, start)

    def _finished(self, span: Span):
        if not self.dir:
            return
        self.buf.append(span)
        if len(self.buf) >= self.batch:
            self.flush()

    def _open(self):
        pid = os.getpid()
        if self.fh is None or self.pid != pid:  # reopen after a fork
            self.pid = pid
            self.path = os.path.join(self.dir, f"{self.service}-{pid}.jsonl")
            self.fh = open(self.path, "a", encoding="utf-8")
        return self.fh

    def flush(self):
        if not self.buf or not self.dir:
            return
        spans, self.buf = self.buf, []
        out = []
        for s in spans:
            d = {
                "traceId": s.trace_id,
                "spanId": s.span_id,
                "name": s.name,
                "kind": s.kind,
                "startTimeUnixNano": str(s.start),
                "endTimeUnixNano": str(s.end),
                "attributes": [_attr(k, v) for k, v in s.attrs.items()],
                "status": {},
            }
            if s.parent_id:
                d["parentSpanId"] = s.parent_id
            out.append(d)
        line = json.dumps(
            {
                "resourceSpans": [
                    {
                        "resource": {
                            "attributes": [
                                _attr("service.name", self.service),
                                _attr("process.pid", os.getpid()),
                            ]
                        },
                        "scopeSpans": [{"scope": {"name": "capsim-validation", "version": "1"}, "spans": out}],
                    }
                ]
            },
            separators=(",", ":"),
        )
        fh = self._open()
        fh.write(line + "\n")
        fh.flush()
        self.spans_written += len(spans)

    def close(self):
        self.flush()
        if self.fh is not None:
            self.fh.close()
            self.fh = None


def parse_traceparent(tp: str | None):
    """'00-<trace>-<span>-01' -> (trace_id, span_id) or (None, None)."""
    if not tp:
        return None, None
    parts = tp.split("-")
    if len(parts) != 4 or len(parts[1]) != 32 or len(parts[2]) != 16:
        return None, None
    return parts[1], parts[2]
