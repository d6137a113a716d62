"""Alembic environment: runs on the engine handed over in the config attributes."""

from alembic import context

from healthequity.store.tables import metadata

config = context.config
engine = config.attributes.get("engine")
if engine is None:
    from healthequity.config import load_settings
    from healthequity.store.database import create_database_engine

    engine = create_database_engine(load_settings().database_url)

with engine.connect() as connection:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()
    connection.commit()
