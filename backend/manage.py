"""Command-line tasks: ``python -m backend.manage migrate``, ``check-catalog``, ``create-admin``,
``export-corrections``.

``create-admin --email E --name N`` creates the first admin account. The password is never taken from the command
line (where other users and shell history could see it): it is read from ``INTAKE_ADMIN_PASSWORD`` when set, else
from the first line of standard input (asked for twice, without echo, at a terminal).
"""

from __future__ import annotations

import argparse
import getpass
import logging
import os
import sys
from pathlib import Path

from sqlalchemy.orm import Session

from backend import (
    corrections,
    models,  # noqa: F401  (maps every table, so that foreign keys resolve)
)
from backend.catalog.loader import CatalogError, load_catalog
from backend.config import Settings
from backend.database import migrate
from backend.database.core import create_db_engine
from backend.staff import users
from backend.staff.permissions import Role

PASSWORD_ENV = "INTAKE_ADMIN_PASSWORD"


def _read_password() -> str:
    """Return the new admin's password from the environment, the terminal (twice) or standard input."""
    from_env = os.environ.get(PASSWORD_ENV)
    if from_env:
        return from_env
    if sys.stdin.isatty():
        first = getpass.getpass("Password for the new admin: ")
        if getpass.getpass("The same password again: ") != first:
            raise users.UserError("The two passwords are not the same.")
        return first
    return sys.stdin.readline().rstrip("\r\n")


def create_admin(settings: Settings, email: str, name: str) -> int:
    """Create an admin account; return the exit status."""
    catalog = load_catalog(settings.catalog_path)
    engine = create_db_engine(settings.database_url)
    try:
        password = _read_password()
        with Session(engine) as session:
            user = users.create(
                session=session,
                catalog=catalog,
                email=email,
                display_name=name,
                role=Role.ADMIN,
                password=password,
                actor_label="create-admin command",
            )
        print(f"Created admin account {user.email}. Sign in at /staff/sign-in.")
        return 0
    except users.UserError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    finally:
        engine.dispose()


def export_corrections(settings: Settings, out: Path) -> int:
    """Write the review file of staff corrections; return the exit status."""
    try:
        database = corrections.open_database(settings.database_url, settings.tracker_database_url)
        try:
            result = corrections.export(database, out)
        finally:
            database.dispose()
    except corrections.NoCaseDatabase as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"Wrote {result.examples} candidate examples from {result.cases} reclassified cases to {result.path}")
    return 0


def main(argv: list[str] | None = None) -> int:
    """Run the task named on the command line and return the exit status."""
    parser = argparse.ArgumentParser(prog="python -m backend.manage", description=__doc__)
    tasks = parser.add_subparsers(dest="task", required=True)
    tasks.add_parser("migrate", help="upgrade the case database (INTAKE_DATABASE_URL) to the latest schema")
    tasks.add_parser("check-catalog", help="validate the division catalog (INTAKE_CATALOG_PATH)")
    admin = tasks.add_parser(
        "create-admin",
        help=f"create an admin account (password from {PASSWORD_ENV} or standard input, never the command line)",
    )
    admin.add_argument("--email", required=True, help="the admin's email, used to sign in")
    admin.add_argument("--name", required=True, help="the admin's name as shown to other staff")
    export = tasks.add_parser(
        "export-corrections",
        help="write the first messages of cases whose kind staff changed, redacted, as NLU examples to review",
    )
    export.add_argument(
        "--out", type=Path, default=corrections.DEFAULT_PATH, help="the review file (default: %(default)s)"
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    settings = Settings.from_env()
    if args.task == "migrate":
        migrate.upgrade(settings.database_url)
        return 0
    if args.task == "create-admin":
        return create_admin(settings, args.email, args.name)
    if args.task == "export-corrections":
        return export_corrections(settings, args.out)
    try:
        catalog = load_catalog(settings.catalog_path)
    except CatalogError as exc:
        print(exc, file=sys.stderr)
        return 1
    print(f"{settings.catalog_path}: {len(catalog.divisions)} divisions, ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
