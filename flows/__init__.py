"""Prefect flows, the CLI and everything that touches files: the edges of inflow."""

import os

# Nothing phones home, whoever starts inflow (the Makefile sets these too).
for _name, _value in (
    ("PREFECT_SERVER_ANALYTICS_ENABLED", "false"),
    ("GX_ANALYTICS_ENABLED", "false"),
    ("DO_NOT_TRACK", "1"),
):
    os.environ.setdefault(_name, _value)
