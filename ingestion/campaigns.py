"""Read the campaign files under the landing folder's `campaigns/` (YAML, JSON or CSV).

Campaigns are definitions, not snapshots: every file is read again whenever any of them is new,
changed or gone, and the staged campaigns are replaced as a whole (schemas/campaigns.py says
what a campaign is and what is refused).
"""

from __future__ import annotations

import csv
import io
import json
from collections import Counter
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import yaml  # type: ignore[import-untyped]

from ingestion.batch import FileOutcome, failed
from ingestion.discover import LandedFile
from ingestion.readers import FileRejected, read_bytes
from schemas.campaigns import Campaigns, documents_from_rows, normalise_campaigns

# The folder of the landing folder that holds campaign definitions.
CAMPAIGNS_FOLDER = "campaigns"
CONTRACT = "campaigns"


def is_campaign_file(relative: str) -> bool:
    return relative.split("/", 1)[0] == CAMPAIGNS_FOLDER


@dataclass
class CampaignLoad:
    """Every campaign file read: the staged rows, the refusals and one outcome per file."""

    campaigns: Campaigns
    outcomes: list[FileOutcome]


def _documents(file: LandedFile) -> list[dict[str, Any]]:
    data = read_bytes(file.path, expected_sha256=file.sha256).decode("utf-8-sig")
    if file.relative.lower().endswith((".csv", ".csv.gz")):
        rows = list(csv.DictReader(io.StringIO(data)))
        return documents_from_rows([{k.strip(): v for k, v in r.items() if k} for r in rows])
    try:
        # .json files are parsed as JSON (strict); the rest as YAML.
        value = json.loads(data) if file.relative.endswith(".json") else yaml.safe_load(data)
    except (yaml.YAMLError, ValueError) as error:
        line = getattr(getattr(error, "problem_mark", None), "line", None)
        where = f" (line {line + 1})" if line is not None else ""
        raise FileRejected(f"not readable YAML/JSON{where}") from None
    items = value if isinstance(value, list) else [value]
    if not items or not all(isinstance(i, dict) for i in items):
        raise FileRejected("a campaign file holds a campaign object or a list of them")
    return items


def read_campaigns(files: list[LandedFile]) -> CampaignLoad:
    """Every campaign file's campaigns; a file that cannot be read fails alone."""
    documents: list[tuple[str, int, dict[str, Any]]] = []
    outcomes: list[FileOutcome] = []
    per_file: dict[str, int] = {}
    for file in files:
        try:
            items = _documents(file)
        except (FileRejected, OSError, UnicodeDecodeError, csv.Error) as error:
            reason = str(error) if isinstance(error, FileRejected) else type(error).__name__
            unread = failed(file, f"cannot read the campaign file: {reason}")
            outcomes.append(replace(unread, contract=CONTRACT, kind=CONTRACT))
            continue
        per_file[file.relative] = len(items)
        documents += [(file.relative, n, item) for n, item in enumerate(items, start=1)]
    campaigns = normalise_campaigns(documents)
    refused = Counter(r.source_file for r in campaigns.rejected)
    # Rows are entries: a campaign and each of its creators (what can be refused alone).
    loaded = Counter(e["source_file"] for e in (*campaigns.campaigns, *campaigns.creators))
    for file in files:
        if file.relative not in per_file:
            continue
        outcomes.append(
            FileOutcome(
                file.relative,
                file.sha256,
                file.bytes,
                "loaded",
                format=Path(file.relative).suffix.lstrip(".") or None,
                contract=CONTRACT,
                kind=CONTRACT,
                rows_read=loaded[file.relative] + refused[file.relative],
                rows_loaded=loaded[file.relative],
                rows_quarantined=refused[file.relative],
            )
        )
    return CampaignLoad(campaigns, outcomes)
