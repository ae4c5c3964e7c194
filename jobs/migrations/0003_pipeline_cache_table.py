"""The database cache table (``settings.PIPELINE_CACHE_TABLE``) that keeps API throttle counts.

Throttle state must be shared by every web process (SPEC §9); on the embedded default the
shared place is the database. Create the table whatever cache is configured, so switching the
broker (and with it the cache) later needs no extra command.
"""

from django.core.management.commands.createcachetable import Command as CreateCacheTable
from django.db import migrations

TABLE = "pipeline_cache"


def create_table(apps, schema_editor):  # type: ignore[no-untyped-def]
    command = CreateCacheTable()
    command.verbosity = 0
    # Skips a table that already exists.
    command.create_table(schema_editor.connection.alias, TABLE, False)


def drop_table(apps, schema_editor):  # type: ignore[no-untyped-def]
    if TABLE in schema_editor.connection.introspection.table_names():
        schema_editor.execute(f"DROP TABLE {schema_editor.quote_name(TABLE)}")


class Migration(migrations.Migration):
    dependencies = [("jobs", "0002_lane_changes_superusers_only")]

    operations = [migrations.RunPython(create_table, drop_table)]
