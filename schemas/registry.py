"""Every export contract inflow knows, and how a file is matched to one."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from schemas import canonical, creator_csv, instagram, owned, tiktok, youtube
from schemas.contract import Contract

# Most specific first: the first contract whose signature matches a file wins.
CONTRACTS: tuple[Contract, ...] = (
    *owned.CONTRACTS,
    youtube.FOLLOWERS,
    youtube.POSTS,
    canonical.POSTS,
    canonical.FOLLOWERS,
    instagram.POSTS,
    instagram.FOLLOWERS,
    tiktok.POSTS,
    tiktok.FOLLOWERS,
    creator_csv.FOLLOWERS,
)


# The record keys whose values some contracts are detected by (YouTube's `kind`), in order.
SIGNATURE_VALUE_KEYS: tuple[str, ...] = tuple(
    sorted({k for c in CONTRACTS for k in c.signature_values})
)

# ..._2026-01-05T031500Z.jsonl.gz or ..._2026-01-05.csv
_NAME_TIME = re.compile(r"(\d{4})-(\d{2})-(\d{2})(?:T(\d{2})(\d{2})(\d{2})Z)?")


def detect(keys: Iterable[str], record: Mapping[str, Any] | None = None) -> Contract | None:
    """The contract a header (CSV, Parquet) or a first record (JSON lines) belongs to, if any."""
    keys = list(keys)
    return next((c for c in CONTRACTS if c.matches(keys, record)), None)


def capture_time_from_name(file_name: str) -> datetime | None:
    """The capture time a file name states (the last date in it), as UTC; None when it has none.

    `..._2026-01-05T031500Z.jsonl` is 03:15:00 UTC; `..._2026-01-05.csv` is midnight UTC.
    """
    matches = list(_NAME_TIME.finditer(file_name))
    if not matches:
        return None
    year, month, day, hour, minute, second = matches[-1].groups()
    try:
        return datetime(
            int(year),
            int(month),
            int(day),
            int(hour or 0),
            int(minute or 0),
            int(second or 0),
            tzinfo=UTC,
        )
    except ValueError:
        return None


def supported_exports() -> str:
    """The README's table of supported exports: where each comes from and what maps where."""
    lines = [
        "| Export (contract) | Where a user gets it | Canonical column ← field in the export |",
        "| --- | --- | --- |",
    ]
    for contract in CONTRACTS:
        mapping = "; ".join(
            f"`{f.name}` ← `{f.source}`"
            + (f" (or {', '.join(f'`{a}`' for a in f.aliases)})" if f.aliases else "")
            for f in contract.fields
        )
        lines.append(f"| `{contract.name}` | {contract.where} | {mapping} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(supported_exports(), end="")
