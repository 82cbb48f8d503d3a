"""Every size, time and count limit of rtcprobe in one place, each with why it has that value.

Slices of the hardening work append here; the README's sections on bad input and on `serve`
quote these values.
"""

from __future__ import annotations

MiB = 1024 * 1024

# -- input files (rtcprobe.errors.open_input) ------------------------------------------------

#: Bytes read from one input file, counted after gunzip: a 4 MB gzip can expand to gigabytes. The
#: largest real dumps seen are ~200 MB of JSON; reading a whole-document format needs about twice
#: this in memory, so 512 MiB keeps a bomb far from a MemoryError. `--max-size` raises it per run.
MAX_INPUT_BYTES = 512 * MiB
#: One line of a line-based record (rtcstats dumps): a getStats line is well under 1 MB; a longer
#: line is skipped with a warning so that one line cannot hold the whole file in memory.
MAX_LINE_BYTES = 64 * MiB
#: JSON nesting depth accepted from any input: real records nest fewer than 10 levels; Python's own
#: json stops at its recursion limit (~1000) and the code that walks the values afterwards needs room.
MAX_JSON_DEPTH = 200
