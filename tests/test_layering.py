"""Import direction: transforms and schemas never do I/O layers' work; nothing imports flows."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[1]
ALLOWED = {
    # great-expectations only where suites are built (schemas/quality.py).
    "schemas": {"schemas", "polars", "pyarrow", "great_expectations"},
    "transforms": {"transforms", "schemas", "polars"},
    "warehouse": {"warehouse", "schemas", "duckdb", "pyarrow", "polars"},
}
STDLIB_OK = {
    "__future__",
    "collections",
    "dataclasses",
    "datetime",
    "typing",
    "re",
    "math",
    "functools",
    "itertools",
    "enum",
    "pathlib",
    "json",
    "hashlib",
    "os",
    "contextlib",
    "time",
    "importlib",
    "shutil",
    "tempfile",
    "argparse",
    "sys",
}


def _imports(package: str):
    for path in (ROOT / package).rglob("*.py"):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                for alias in node.names:
                    yield path, alias.name.split(".")[0]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                yield path, node.module.split(".")[0]


@pytest.mark.parametrize("package", sorted(ALLOWED))
def test_layer_imports_only_what_it_may(package):
    bad = [
        (str(p.relative_to(ROOT)), m)
        for p, m in _imports(package)
        if m not in ALLOWED[package] | STDLIB_OK
    ]
    assert bad == []
