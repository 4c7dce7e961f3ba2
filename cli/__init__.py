"""The `inflow` command line: parses flags, reads settings, runs flows, prints results."""
