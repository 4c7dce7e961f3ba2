"""inflow's configuration: flags, then INFLOW_* environment variables, then inflow.toml, then defaults."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import Field, ValidationInfo, field_validator, model_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from flows.engine import ORCHESTRATIONS, TASK_RUNNERS, Orchestration, TaskRunnerName
from transforms.campaigns import EMV_ACTIONS
from transforms.scorecard import ScorecardRules
from transforms.tiers import TierScheme, resolve_scheme
from warehouse.connect import DuckDBLimits
from warehouse.lake import lake_of

CONFIG_FILE = "inflow.toml"


class Settings(BaseSettings):
    """Where the warehouse and landing folder are, and how runs behave."""

    model_config = SettingsConfigDict(env_prefix="INFLOW_", toml_file=CONFIG_FILE, extra="forbid")

    warehouse: Path = Field(Path("data/inflow.duckdb"), description="the DuckDB warehouse file")
    landing: Path = Field(Path("data/landing"), description="where export files land")
    published: Path = Field(
        Path("data/published"), description="folder of the published state readers open"
    )
    keep_published: int = Field(3, ge=1, le=100, description="published states kept for rollback")
    report: Path = Field(Path("data/report.html"), description="where `inflow report` writes")
    batch_megabytes: int = Field(
        48,
        ge=1,
        le=65536,
        description="bytes per load transaction, as the files hold them once read (unzipped)",
    )
    max_file_megabytes: int = Field(
        1024, ge=1, description="largest file (uncompressed) ingest reads"
    )
    freshness_days: int = Field(3, ge=0, description="age in days beyond which a platform is stale")
    tier_scheme: str = Field(
        "default",
        description="the tier scheme: default, five_tier, industry or one of tier_schemes",
    )
    tier_schemes: dict[str, dict[str, int]] = Field(
        default_factory=dict,
        description="schemes users define: {name: {tier: inclusive lower bound, smallest first}}",
    )
    confirmation_days: int = Field(7, ge=0, le=90, description="days a new tier must hold to count")
    task_runner: TaskRunnerName = Field(
        "local", description="where transform partitions run: local or dask"
    )
    orchestration: Orchestration = Field(
        "auto",
        description="run flows through Prefect: auto (when a Prefect API is configured), "
        "prefect (always; without an API Prefect starts a temporary server) or direct (never)",
    )
    dask_address: str | None = Field(
        None, description="Dask scheduler address; none starts a local cluster"
    )
    dask_workers: int = Field(
        2, ge=1, le=1024, description="local Dask workers, and partitions in flight"
    )
    duckdb_memory_limit: str | None = Field(
        None, description="DuckDB memory limit, e.g. '4GB' (default: DuckDB's, 80% of RAM)"
    )
    duckdb_threads: int | None = Field(None, ge=1, description="DuckDB threads (default: cores)")
    duckdb_temp_directory: Path | None = Field(
        None, description="where DuckDB spills beyond its memory limit (default: next to the file)"
    )
    partition_accounts: int | None = Field(
        None,
        ge=1,
        description="accounts per transform partition (memory per partition); unset: sized "
        "so that each reads about a million account-days of inputs",
    )
    storage: Literal["duckdb", "delta"] = Field(
        "duckdb",
        description="where the marts are stored: duckdb (the warehouse file) or delta (Delta "
        "Lake tables under lake_path that Dask workers read and write; README: Beyond one machine)",
    )
    lake_path: str | None = Field(
        None, description='the Delta Lake folder (local or NFS) for storage = "delta"'
    )
    lake_buckets: int = Field(
        256,
        ge=1,
        le=65536,
        description="account buckets of a new lake (fixed once the lake exists)",
    )
    emv_values: dict[str, float] = Field(
        default_factory=dict,
        description="campaigns' earned media value per action: {likes, comments, shares, saves, "
        "views: value in the campaign's currency}; unset: no EMV (it is an estimate)",
    )
    brand_handles: list[str] = Field(
        default_factory=list,
        description="brand handles (competitors) agg_brand_mentions counts beyond the campaigns'",
    )

    scorecard: dict[str, float] = Field(
        default_factory=dict,
        description="creator scorecards' window and flag thresholds ([scorecard] table: "
        "window_days, min_peers and each rule's; see README: Choosing creators); unset: defaults",
    )

    @field_validator("scorecard")
    @classmethod
    def _known_rules(cls, value: dict[str, float]) -> dict[str, float]:
        ScorecardRules.from_settings(value)  # raises one line naming the bad rule
        return value

    @field_validator("emv_values")
    @classmethod
    def _known_actions(cls, value: dict[str, float]) -> dict[str, float]:
        unknown = sorted(set(value) - set(EMV_ACTIONS))
        if unknown:
            raise ValueError(
                f"unknown action(s) {', '.join(unknown)}; known: {', '.join(EMV_ACTIONS)}"
            )
        if any(v < 0 for v in value.values()):
            raise ValueError("a value per action is never negative")
        return value

    @model_validator(mode="after")
    def _valid_schemes(self) -> Settings:
        # Every user scheme is checked (a broken one is a mistake even when unused), then the
        # chosen name must exist; each raises one line naming the problem.
        for name, bounds in self.tier_schemes.items():
            try:
                TierScheme.from_bounds(name, bounds)
            except ValueError as error:
                raise ValueError(f"tier_schemes.{name}: {error}") from None
        try:
            resolve_scheme(self.tier_scheme, self.tier_schemes)
        except ValueError as error:
            raise ValueError(f"tier_scheme: {error}") from None
        return self

    @model_validator(mode="after")
    def _lake_configured(self) -> Settings:
        # storage = "delta" needs a usable lake_path: refused here, one line, not mid-run.
        try:
            lake_of(self.storage, self.lake_path, self.lake_buckets)
        except ValueError as error:
            raise ValueError(f"lake_path: {error}") from None
        return self

    @field_validator("task_runner", "orchestration", mode="before")
    @classmethod
    def _known_choice(cls, value: str, info: ValidationInfo) -> str:
        known = {"task_runner": TASK_RUNNERS, "orchestration": ORCHESTRATIONS}[str(info.field_name)]
        if value not in known:
            raise ValueError(f"unknown value {value!r}; known: {', '.join(known)}")
        return value

    def duckdb_limits(self) -> DuckDBLimits:
        """DuckDB's limits for the pipeline's connections."""
        return DuckDBLimits(
            memory_limit=self.duckdb_memory_limit,
            threads=self.duckdb_threads,
            temp_directory=self.duckdb_temp_directory,
        )

    @property
    def data_docs(self) -> Path:
        """great-expectations' Data Docs index: the validate flow keeps its project in `gx/`
        beside the warehouse."""
        return (
            self.warehouse.parent / "gx" / "uncommitted" / "data_docs" / "local_site" / "index.html"
        )

    def nightly_parameters(self) -> dict[str, Any]:
        """The nightly flow's parameters from these settings: the one mapping `inflow run`,
        `inflow demo` and `inflow serve` use (prefect.yaml's deployment states its own)."""
        return {
            "landing": self.landing,
            "warehouse": self.warehouse,
            "published_dir": self.published,
            "tier_scheme": self.tier_scheme,
            "tier_schemes": self.tier_schemes,
            "confirmation_days": self.confirmation_days,
            "freshness_days": self.freshness_days,
            "keep_published": self.keep_published,
            "batch_megabytes": self.batch_megabytes,
            "max_file_megabytes": self.max_file_megabytes,
            "task_runner": self.task_runner,
            "dask_address": self.dask_address,
            "dask_workers": self.dask_workers,
            "partition_accounts": self.partition_accounts,
            "duckdb_memory_limit": self.duckdb_memory_limit,
            "duckdb_threads": self.duckdb_threads,
            "duckdb_temp_directory": self.duckdb_temp_directory,
            "emv_values": self.emv_values,
            "brand_handles": self.brand_handles,
            "scorecard": self.scorecard,
            "storage": self.storage,
            "lake_path": self.lake_path,
            "lake_buckets": self.lake_buckets,
        }

    def transform_parameters(self) -> dict[str, Any]:
        """The transform flow's parameters from these settings (but its mode and the partitions
        in flight, which come from the command and the task runner)."""
        return {
            "warehouse": self.warehouse,
            "tier_scheme": self.tier_scheme,
            "tier_schemes": self.tier_schemes,
            "confirmation_days": self.confirmation_days,
            "partition_accounts": self.partition_accounts,
            "duckdb_limits": self.duckdb_limits(),
            "emv_values": self.emv_values,
            "brand_handles": self.brand_handles,
            "scorecard": self.scorecard,
            "storage": self.storage,
            "lake_path": self.lake_path,
            "lake_buckets": self.lake_buckets,
        }

    def publish_parameters(self) -> dict[str, Any]:
        """The publish flow's parameters from these settings."""
        return {
            "warehouse": self.warehouse,
            "published_dir": self.published,
            "keep": self.keep_published,
            "duckdb_limits": self.duckdb_limits(),
            "storage": self.storage,
            "lake_path": self.lake_path,
            "lake_buckets": self.lake_buckets,
        }

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # Flags (init) > environment > inflow.toml in the working directory > defaults.
        return (init_settings, env_settings, TomlConfigSettingsSource(settings_cls))
