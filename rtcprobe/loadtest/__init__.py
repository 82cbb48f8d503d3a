"""`rtcprobe load`: many real probe sessions against one target, and their summary.

The same `ProbeSession` a capture runs, many at once: `worker.run_worker` runs a share of the
sessions in one asyncio loop (ramped, capped); `backends` spreads the shares over local worker
processes (one per core) or Ray tasks — the same function either way; `outcome` reads each capture
into a few figures and `summary` aggregates them (completed, failed by reason, percentiles).
"""
