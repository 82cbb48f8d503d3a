"""User-space network impairment under aioice (`capture --impair`): the SPEC grammar and presets
(spec), the seeded per-direction model (impair), the socket seam (seam) and the per-session
schedule and records (record)."""
