"""The `kb` command line: thin commands that validate, call the library and report."""
from __future__ import annotations

import json
import re
from contextlib import contextmanager
from pathlib import Path

import click

from kb.core import config


@click.group()
@click.version_option(package_name="kb")
def cli() -> None:
    """kb: good practices for the inclusion of refugees, searchable."""


@contextmanager
def user_errors():
    """Turn the library's expected failures into one-line messages and exit code 1."""
    from kb.core.db import SchemaError
    from kb.search import EmbedderError, IndexUnavailable
    try:
        yield
    except (SchemaError, EmbedderError, IndexUnavailable, ValueError) as exc:
        raise click.ClickException(str(exc)) from None


def _engine():
    from kb.core.db import make_engine
    return make_engine()


def _documents(engine):
    from kb.core.db import session_factory
    from kb.search import load_documents
    with session_factory(engine)() as session:
        return load_documents(session)


def _open_current(engine, documents=None, backend=None):
    """The search service (KB_SEARCH_BACKEND, or ``backend``), refusing an index that does not
    match the database."""
    from kb.search import IndexUnavailable, corpus_hash, open_search
    service = open_search(engine, backend=backend)
    if hasattr(service, "corpus_hash"):  # the postgres backend fingerprints its tables
        indexed = service.corpus_hash()
    else:
        indexed = corpus_hash(list(service.pinned().snapshot.documents.values()))
    if indexed != corpus_hash(documents or _documents(engine)):
        raise IndexUnavailable("the index is stale: the database changed since it was built: "
                               "run `kb index`")
    return service


@cli.command()
@click.argument("path", required=False, type=click.Path(dir_okay=True, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
def ingest(path: Path | None, as_json: bool) -> None:
    """Ingest the handbook text into the database (default: KB_CORPUS)."""
    from kb.ingest import IngestError, ingest as run_ingest

    path = path or Path(config.setting("KB_CORPUS"))
    with user_errors():
        engine = _engine()
    try:
        report = run_ingest(path, engine, config.setting("KB_CURATION_DIR"))
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
def index() -> None:
    """Build the search index from the database (KB_SEARCH_BACKEND: local, into KB_INDEX_DIR
    atomically; postgres, the search tables in one transaction).

    Running servers switch to the new build within a second (local) or at its commit
    (postgres); nothing is taken from under them.
    """
    from kb.core.db import transaction
    from kb.search import build_index, default_embedder, last_seq, load_documents, prune
    from kb.search.build import CACHE_FILE

    postgres = config.setting("KB_SEARCH_BACKEND") == "postgres"
    with user_errors():
        engine = _engine()
        with transaction(engine) as session:
            # The change log's position first: a change committed while the documents are
            # read is then applied again on top of this build, which is harmless.
            seq = last_seq(session)
            documents = load_documents(session)
        if not documents:
            raise click.ClickException("the database has no records: run `kb ingest` first")
        embedder = default_embedder()
        total = sum(len(d.passages) for d in documents)
        root = Path(config.setting("KB_INDEX_DIR"))
        with click.progressbar(length=total, label=f"Embedding {total} passages",
                               show_eta=True) as bar:
            if postgres:
                from kb.search.postgres_index import rebuild
                # The documents are read again under the writers' lock: a change committed
                # meanwhile is in the build, a later one waits for it and applies on top.
                meta = rebuild(engine, documents, embedder, progress=bar.update,
                               local_cache=root / CACHE_FILE, reload=load_documents)
            else:
                folder = build_index(root, documents, embedder, progress=bar.update,
                                     change_seq=seq)
        if postgres:
            click.echo(f"Indexed {meta['documents']} documents with {meta['embedder']} in "
                       f"{meta['build_seconds']} s -> the PostgreSQL search tables "
                       f"(build {meta['build']})")
            return
        with transaction(engine) as session:
            prune(session, seq)
    from kb.search.store import read_meta
    meta = read_meta(folder)
    click.echo(f"Indexed {meta['documents']} documents with {meta['embedder']} in "
               f"{meta['build_seconds']} s -> {folder}")


def facet_options(command):
    """One option per facet of the registry (kb.search.facets), parsed and checked as the web
    app does; values of a vocabulary are checked against the database in the command."""
    from kb.search import FACETS, FILTER_FIELDS

    def parser(facet):
        def parse(_ctx, _param, value):
            try:
                if facet.several:  # repeated, or comma-separated
                    return tuple(facet.parse(v) for raw in value for v in raw.split(",")
                                 if v.strip())
                return facet.parse(value) if value not in (None, "") else None
            except ValueError as exc:
                raise click.BadParameter(str(exc)) from None
        return parse

    for name, facet in reversed(list(zip(FILTER_FIELDS, FACETS))):
        if facet.several:
            option = click.option(f"--{facet.name}", name, multiple=True, callback=parser(facet),
                                  help=facet.help)
        else:
            option = click.option(f"--{facet.name}", name, help=facet.help, callback=parser(facet))
        command = option(command)
    return command


def _check_codes(engine, filters) -> None:
    """Refuse a vocabulary value (need, activity, success factor) the database does not know."""
    from kb.core.db import session_factory
    with session_factory(engine)() as session:
        for facet, values in filters.selected():
            known = facet.codes(session) if facet.codes else None
            unknown = [v for v in values if known is not None and v not in known]
            if unknown:
                raise click.BadParameter(f"unknown value {unknown[0]!r}; use one of "
                                         f"{', '.join(known[:40])}" + (" ..." if len(known) > 40
                                                                      else ""),
                                         param_hint=f"--{facet.name}")


def _sorts() -> tuple[str, ...]:
    from kb.search.sorting import SORTS
    return SORTS


def _plain(snippet: str) -> str:
    return re.sub(r"</?mark>", "", snippet).replace("&quot;", '"').replace("&#x27;", "'") \
        .replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


@cli.command()
@click.argument("query", default="")
@facet_options
@click.option("--limit", type=click.IntRange(1, 100), default=10, show_default=True,
              help="Results to show.")
@click.option("--offset", type=click.IntRange(0), default=0, help="Results to skip.")
@click.option("--mode", type=click.Choice(["hybrid", "lexical", "dense"]), default="hybrid",
              show_default=True, help="Retriever(s) to use.")
@click.option("--sort", type=click.Choice(_sorts()), default="relevance", show_default=True,
              help="Order of the results (titles and country names in Latvian).")
@click.option("--json", "as_json", is_flag=True, help="Print the results as JSON.")
def search(query, limit, offset, mode, sort, as_json, **facets) -> None:
    """Search good practices and everything else in the handbook."""
    from kb.search import Filters

    with user_errors():
        if len(query) > 1000:
            raise click.BadParameter("at most 1000 characters", param_hint="QUERY")
        filters = Filters(**{name: tuple(v) if isinstance(v, (tuple, list)) else v
                             for name, v in facets.items()})
        engine = _engine()
        _check_codes(engine, filters)
        index = _open_current(engine)
        results = index.search(query, filters, limit=limit, offset=offset, mode=mode,
                               sort=sort)
    if as_json:
        from kb.web.serialize import search_json  # the API's shape
        click.echo(json.dumps(search_json(results), ensure_ascii=False, indent=2))
        return
    click.echo(f"{results.total} results for {query!r}" if query else f"{results.total} records")
    for rank, hit in enumerate(results.hits, offset + 1):
        where = ",".join(hit.countries) or "-"
        click.echo(f"{rank:>3}. [{hit.type}] {hit.title}  ({where}; area {','.join(map(str, hit.areas)) or '-'};"
                   f" {'+'.join(hit.retrievers) or 'listing'}; {hit.score:.4f})")
        click.echo(f"     id: {hit.record_id}")
        click.echo(f"     {_plain(hit.snippet)[:200]}")


@cli.command(name="eval")
@click.option("--queries", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              default=None, help="Search evaluation set (default corpus/eval/search.toml).")
@click.option("--without-english", is_flag=True,
              help="Also measure an index without the English titles, summaries and need "
                   "keywords, to show what they add.")
@click.option("--backend", type=click.Choice(["local", "postgres"]), default=None,
              help="Search backend to evaluate (default KB_SEARCH_BACKEND).")
@click.option("--json", "as_json", is_flag=True, help="Print the metrics as JSON.")
def evaluate(queries, without_english, backend, as_json) -> None:
    """Report nDCG@10, MRR@10 and Recall@10 per slice for lexical, dense and hybrid search."""
    from kb.evaluation import metrics as evaluation

    from kb.core.db import session_factory

    queries = queries or Path(config.setting("KB_CURATION_DIR")) / "eval" / "search.toml"
    items_path = Path(config.setting("KB_CURATION_DIR")) / "eval" / "recommend.toml"
    with user_errors():
        eval_set = evaluation.load_queries(queries)
        engine = _engine()
        documents = _documents(engine)
        backend = backend or config.setting("KB_SEARCH_BACKEND")
        if without_english and backend != "local":
            raise click.ClickException("--without-english builds a local index: use it with "
                                       "--backend local")
        index = _open_current(engine, documents, backend)
        table = evaluation.evaluate(index.pinned(), eval_set, evaluation.RUNS)
        if without_english:
            table.update(evaluation.evaluate_without_english(index, documents, eval_set))
        with session_factory(engine)() as session:
            recommendations = evaluation.evaluate_recommendations(
                index.pinned(), session, evaluation.load_items(items_path))
    counts = evaluation.slice_counts(eval_set)
    if as_json:
        click.echo(json.dumps({"queries": counts, "metrics": table,
                               "recommendations": recommendations}, indent=2))
        return
    click.echo(evaluation.format_table(table, counts))
    click.echo("")
    for line in evaluation.check_targets(table):
        click.echo(line)
    click.echo("")
    p5 = recommendations["precision@5"]
    click.echo(f"recommendations: precision@5 {p5:.3f} over {recommendations['items']} checklist "
               f"items (target {evaluation.RECOMMENDATIONS_TARGET:.2f} "
               f"{'met' if p5 >= evaluation.RECOMMENDATIONS_TARGET else 'MISSED'}; best possible with "
               f"these judgments {recommendations['best possible precision@5']:.3f})")


@cli.command()
@click.option("--check", is_flag=True,
              help="Change nothing; fail when an evaluation set differs from its judgments.")
def adjudicate(check: bool) -> None:
    """Derive the evaluation sets' relevant practices from the judges' grades (majority vote)."""
    from kb.evaluation import judgments

    folder = Path(config.setting("KB_CURATION_DIR")) / "eval"
    stale = []
    with user_errors():
        for kind in judgments.SETS:
            judged = judgments.load(folder / "judgments" / f"{kind}.json")
            path = folder / f"{kind}.toml"
            text = judgments.adjudicated_set(path, judged, kind)
            report = judgments.agreement(judged)
            click.echo(f"{kind}:")
            for name, value in report.items():
                click.echo(f"  {name:<34}{value}")
            if text != path.read_text(encoding="utf-8"):
                stale.append(path.name)
                if not check:
                    path.write_text(text, encoding="utf-8")
    if check and stale:
        raise click.ClickException(f"{', '.join(stale)} differ from the judgments: run `kb adjudicate`")
    everything = ", ".join(f"{kind}.toml" for kind in judgments.SETS)
    click.echo(f"Rewrote {', '.join(stale)}" if stale else f"Up to date: {everything}")


@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to listen on.")
@click.option("--port", type=click.IntRange(1, 65535), default=5000, show_default=True,
              help="Port to listen on.")
@click.option("--workers", type=click.IntRange(1, 64), default=None,
              help="Worker processes (default: the number of CPU cores).")
@click.option("--threads", type=click.IntRange(1, 64), default=4, show_default=True,
              help="Threads per worker process.")
def serve(host: str, port: int, workers: int | None, threads: int) -> None:
    """Serve the web app and the JSON API with gunicorn: several processes, several threads."""
    import os

    from kb.web.server import serve as run_server, stale_index_warning

    workers = workers or os.cpu_count() or 1
    with user_errors():
        warning = stale_index_warning(_engine())
    if warning:
        click.echo(f"warning: {warning}", err=True)
    click.echo(f"Serving kb on http://{host}:{port}/ ({workers} workers x {threads} threads)")
    run_server(host, port, workers, threads)


@cli.group()
def curator() -> None:
    """Manage curator accounts."""


@curator.command("add")
@click.argument("email")
@click.option("--admin", is_flag=True, help="An admin can also publish their own submissions.")
@click.password_option(help="The password (asked for when not given; at least 10 characters).")
def curator_add(email: str, admin: bool, password: str) -> None:
    """Add a curator account (the password is asked for, never shown or stored in clear)."""
    from kb.curation import accounts
    from kb.core.db import transaction

    with user_errors():
        engine = _engine()
    try:
        with transaction(engine) as session:
            added = accounts.add_curator(session, email, password, admin=admin)
            role = "admin" if added.is_admin else "curator"
            address = added.email
    except accounts.AccountError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"Added {role} {address}")


@curator.command("deactivate")
@click.argument("email")
def curator_deactivate(email: str) -> None:
    """Deactivate a curator: they cannot log in, and their open sessions end at once."""
    from kb.core.db import transaction
    from kb.curation import accounts

    with user_errors():
        engine = _engine()
    try:
        with transaction(engine) as session:
            accounts.deactivate(session, email)
    except accounts.AccountError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"Deactivated {email.strip().lower()}; their sessions have ended.")


@curator.command("list")
def curator_list() -> None:
    """List curator accounts."""
    from sqlalchemy import select

    from kb.core.db import session_factory
    from kb.core.models import Curator

    with user_errors():
        engine = _engine()
    with session_factory(engine)() as session:
        curators = session.scalars(select(Curator).order_by(Curator.email)).all()
        if not curators:
            click.echo("No curators yet: add one with `kb curator add EMAIL`.")
        for c in curators:
            click.echo(f"{c.email}\t{'admin' if c.is_admin else 'curator'}\t"
                       f"{'active' if c.active else 'inactive'}\t{c.created_at:%Y-%m-%d}")


@cli.command()
@click.option("--format", "fmt", type=click.Choice(["jsonl", "csv"]), default="jsonl",
              show_default=True, help="Output format.")
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path),
              help="Write to this file (default: standard output).")
@click.option("--all", "everything", is_flag=True,
              help="Every practice with its whole record (unpublished ones, status, provenance, "
                   "scores, history, review reasons) and the curators named: JSONL only.")
def export(fmt: str, output: Path | None, everything: bool) -> None:
    """Export every published practice, with its stable ID (--all: everything, to restore)."""
    from kb.curation import transfer
    from kb.core.db import session_factory

    if everything and fmt != "jsonl":
        raise click.UsageError("--all writes JSONL only: leave out --format csv")
    with user_errors():
        engine = _engine()
    with session_factory(engine)() as session:
        text = (transfer.export_jsonl(session, full=everything) if fmt == "jsonl"
                else transfer.export_csv(session))
    if output:
        output.write_text(text, encoding="utf-8")
        click.echo(f"Wrote {output}", err=True)
    else:
        click.echo(text, nl=False)


@cli.command(name="import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def import_(path: Path) -> None:
    """Import practices from JSONL (as `kb export` or `kb export --all` writes it); any bad line
    imports nothing, and every bad line is reported."""
    from kb.curation import transfer
    from kb.core.db import transaction
    from kb.search import make_search

    with user_errors():
        engine = _engine()
        search = make_search(engine)
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise click.ClickException(f"{path}: not UTF-8 text") from None
    try:
        with transaction(engine) as session:
            report = transfer.import_jsonl(session, text, search)
    except transfer.ImportError_ as exc:
        raise click.ClickException(f"{path}: nothing was imported:\n" + "\n".join(exc.problems)) from None
    finally:
        search.close()
        engine.dispose()
    click.echo(f"Imported {len(report.created)} new and {len(report.updated)} updated practices; "
               "they are searchable now, also in running servers.")
    if report.handbook:
        click.echo(f"{len(report.handbook)} handbook practices: their fields were skipped "
                   "(`kb ingest` owns them), their curators' records restored.")
    for practice_id, names in report.differing.items():
        click.echo(f"  {practice_id}: this database's {', '.join(names)} kept (the export's "
                   "differ: it is older than this database's `kb ingest`)")
    if report.curators:
        click.echo(f"Curator accounts created without a password: {', '.join(report.curators)}; "
                   "`kb curator add EMAIL` gives one a password and activates it.")


@cli.command()
def settings() -> None:
    """List every KB_* setting with its current value and help."""
    for s in config.SETTINGS:
        click.echo(f"{s.name}={config.shown(s.name)}\n    {s.help}")


@cli.group()
def db() -> None:
    """Create and upgrade the database schema (KB_DATABASE_URL)."""


def _schema_engine():
    """An engine that skips the schema check: these commands are how a database gets fixed."""
    from kb.core.db import make_engine
    return make_engine(check=False)


@db.command("upgrade")
def db_upgrade() -> None:
    """Create kb's tables, or upgrade them to this kb's schema, keeping every row."""
    from kb.core.db import create_schema

    with user_errors():
        engine = _schema_engine()
        try:
            done = create_schema(engine)
        finally:
            engine.dispose()
    where = engine.url.render_as_string(hide_password=True)
    if done.adopted is not None:
        added = f" (added {', '.join(done.adopted)})" if done.adopted else ""
        click.echo(f"{where} was made by a kb before schema migrations: brought it to the "
                   f"baseline{added} and upgraded it to {done.after} (head); every row is kept.")
    elif done.before == done.after:
        click.echo(f"{where} is at {done.after} (head) already: nothing to do.")
    elif done.before is None:
        click.echo(f"Created kb's tables in {where} at {done.after} (head).")
    else:
        click.echo(f"Upgraded {where} from {done.before} to {done.after} (head).")


@db.command("current")
def db_current() -> None:
    """Print the database's schema revision and whether it is this kb's (head)."""
    from kb.core import migrations

    with user_errors():
        engine = _schema_engine()
        try:
            status = migrations.status(engine)
        finally:
            engine.dispose()
    where = engine.url.render_as_string(hide_password=True)
    if status.at_head:
        state = "(head)"
    elif not status.known:
        state = "(not a revision this kb has: a newer kb upgraded it)"
    elif status.current is not None:
        state = f"(behind head {status.head}: run `kb db upgrade`)"
    elif status.kb_tables:
        state = f"(made by a kb before schema migrations; head {status.head}: run `kb db upgrade`)"
    else:
        state = f"(no kb tables yet; head {status.head}: run `kb db upgrade`)"
    click.echo(f"{where}: {status.current or 'none'} {state}")


@db.command("revision")
@click.argument("message")
def db_revision(message: str) -> None:
    """Write the next revision for what kb/models.py has beyond the last one (for developers)."""
    from kb.core import migrations

    with user_errors():
        path = migrations.autogenerate(message)
    if path is None:
        click.echo("kb/models.py matches the last revision: nothing to write.")
    else:
        click.echo(f"Wrote {path}: review it (batch ALTERs for SQLite, data to move) before "
                   "committing it.")


def main() -> None:
    cli()
