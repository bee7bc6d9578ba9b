"""The migrations on each backend: one head; the chain to head creates exactly the models' schema; every
revision downgrades and upgrades again."""

from __future__ import annotations

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, text

from store.db import alembic_config, make_engine, migrate
from store.models import Base

TABLES = {"feed_states", "outbox_items", "delivery_receipts", "feed_feedback"}


def test_0002_matches_the_models_and_downgrades(empty_url: str) -> None:
    migrate(empty_url)
    engine = make_engine(empty_url)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            assert compare_metadata(context, Base.metadata) == []
        inspector = inspect(engine)
        assert set(inspector.get_table_names()) >= TABLES
        assert {uc["name"] for uc in inspector.get_unique_constraints("outbox_items")} == {
            "uq_outbox_items_idempotency_key"}
        assert {c["name"] for c in inspector.get_check_constraints("outbox_items")} == {
            "ck_outbox_items_outbox_kind", "ck_outbox_items_outbox_state"}
        assert {fk["name"] for fk in inspector.get_foreign_keys("outbox_items")} == {
            "fk_outbox_items_institution_id_institutions", "fk_outbox_items_submission_id_submissions",
            "fk_outbox_items_feed_id_feed_states"}
        assert {uc["name"] for uc in inspector.get_unique_constraints("delivery_receipts")} == {
            "uq_delivery_receipts_outbox_item_id"}

        config = alembic_config()
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            command.downgrade(config, "0001")
        assert not TABLES & set(inspect(engine).get_table_names())
        assert "submissions" in inspect(engine).get_table_names()
        migrate(engine, "0002")
        with engine.connect() as connection:
            assert connection.execute(text("SELECT version_num FROM alembic_version")).scalar() == "0002"
        assert set(inspect(engine).get_table_names()) >= TABLES
        migrate(engine)
    finally:
        engine.dispose()


def test_one_head_and_every_revision_downgrades_and_upgrades(empty_url: str) -> None:
    """A single head, and each revision, on each backend, downgrades to the one before and upgrades
    again, ending with the models' schema."""
    from alembic.script import ScriptDirectory

    config = alembic_config()
    script = ScriptDirectory.from_config(config)
    assert len(script.get_heads()) == 1
    revisions = [r.revision for r in reversed(list(script.walk_revisions()))]
    assert revisions[0] == "0001" and len(revisions) >= 4
    engine = make_engine(empty_url)
    try:
        for revision in revisions:
            migrate(engine, revision)
        for previous in reversed(["base", *revisions[:-1]]):
            with engine.begin() as connection:
                config.attributes["connection"] = connection
                command.downgrade(config, previous)
        assert "submissions" not in inspect(engine).get_table_names()
        migrate(engine)
        with engine.connect() as connection:
            assert connection.execute(text("SELECT version_num FROM alembic_version")).scalar() == revisions[-1]
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            assert compare_metadata(context, Base.metadata) == []
    finally:
        engine.dispose()
