"""Membership roles of SPEC §14: viewer, culler, editor, owner.

Every member could do everything before roles existed, so existing memberships (``staff`` and
``member``) become owners and keep working.
"""

from django.db import migrations, models


def roles_to_owner(apps, schema_editor):
    Membership = apps.get_model("projects", "Membership")
    Membership.objects.exclude(role__in=["viewer", "culler", "editor", "owner"]).update(
        role="owner"
    )


class Migration(migrations.Migration):
    dependencies = [
        ("projects", "0005_project_checked_fingerprint_db_default"),
    ]

    operations = [
        migrations.AlterField(
            model_name="membership",
            name="role",
            field=models.CharField(
                choices=[
                    ("viewer", "Viewer"),
                    ("culler", "Culler"),
                    ("editor", "Editor"),
                    ("owner", "Owner"),
                ],
                default="owner",
                max_length=16,
            ),
        ),
        migrations.RunPython(roles_to_owner, migrations.RunPython.noop),
    ]
