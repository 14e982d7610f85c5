"""Alembic environment and versions: the only way the schema changes (`orders migrate`)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config

HERE = Path(__file__).parent


def sqlalchemy_url(database_url: str) -> str:
    """SQLAlchemy needs the driver named; psycopg 3 is the one the platform uses everywhere."""
    scheme, sep, rest = database_url.partition("://")
    if scheme in {"postgres", "postgresql"}:
        return f"postgresql+psycopg{sep}{rest}"
    return database_url


def alembic_config(database_url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(HERE))
    # '%' must be doubled for ConfigParser interpolation (it appears in url-encoded passwords)
    config.set_main_option("sqlalchemy.url", sqlalchemy_url(database_url).replace("%", "%%"))
    return config


def upgrade(database_url: str, revision: str = "head") -> None:
    command.upgrade(alembic_config(database_url), revision)


def downgrade(database_url: str, revision: str) -> None:
    command.downgrade(alembic_config(database_url), revision)
