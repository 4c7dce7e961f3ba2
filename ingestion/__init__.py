"""From landed files to load batches: discover them, read them as their contracts say, normalise.

No Prefect and no warehouse connection here: `flows.ingest` wires these steps and
`warehouse.load` writes what they produce.
"""
