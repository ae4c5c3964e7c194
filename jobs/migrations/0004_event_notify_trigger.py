"""Wake open event streams on commit: a statement trigger on jobs_event sends one
``pg_notify('photolib_events', tenant_id)`` per tenant of the inserted rows (PostgreSQL only;
see jobs/wakeups.py). NOTIFY is transactional, so it is delivered exactly when the events are.
"""

from django.db import migrations

FUNCTION = """
CREATE OR REPLACE FUNCTION jobs_event_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('photolib_events', t.tenant_id::text)
    FROM (SELECT DISTINCT tenant_id FROM new_rows) AS t;
    RETURN NULL;
END;
$$;
"""
TRIGGER = (
    "CREATE TRIGGER jobs_event_notify AFTER INSERT ON jobs_event "
    "REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION jobs_event_notify()"
)


def install(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(FUNCTION)
        cursor.execute(TRIGGER)


def uninstall(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        cursor.execute("DROP TRIGGER IF EXISTS jobs_event_notify ON jobs_event")
        cursor.execute("DROP FUNCTION IF EXISTS jobs_event_notify()")


class Migration(migrations.Migration):
    dependencies = [("jobs", "0003_pipeline_cache_table")]

    operations = [migrations.RunPython(install, uninstall)]
