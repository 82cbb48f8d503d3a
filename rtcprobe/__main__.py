"""`python -m rtcprobe`: the same as the `rtcprobe` command."""

import sys

from .cli import main

sys.exit(main())
