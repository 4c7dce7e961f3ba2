"""Run identity: every flow run's id, the same in meta.runs, lineage columns and Prefect."""

from __future__ import annotations

import uuid


def current_run_id() -> str:
    """The current Prefect flow run's id, or a fresh UUID outside one (a flow function called
    directly, a test)."""
    from prefect.runtime import flow_run

    return str(flow_run.id or uuid.uuid4())
