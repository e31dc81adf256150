"""PostgreSQL connection settings shared by the tooling, and the database a build needs.

Every setting comes from the same ``OUTPUT_KPIS_PG_*`` environment variables the dbt profile
reads (``profiles.example.yml``), with the same defaults, so dbt, GE and publishing always talk
to one database. ``python -m kpi_tooling.core.pg ensure-database`` creates the database when it is
missing (`make build-postgres` runs it first).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import psycopg2
from psycopg2 import sql

EXIT_OK, EXIT_SETUP = 0, 2


@dataclass(frozen=True)
class PgSettings:
    host: str = "127.0.0.1"
    port: int = 5432
    user: str = "postgres"
    password: str = ""
    database: str = "output_kpis"

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> PgSettings:
        env = os.environ if env is None else env
        return cls(
            host=env.get("OUTPUT_KPIS_PG_HOST", cls.host),
            port=int(env.get("OUTPUT_KPIS_PG_PORT", str(cls.port))),
            user=env.get("OUTPUT_KPIS_PG_USER", cls.user),
            password=env.get("OUTPUT_KPIS_PG_PASSWORD", cls.password),
            database=env.get("OUTPUT_KPIS_PG_DATABASE", cls.database),
        )

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"

    def connect_kwargs(self, database: str | None = None) -> dict[str, Any]:
        return {
            "host": self.host,
            "port": self.port,
            "user": self.user,
            "password": self.password,
            "dbname": database or self.database,
            "connect_timeout": 5,
            "application_name": "output_kpis",
        }

    def connect(self, database: str | None = None) -> psycopg2.extensions.connection:
        return psycopg2.connect(**self.connect_kwargs(database))

    def sqlalchemy_url(self) -> str:
        """``postgresql+psycopg2://`` URL for GE (the password is part of it: do not print)."""
        auth = quote(self.user, safe="")
        if self.password:
            auth += ":" + quote(self.password, safe="")
        return f"postgresql+psycopg2://{auth}@{self.host}:{self.port}/{quote(self.database)}"


def ensure_database(settings: PgSettings) -> bool:
    """Create the settings' database when it does not exist; True when it was created."""
    con = settings.connect(database="postgres")
    try:
        con.autocommit = True  # CREATE DATABASE cannot run inside a transaction
        with con.cursor() as cur:
            cur.execute("select 1 from pg_database where datname = %s", [settings.database])
            if cur.fetchone():
                return False
            cur.execute(sql.SQL("create database {}").format(sql.Identifier(settings.database)))
            return True
    finally:
        con.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m kpi_tooling.core.pg",
        description="PostgreSQL helpers for the output_kpis build (settings: OUTPUT_KPIS_PG_*).",
    )
    parser.add_argument("command", choices=["ensure-database"], help="what to do")
    args = parser.parse_args(argv)
    settings = PgSettings.from_env()
    try:
        if args.command == "ensure-database":
            created = ensure_database(settings)
            verb = "created" if created else "exists"
            print(f"database {settings.database} at {settings.address}: {verb}")
    except psycopg2.Error as exc:
        print(f"ERROR: PostgreSQL at {settings.address}: {exc}".strip(), file=sys.stderr)
        return EXIT_SETUP
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
