"""Take the lane permissions back from staff: lanes are shared by every tenant (SPEC §7, §14).

Earlier staff grants gave ``jobs.change_lanestate`` to every tenant's staff, so one studio could
pause every studio's work. Superusers keep pausing lanes (they need no explicit permission).
"""

from django.db import migrations

LANE_PERMISSIONS = ("add_lanestate", "change_lanestate", "delete_lanestate")


def revoke_lane_permissions(apps, schema_editor):  # type: ignore[no-untyped-def]
    Permission = apps.get_model("auth", "Permission")
    User = apps.get_model("auth", "User")
    Group = apps.get_model("auth", "Group")
    perm_ids = list(
        Permission.objects.filter(
            content_type__app_label="jobs", codename__in=LANE_PERMISSIONS
        ).values_list("pk", flat=True)
    )
    if not perm_ids:
        return
    User.user_permissions.through.objects.filter(
        permission_id__in=perm_ids, user__is_superuser=False
    ).delete()
    Group.permissions.through.objects.filter(permission_id__in=perm_ids).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("jobs", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [
        migrations.RunPython(revoke_lane_permissions, migrations.RunPython.noop),
    ]
