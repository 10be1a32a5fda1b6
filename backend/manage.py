"""Command-line tasks: ``python -m backend.manage migrate``."""

from __future__ import annotations

import argparse
import logging
import sys

from backend.catalog.loader import CatalogError, load_catalog
from backend.config import Settings
from backend.database import migrate


def main(argv: list[str] | None = None) -> int:
    """Run the task named on the command line and return the exit status."""
    parser = argparse.ArgumentParser(prog="python -m backend.manage", description=__doc__)
    tasks = parser.add_subparsers(dest="task", required=True)
    tasks.add_parser("migrate", help="upgrade the case database (INTAKE_DATABASE_URL) to the latest schema")
    tasks.add_parser("check-catalog", help="validate the division catalog (INTAKE_CATALOG_PATH)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    settings = Settings.from_env()
    if args.task == "migrate":
        migrate.upgrade(settings.database_url)
        return 0
    try:
        catalog = load_catalog(settings.catalog_path)
    except CatalogError as exc:
        print(exc, file=sys.stderr)
        return 1
    print(f"{settings.catalog_path}: {len(catalog.divisions)} divisions, ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
