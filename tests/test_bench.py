"""The benchmark document is generated from its recorded results, never edited by hand."""

import json
from pathlib import Path

from bench.harness import SUITES, render

DOCS = Path(__file__).parents[1] / "docs"


def test_docs_benchmarks_is_rendered_from_the_recorded_results():
    results = json.loads((DOCS / "benchmarks.json").read_text())
    assert set(SUITES) <= set(results["suites"])
    assert (DOCS / "benchmarks.md").read_text() == render(results) + "\n"
