"""The `inflow` command line (Typer): the public surface of the pipeline."""

from __future__ import annotations

import sys
from datetime import date
from pathlib import Path
from typing import Annotated

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from flows.settings import Settings
from schemas.tables import PLATFORMS

app = typer.Typer(
    name="inflow",
    help="Influencer social metrics: export files -> DuckDB history -> marts.",
    no_args_is_help=True,
    add_completion=False,
)
console = Console(stderr=True)

EXIT_FAILED = 1
EXIT_USAGE = 2


def load_settings(**overrides: object) -> Settings:
    """Settings with flag overrides; a bad value exits 2 with the field named."""
    try:
        return Settings(**{k: v for k, v in overrides.items() if v is not None})
    except ValidationError as error:
        for problem in error.errors():
            field = ".".join(str(p) for p in problem["loc"])
            console.print(f"[red]configuration error[/red]: {field}: {problem['msg']}")
        raise typer.Exit(EXIT_USAGE) from None


def _progress() -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        disable=not sys.stderr.isatty(),
    )


def _parse_platforms(value: str) -> tuple[str, ...]:
    chosen = tuple(p.strip().lower() for p in value.split(",") if p.strip())
    unknown = [p for p in chosen if p not in PLATFORMS]
    if unknown or not chosen:
        raise typer.BadParameter(f"platforms must be among {', '.join(PLATFORMS)}; got {value!r}")
    return chosen


@app.command()
def generate(
    out: Annotated[Path, typer.Option(help="folder to write the export files into")],
    accounts: Annotated[int, typer.Option(min=1, help="number of creators")] = 200,
    days: Annotated[int, typer.Option(min=1, help="days of daily exports")] = 60,
    platforms: Annotated[str, typer.Option(help="comma-separated platforms")] = ",".join(PLATFORMS),
    seed: Annotated[int, typer.Option(help="random seed: same seed, same bytes")] = 1,
    start: Annotated[str, typer.Option(help="first day, YYYY-MM-DD")] = "2026-01-01",
    faults: Annotated[
        bool, typer.Option("--faults", help="also write the bad inputs real folders get")
    ] = False,
) -> None:
    """Write realistic export files in every supported format (deterministic from --seed)."""
    from flows.generator.landing import generate_landing

    try:
        first_day = date.fromisoformat(start)
    except ValueError:
        raise typer.BadParameter(f"--start must be YYYY-MM-DD, got {start!r}") from None
    chosen = _parse_platforms(platforms)
    with _progress() as progress:
        task = progress.add_task("writing exports", total=None)
        try:
            summary = generate_landing(
                out,
                accounts=accounts,
                days=days,
                seed=seed,
                start=first_day,
                platforms=chosen,
                faults=faults,
                progress=lambda done, total: progress.update(task, completed=done, total=total),
            )
        except ValueError as error:
            console.print(f"[red]error[/red]: {error}")
            raise typer.Exit(EXIT_USAGE) from None
    typer.echo(
        f"wrote {summary.files} files, {summary.snapshot_rows:,} snapshot rows, "
        f"{summary.bytes / 1e6:.1f} MB to {summary.out} in {summary.seconds:.1f} s"
    )
    if summary.faults:
        typer.echo(f"planted faults: {', '.join(summary.faults)}")


@app.command()
def demo(
    accounts: Annotated[int, typer.Option(min=1)] = 300,
    days: Annotated[int, typer.Option(min=12)] = 90,
    seed: Annotated[int, typer.Option()] = 7,
) -> None:
    """Generate sample exports into the landing folder and show what was written."""
    settings = load_settings()
    generate(out=settings.landing, accounts=accounts, days=days, seed=seed, faults=True)
    typer.echo(f"sample exports are in {settings.landing.resolve()}")


if __name__ == "__main__":
    app()
