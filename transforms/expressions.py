"""Reusable Polars expressions: how interactions and rates are computed, once."""

from __future__ import annotations

import polars as pl

INTERACTION_COMPONENTS: tuple[str, ...] = ("likes", "comments", "shares", "saves")


def interactions(prefix: str = "") -> pl.Expr:
    """likes + comments + shares + saves over the components reported; null if none is."""
    parts = [pl.col(f"{prefix}{c}") for c in INTERACTION_COMPONENTS]
    return pl.when(pl.any_horizontal(p.is_not_null() for p in parts)).then(pl.sum_horizontal(parts))


def ratio(numerator: pl.Expr, denominator: pl.Expr) -> pl.Expr:
    """numerator / denominator, null when the denominator is null or not positive."""
    return pl.when(denominator > 0).then(numerator / denominator)
