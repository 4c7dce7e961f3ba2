"""Frame helpers every transform shares: the as-of rule and the incremental cut.

An account is identified everywhere by `schemas.tables.ACCOUNT_KEY` (platform, account_id).
"""

from __future__ import annotations

from datetime import date

import polars as pl

from schemas.tables import ACCOUNT_KEY

# The as-of snapshot for t-N may be at most this many days older than t-N; beyond that the
# value is null: a gap in the snapshots is shown, never bridged silently.
AS_OF_TOLERANCE_DAYS = 7


def as_of(
    left: pl.LazyFrame,
    right: pl.LazyFrame,
    left_on: str,
    right_on: str,
    tolerance_days: int = AS_OF_TOLERANCE_DAYS,
    *,
    presorted: bool = False,
) -> pl.LazyFrame:
    """`left` with the account's latest `right` row on or before `left_on`, at most
    `tolerance_days` older (else nulls): the one as-of rule every metric uses. `presorted`:
    both frames are in `left_on`/`right_on` order already (not sorted again)."""
    if not presorted:
        left, right = left.sort(left_on), right.sort(right_on)
    return left.join_asof(
        right,
        left_on=left_on,
        right_on=right_on,
        by=list(ACCOUNT_KEY),
        strategy="backward",
        tolerance=f"{tolerance_days}d",
        check_sortedness=False,  # sorted within each account by the sorts above
    )


def account_number() -> pl.Expr:
    """An integer per account, numbered along a frame sorted by account (one run of rows, one
    number): windows, joins and groups on it cost a fraction of those on the key's strings."""
    return pl.struct(list(ACCOUNT_KEY)).rle_id()


def same_account(offset: int = 1) -> pl.Expr:
    """Whether the row `offset` rows before (after, when negative) is the same account's, in
    a frame sorted by account: false where there is none."""
    same = (pl.col(c) == pl.col(c).shift(offset) for c in ACCOUNT_KEY)
    return pl.all_horizontal(same).fill_null(False)


def emitted_rows(
    frame: pl.LazyFrame, emit_from: date | pl.LazyFrame, date_column: str
) -> pl.LazyFrame:
    """Rows on or after `emit_from`: one date for all accounts, or a per-account frame."""
    if isinstance(emit_from, pl.LazyFrame):
        return (
            frame.join(
                emit_from.select(*ACCOUNT_KEY, "emit_from"), on=list(ACCOUNT_KEY), how="inner"
            )
            .filter(pl.col(date_column) >= pl.col("emit_from"))
            .drop("emit_from")
        )
    return frame.filter(pl.col(date_column) >= emit_from)
