"""Alembic environment of the review store (run by :func:`recommender.store.migrations.upgrade_database`).

The caller passes an open connection in ``config.attributes["connection"]`` (already inside the
transaction that serialises concurrent upgrades); for the ``alembic`` command line, the URL comes
from ``sqlalchemy.url`` or ``$RECOMMENDER_DB_URL``.
"""

from __future__ import annotations

from alembic import context

from recommender.store.models import Base

config = context.config
target_metadata = Base.metadata


def _run(connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    from recommender.store.engine import make_engine

    engine = make_engine(config.get_main_option("sqlalchemy.url") or None)
    with engine.begin() as conn:
        _run(conn)
    engine.dispose()


if context.is_offline_mode():  # pragma: no cover - offline SQL generation is not supported
    raise SystemExit("offline migrations are not supported; run them against a database")
run_migrations_online()
