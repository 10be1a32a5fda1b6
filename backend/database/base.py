"""Declare the one SQLAlchemy `Base` every model derives from."""

from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase

# Fixed constraint names keep migrations stable across databases (SQLite batch mode needs named constraints).
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Base class of the backend's ORM models."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)
