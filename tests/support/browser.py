"""How the suite starts Debian's Chromium: no browser download, nothing leaves the machine."""

from __future__ import annotations

from pathlib import Path

CHROMIUM = Path("/usr/bin/chromium")

# The background-networking flags keep Chromium from dialling out on a closed network,
# where each refused connection slows start-up; --no-sandbox because CI runs as root.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]

# A failing wait should fail the test in seconds, not after Playwright's 30 s default.
DEFAULT_TIMEOUT_MS = 10_000
