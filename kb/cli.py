"""The `kb` command line: thin commands that validate, call the library and report."""
from __future__ import annotations

import json
from pathlib import Path

import click

from kb import config


@click.group()
@click.version_option(package_name="kb")
def cli() -> None:
    """kb: good practices for the inclusion of refugees, searchable."""


@cli.command()
@click.argument("path", required=False, type=click.Path(dir_okay=True, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
def ingest(path: Path | None, as_json: bool) -> None:
    """Ingest the handbook text into the database (default: KB_CORPUS)."""
    from kb.db import make_engine
    from kb.ingest import IngestError, ingest as run_ingest

    path = path or Path(config.setting("KB_CORPUS"))
    try:
        report = run_ingest(path, make_engine(), config.setting("KB_CURATION_DIR"))
    except IngestError as exc:
        raise click.ClickException(f"{exc}\nThe database was left unchanged.") from None
    summary = {
        "path": report.path,
        "seconds": round(report.seconds, 3),
        "counts": report.load.counts,
        "practices_per_area": report.load.per_area,
        "practices_per_country": report.load.per_country,
        "removed": report.load.removed,
    }
    if as_json:
        click.echo(json.dumps(summary, ensure_ascii=False, indent=2))
        return
    click.echo(f"Ingested {report.path} in {report.seconds:.2f} s")
    click.echo("Records:")
    for name, count in summary["counts"].items():
        click.echo(f"  {name.replace('_', ' '):<20} {count:>4}")
    click.echo("Practices per area:")
    for area in report.handbook.areas:
        click.echo(f"  {area.number}. {area.title[:60]:<60} {report.load.per_area.get(area.number, 0):>4}")
    click.echo("Practices per country:")
    click.echo("  " + ", ".join(f"{c} {n}" for c, n in report.load.per_country.items()))
    if report.load.removed:
        click.echo("Removed (no longer in the handbook): "
                   + ", ".join(f"{k} {v}" for k, v in report.load.removed.items()))


@cli.command()
def settings() -> None:
    """List every KB_* setting with its current value and help."""
    for s in config.SETTINGS:
        click.echo(f"{s.name}={config.setting(s.name)}\n    {s.help}")


def main() -> None:
    cli()
