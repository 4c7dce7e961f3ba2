"""Prefect flows, the CLI and everything that touches files: the edges of inflow."""

import os

# Nothing phones home, whoever starts inflow: the one place these are set. Everything that
# imports Prefect or great-expectations imports this package first (the CLI, tests, bench),
# and a Prefect or GX subprocess started from there inherits the environment.
for _name, _value in (
    ("PREFECT_SERVER_ANALYTICS_ENABLED", "false"),
    ("GX_ANALYTICS_ENABLED", "false"),
    ("DO_NOT_TRACK", "1"),
):
    os.environ.setdefault(_name, _value)

# Prefect gives its temporary local server 20 s to start. It takes about 7 s on an idle machine,
# but a nightly run on a busy one (a rebuild or a test run on the same 2 cores) timed out and
# failed before doing anything: wait up to 2 minutes unless the user says otherwise.
os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "120")
