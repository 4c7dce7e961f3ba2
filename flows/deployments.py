"""The flows as Prefect flows, for prefect.yaml's entrypoints and `inflow serve`.

inflow's flows (flows.engine) run through Prefect only when an API records them; a deployment
always runs under one, and Prefect's loader wants its own Flow objects: these are those. A
sub-flow the nightly run calls goes through Prefect too (it runs inside a Prefect flow run).
"""

from __future__ import annotations

from flows.nightly import nightly as _nightly
from flows.transform import transform as _transform

nightly = _nightly.prefect
transform = _transform.prefect
