"""Distinct family names, for near-spelling search: a table kept by triggers on people_person,
with a trigram index on PostgreSQL. Existing names are copied in."""

from django.db import migrations, models

POSTGRES = [
    "CREATE INDEX people_familyname_trgm ON people_familyname USING gin (key gin_trgm_ops)",
    """CREATE FUNCTION people_familyname_add() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        INSERT INTO people_familyname (key)
        SELECT DISTINCT family_key FROM changed_people WHERE family_key <> ''
        ON CONFLICT DO NOTHING;
        RETURN NULL;
    END $$""",
    # Statement triggers with the changed rows as a table: one insert per COPY or bulk
    # statement, not one per person.
    "CREATE TRIGGER people_familyname_on_insert AFTER INSERT ON people_person"
    " REFERENCING NEW TABLE AS changed_people FOR EACH STATEMENT"
    " EXECUTE FUNCTION people_familyname_add()",
    "CREATE TRIGGER people_familyname_on_update AFTER UPDATE ON people_person"
    " REFERENCING NEW TABLE AS changed_people FOR EACH STATEMENT"
    " EXECUTE FUNCTION people_familyname_add()",
]
POSTGRES_BACK = [
    "DROP TRIGGER IF EXISTS people_familyname_on_insert ON people_person",
    "DROP TRIGGER IF EXISTS people_familyname_on_update ON people_person",
    "DROP FUNCTION IF EXISTS people_familyname_add()",
]
SQLITE = [
    "CREATE TRIGGER people_familyname_on_insert AFTER INSERT ON people_person"
    " WHEN NEW.family_key <> '' BEGIN"
    " INSERT OR IGNORE INTO people_familyname (key) VALUES (NEW.family_key); END",
    "CREATE TRIGGER people_familyname_on_update AFTER UPDATE OF family_key ON people_person"
    " WHEN NEW.family_key <> '' BEGIN"
    " INSERT OR IGNORE INTO people_familyname (key) VALUES (NEW.family_key); END",
]
SQLITE_BACK = [
    "DROP TRIGGER IF EXISTS people_familyname_on_insert",
    "DROP TRIGGER IF EXISTS people_familyname_on_update",
]


def forwards(apps, schema_editor):
    postgres = schema_editor.connection.vendor == "postgresql"
    for statement in POSTGRES if postgres else SQLITE:
        schema_editor.execute(statement)
    schema_editor.execute(
        "INSERT INTO people_familyname (key) SELECT DISTINCT family_key FROM people_person"
        " WHERE family_key <> ''"
    )


def backwards(apps, schema_editor):
    postgres = schema_editor.connection.vendor == "postgresql"
    for statement in POSTGRES_BACK if postgres else SQLITE_BACK:
        schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [("people", "0005_search_order_indexes")]
    operations = [
        migrations.CreateModel(
            name="FamilyName",
            fields=[("key", models.CharField(max_length=100, primary_key=True, serialize=False))],
        ),
        migrations.RunPython(forwards, backwards),
    ]
