"""Import direction: each folder imports only the layers below it; nothing imports the CLI.

schemas <- transforms; schemas <- warehouse; schemas, warehouse <- ingestion, report;
schemas <- sample; everything <- flows <- cli.
"""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[1]
ALLOWED = {
    # great-expectations only where suites are built (schemas/quality.py).
    "schemas": {"schemas", "polars", "pyarrow", "great_expectations"},
    "transforms": {"transforms", "schemas", "polars"},
    # deltalake: the Delta Lake storage (warehouse/lake.py, the optional `lake` extra).
    # concurrent: warehouse/marts.py's spill writes one batch while DuckDB makes the next.
    "warehouse": {"warehouse", "schemas", "duckdb", "pyarrow", "polars", "deltalake", "concurrent"},
    # Reading landed files into load batches: no Prefect, no warehouse connection.
    # Campaign files are YAML (a superset of JSON: one parser for both).
    "ingestion": {
        "ingestion",
        "schemas",
        "warehouse",
        "polars",
        "pyarrow",
        "gzip",
        "io",
        "zlib",
        # ingestion/readers.py: gunzip through ISA-L (the zlib API, three times the speed).
        "isal",
        "yaml",
        # ingestion/readers.py: the cyclic GC paused while a saved response becomes objects.
        "gc",
        # ingestion/readers.py: JSON lines' breaks found with numpy (Arrow views over the file's
        # bytes), the key sample parsed by orjson.
        "numpy",
        "orjson",
    },
    # The HTML report draws what warehouse.report reads (and makes GX's Data Docs offline).
    "report": {"report", "warehouse", "polars", "altair", "jinja2", "vl_convert"},
    # The sample-export generator knows the contracts and nothing of the pipeline.
    "sample": {"sample", "schemas", "numpy", "polars", "gzip", "io", "yaml"},
    # Flows wire every layer, never the CLI.
    "flows": {
        "flows",
        "ingestion",
        "report",
        "schemas",
        "transforms",
        "warehouse",
        "prefect",
        "prefect_dask",
        "polars",
        "pyarrow",
        "duckdb",
        "pydantic",
        "pydantic_settings",
        "great_expectations",
        "fcntl",
        "uuid",
        "sys",
        # flows/engine.py: a flow run directly (its context, logs, futures, the Dask client,
        # and the Prefect profile it reads to know whether an API is configured).
        "contextvars",
        "logging",
        "concurrent",
        "distributed",
        "tomllib",
    },
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
    "html",
    "urllib",
    "csv",
    "stat",
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


def test_every_package_is_covered():
    packages = {p.parent.name for p in ROOT.glob("*/__init__.py")} - {"tests", "bench", "cli"}
    assert packages == set(ALLOWED)


def test_nothing_imports_the_cli():
    importers = [
        str(p.relative_to(ROOT)) for pkg in ALLOWED for p, m in _imports(pkg) if m == "cli"
    ]
    assert importers == []


@pytest.mark.parametrize("package", sorted(ALLOWED))
def test_layer_imports_only_what_it_may(package):
    bad = [
        (str(p.relative_to(ROOT)), m)
        for p, m in _imports(package)
        if m not in ALLOWED[package] | STDLIB_OK
    ]
    assert bad == []


def _module_graph() -> dict[str, set[str]]:
    """Project module -> the project modules it imports (anywhere in it, lazy imports too)."""
    modules = {
        ".".join(p.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__"): p
        for package in ALLOWED
        for p in (ROOT / package).rglob("*.py")
    }
    graph: dict[str, set[str]] = {name: set() for name in modules}
    for name, path in modules.items():
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                targets = [node.module, *(f"{node.module}.{a.name}" for a in node.names)]
            elif isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            else:
                continue
            graph[name] |= {t for t in targets if t in modules and t != name}
    return graph


def test_no_module_imports_itself_through_others():
    """No import cycles between modules (warehouse.schema and warehouse.marts had one)."""
    graph = _module_graph()
    cycles = []

    def visit(module: str, path: list[str]) -> None:
        for target in sorted(graph[module]):
            if target in path:
                cycles.append([*path[path.index(target) :], target])
            elif target not in done:
                visit(target, [*path, target])
        done.add(module)

    done: set[str] = set()
    for module in sorted(graph):
        if module not in done:
            visit(module, [module])
    # A package's __init__ importing its own submodule is not a cycle worth naming.
    cycles = [c for c in cycles if not any(m in ALLOWED for m in c)]
    assert cycles == []
