"""The `inflow` command line: parses flags, reads settings, runs flows, prints results."""

import flows  # noqa: F401  (first: it sets the environment in which nothing phones home)
