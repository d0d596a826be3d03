"""The validation stack's ASGI app (main), arq worker (worker), CPU work (cpuwork), spans (telemetry)."""
