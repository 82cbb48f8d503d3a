"""`rtcprobe watch`: the same probe session on a schedule, a history directory, and the changes.

history.py owns the directory (its marker, runs/, changes.jsonl); runner.py runs one capture (and
optionally the matrix) and compares it; trends.py reads a history into per-run numbers for
`rtcprobe report DIR` (html.py renders them).
"""
