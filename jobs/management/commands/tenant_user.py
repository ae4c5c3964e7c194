"""``tenant_user TENANT USERNAME [--password P] [--staff] [--superuser]`` (SPEC §12)."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from rest_framework.authtoken.models import Token

from config.admin_scoping import staff_permissions_grant
from projects.models import Membership, Tenant


class Command(BaseCommand):
    help = "Create the tenant and/or the user (idempotent); prints the user's API token last."

    def add_arguments(self, parser) -> None:  # type: ignore[no-untyped-def]
        parser.add_argument("tenant", help="Tenant slug (lowercase letters, digits, - and _).")
        parser.add_argument("username")
        parser.add_argument("--password")
        parser.add_argument("--staff", action="store_true")
        parser.add_argument("--superuser", action="store_true")

    def handle(self, *args, **options) -> None:  # type: ignore[no-untyped-def]
        slug = options["tenant"]
        field = Tenant._meta.get_field("slug")
        try:
            field.run_validators(slug)
        except Exception as exc:
            raise CommandError(f"Invalid tenant slug {slug!r}: {exc}") from exc
        User = get_user_model()
        with transaction.atomic():
            tenant, created = Tenant.objects.get_or_create(slug=slug, defaults={"name": slug})
            if created:
                self.stderr.write(f"Created tenant {slug}.")
            user, user_created = User.objects.get_or_create(username=options["username"])
            membership = Membership.objects.filter(user=user).first()
            if membership and membership.tenant_id != tenant.pk:
                raise CommandError(
                    f"User {user.username} already belongs to tenant {membership.tenant.slug}."
                )
            if membership is None:
                Membership.objects.create(
                    user=user, tenant=tenant, role="staff" if options["staff"] else "member"
                )
            if options["password"]:
                user.set_password(options["password"])
            elif user_created:
                user.set_unusable_password()
            if options["staff"] or options["superuser"]:
                user.is_staff = True
                staff_permissions_grant(user=user)
            if options["superuser"]:
                user.is_superuser = True
            user.save()
            token, _ = Token.objects.get_or_create(user=user)
        if user_created:
            self.stderr.write(f"Created user {user.username} in {slug}.")
        self.stdout.write(token.key)
