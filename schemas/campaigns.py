"""The campaign input: what a brand ran, with whom, how its posts are recognised, what it paid.

Campaign files live under the landing folder's `campaigns/` (YAML, JSON or CSV; README:
"Campaigns"). Each campaign is one document (YAML/JSON: an object, or a list of them; CSV: one
row per campaign x creator, the campaign's own columns repeated):

    campaign_id: glow-spring-26          # required, unique across files
    brand: GlowCo                        # required
    name: Spring Glow launch
    start_date: 2026-03-01               # required; the campaign's posts are published
    end_date: 2026-03-31                 #   between these days, both included (UTC)
    currency: USD                        # required when a fee is given; one per campaign
    brand_handles: [glowco]              # the brand's accounts: mentions of them attribute
    hashtags: [glowspring]               # the campaign's hashtags
    rules: [post_ids, hashtags, mentions, paid_partnership]   # default: all four
    creators:
      - {platform: instagram, handle: nina.nails, fee: 400}   # fee_basis: per_creator
      - {platform: tiktok, account_id: "-000Ab3", fee: 35, fee_basis: per_post,
         post_ids: ["7342000000000000001"]}

Attribution (transforms/campaigns.py): a post is the campaign's when its id is listed for a
creator of the campaign (any date), or when a creator of the campaign published it within the
dates and it carries one of the hashtags, mentions or tags a brand handle, or is labelled a
paid partnership. A creator outside the campaign using its hashtag is not attributed (brand
mentions show them).

Whole campaigns are refused, with the reason, when a required field is missing or invalid, the
end precedes the start, fees mix currencies or its id repeats; a creator row is refused alone
when its platform is unknown, it names no account, or its fee is negative or of an unknown basis.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import polars as pl

from schemas.tables import PLATFORMS

RULES = ("post_ids", "hashtags", "mentions", "paid_partnership")
FEE_BASES = ("per_creator", "per_post")
_CURRENCY = re.compile(r"^[A-Z]{3}$")

CAMPAIGN_SCHEMA = pl.Schema(
    {
        "campaign_id": pl.String(),
        "brand": pl.String(),
        "name": pl.String(),
        "start_date": pl.Date(),
        "end_date": pl.Date(),
        "currency": pl.String(),
        "brand_handles": pl.List(pl.String()),
        "hashtags": pl.List(pl.String()),
        "rules": pl.List(pl.String()),
        # A hash of the definition: a night rebuilds a campaign whose definition changed.
        "definition_sha256": pl.String(),
        "source_file": pl.String(),
    }
)
CREATOR_SCHEMA = pl.Schema(
    {
        "campaign_id": pl.String(),
        "platform": pl.String(),
        "account_id": pl.String(),
        "handle": pl.String(),
        "fee": pl.Float64(),
        "fee_basis": pl.String(),
        "post_ids": pl.List(pl.String()),
        "source_file": pl.String(),
        "source_row": pl.Int64(),
    }
)


@dataclass(frozen=True)
class Rejected:
    """A campaign or creator entry refused, and why (a quarantine row)."""

    source_file: str
    row_number: int
    rule: str
    reason: str
    raw_record: str


@dataclass
class Campaigns:
    """The valid campaigns and creators of every campaign file, and what was refused."""

    campaigns: list[dict[str, Any]] = field(default_factory=list)
    creators: list[dict[str, Any]] = field(default_factory=list)
    rejected: list[Rejected] = field(default_factory=list)

    def frames(self) -> tuple[pl.DataFrame, pl.DataFrame]:
        return (
            pl.DataFrame(self.campaigns, schema=CAMPAIGN_SCHEMA),
            pl.DataFrame(self.creators, schema=CREATOR_SCHEMA),
        )


class Refused(ValueError):
    def __init__(self, rule: str, reason: str) -> None:
        super().__init__(reason)
        self.rule = rule


def words(value: Any, sigils: str = "") -> list[str]:
    """A list from a YAML/JSON list or ';'/','-separated text, lowercased, sigils stripped."""
    if value is None:
        return []
    items = value if isinstance(value, list) else re.split(r"[;,\s]+", str(value))
    cleaned = (str(v).strip().lstrip(sigils).lower() for v in items)
    return list(dict.fromkeys(v for v in cleaned if v))


def _text(record: Mapping[str, Any], key: str, *, required: bool = False) -> str | None:
    value = record.get(key)
    if isinstance(value, list | dict):
        raise Refused("invalid_value", f"'{key}' must be a single value, not a list or object")
    text = None if value is None else str(value).strip() or None
    if required and text is None:
        raise Refused("missing_required", f"required field '{key}' is missing or empty")
    return text


def _day(record: Mapping[str, Any], key: str) -> date:
    value = record.get(key)
    if isinstance(value, datetime):  # YAML reads "2026-03-01 10:00" as a timestamp
        return value.date()
    if isinstance(value, date):
        return value
    text = _text(record, key, required=True)
    try:
        return date.fromisoformat(str(text))
    except ValueError:
        raise Refused("invalid_value", f"'{key}' = '{text}' is not a YYYY-MM-DD date") from None


def _fee(record: Mapping[str, Any]) -> float | None:
    value = record.get("fee")
    if value is None or str(value).strip() == "":
        return None
    try:
        fee = float(str(value).replace(",", ""))
    except ValueError:
        raise Refused("invalid_value", f"'fee' = '{value}' is not a number") from None
    if not fee >= 0:  # also refuses NaN
        raise Refused("negative_count", f"'fee' = {value} is negative: fees are never below 0")
    return fee


def campaign_entry(
    record: Mapping[str, Any], source_file: str, seen: Mapping[str, str]
) -> tuple[dict[str, Any], list[tuple[int, Mapping[str, Any]]]]:
    """One campaign's row and its creator entries (numbered), or Refused with the reason."""
    campaign_id = _text(record, "campaign_id", required=True)
    assert campaign_id is not None
    if campaign_id in seen:
        raise Refused(
            "duplicate_campaign",
            f"campaign_id '{campaign_id}' is already defined in {seen[campaign_id]}",
        )
    conflicts = record.get("_conflicts")
    if conflicts:
        raise Refused(
            "conflicting_values",
            f"the rows of campaign '{campaign_id}' disagree on {', '.join(sorted(set(conflicts)))}",
        )
    start, end = _day(record, "start_date"), _day(record, "end_date")
    if end < start:
        raise Refused("invalid_dates", f"end_date {end} is before start_date {start}")
    rules = words(record.get("rules")) or list(RULES)
    unknown = [r for r in rules if r not in RULES]
    if unknown:
        raise Refused(
            "invalid_value", f"unknown rule(s) {', '.join(unknown)}; known: {', '.join(RULES)}"
        )
    creators = record.get("creators") or []
    if not isinstance(creators, list) or not creators:
        raise Refused("missing_required", "a campaign needs at least one creator")
    stated = (_text(record, "currency") or "").upper()
    currencies = {stated} if stated else set()
    currencies |= {
        str(c.get("currency")).strip().upper()
        for c in creators
        if isinstance(c, Mapping) and c.get("currency") not in (None, "")
    }
    if len(currencies) > 1:
        raise Refused(
            "mixed_currencies",
            f"fees in {' and '.join(sorted(c for c in currencies if c))}: one currency per campaign "
            "(convert before loading; inflow does not guess exchange rates)",
        )
    currency: str | None = next(iter(currencies), None)
    has_fee = any(isinstance(c, Mapping) and c.get("fee") not in (None, "") for c in creators)
    if has_fee and currency is None:
        raise Refused("missing_required", "fees are given without a currency")
    if currency is not None and not _CURRENCY.match(currency):
        raise Refused("invalid_value", f"'currency' = '{currency}' is not an ISO 4217 code")
    definition = json.dumps(record, sort_keys=True, default=str)
    row = {
        "campaign_id": campaign_id,
        "brand": _text(record, "brand", required=True),
        "name": _text(record, "name"),
        "start_date": start,
        "end_date": end,
        "currency": currency,
        "brand_handles": words(record.get("brand_handles"), "@"),
        "hashtags": words(record.get("hashtags"), "#"),
        "rules": rules,
        "definition_sha256": hashlib.sha256(definition.encode()).hexdigest(),
        "source_file": source_file,
    }
    return row, list(enumerate(creators, start=1))


def creator_entry(campaign_id: str, record: Any, source_file: str, row: int) -> dict[str, Any]:
    """One creator of a campaign, or Refused with the reason."""
    if not isinstance(record, Mapping):
        raise Refused("malformed_record", "a creator entry is not an object")
    platform = (_text(record, "platform", required=True) or "").lower()
    if platform not in PLATFORMS:
        raise Refused(
            "unknown_platform", f"platform '{platform}' is not one of {', '.join(PLATFORMS)}"
        )
    account_id = _text(record, "account_id")
    handle = (_text(record, "handle") or "").lstrip("@").lower() or None
    if account_id is None and handle is None:
        raise Refused("missing_required", "a creator needs an account_id or a handle")
    basis = (_text(record, "fee_basis") or "per_creator").lower()
    if basis not in FEE_BASES:
        raise Refused("invalid_value", f"fee_basis '{basis}' is not one of {', '.join(FEE_BASES)}")
    return {
        "campaign_id": campaign_id,
        "platform": platform,
        "account_id": account_id,
        "handle": handle,
        "fee": _fee(record),
        "fee_basis": basis,
        "post_ids": words(record.get("post_ids")),
        "source_file": source_file,
        "source_row": row,
    }


def normalise_campaigns(documents: Iterable[tuple[str, int, Mapping[str, Any]]]) -> Campaigns:
    """Campaign documents (source file, number in the file, record) as staged rows and refusals.

    Campaigns are numbered in their file (1-based); a refused creator's row number is the
    campaign's times 1000 plus the creator's position, so that both are readable from it.
    """
    out = Campaigns()
    seen: dict[str, str] = {}
    for source_file, number, record in documents:
        raw = json.dumps(record, default=str, ensure_ascii=False)
        try:
            campaign, creators = campaign_entry(record, source_file, seen)
        except Refused as refused:
            out.rejected.append(Rejected(source_file, number, refused.rule, str(refused), raw))
            continue
        seen[campaign["campaign_id"]] = source_file
        out.campaigns.append(campaign)
        for position, creator in creators:
            row = number * 1000 + position
            try:
                out.creators.append(
                    creator_entry(campaign["campaign_id"], creator, source_file, row)
                )
            except Refused as refused:
                shown = json.dumps(creator, default=str, ensure_ascii=False)
                out.rejected.append(Rejected(source_file, row, refused.rule, str(refused), shown))
    return out


# CSV: the campaign's own columns, repeated on each of its creator rows.
CAMPAIGN_COLUMNS = (
    "campaign_id",
    "brand",
    "name",
    "start_date",
    "end_date",
    "currency",
    "brand_handles",
    "hashtags",
    "rules",
)
CREATOR_COLUMNS = ("platform", "account_id", "handle", "fee", "fee_basis", "currency", "post_ids")


def documents_from_rows(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """CSV rows (one per campaign x creator) as campaign documents; a campaign whose repeated
    columns disagree gets `_conflict` naming the column (refused by `campaign_entry`)."""
    campaigns: dict[str, dict[str, Any]] = {}
    for row in rows:
        key = str(row.get("campaign_id") or "")
        document = campaigns.setdefault(
            key, {c: row.get(c) for c in CAMPAIGN_COLUMNS if c in row} | {"creators": []}
        )
        for column in CAMPAIGN_COLUMNS:
            if column in row and row.get(column) != document.get(column):
                document.setdefault("_conflicts", []).append(column)
        document["creators"].append({c: row.get(c) for c in CREATOR_COLUMNS if c in row})
    return list(campaigns.values())
