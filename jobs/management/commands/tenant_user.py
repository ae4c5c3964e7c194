"""``tenant_user TENANT USERNAME [--password P] [--role R] [--staff] [--superuser]`` (SPEC §12)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from core.errors import ApplicationError
from projects.roles import Role
from projects.services import tenant_user_ensure


class Command(BaseCommand):
    help = "Create the tenant and/or the user (idempotent); prints the user's API token last."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("tenant", help="Tenant slug (lowercase letters, digits, - and _).")
        parser.add_argument("username")
        parser.add_argument("--password", help="Set the user's password.")
        parser.add_argument(
            "--role",
            choices=Role.values,
            help="What the member may do: viewer, culler, editor or owner (a new member's "
            "default: owner; an existing member keeps theirs unless this is given).",
        )
        parser.add_argument(
            "--staff", action="store_true", help="Let the user sign in to the admin."
        )
        parser.add_argument(
            "--superuser", action="store_true", help="An operator: every tenant, every right."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            ensured = tenant_user_ensure(
                slug=options["tenant"],
                username=options["username"],
                password=options["password"],
                role=options["role"],
                staff=options["staff"],
                superuser=options["superuser"],
            )
        except ApplicationError as exc:
            raise CommandError(str(exc)) from exc
        if ensured.tenant_created:
            self.stderr.write(f"Created tenant {ensured.tenant.slug}.")
        if ensured.user_created:
            self.stderr.write(
                f"Created user {ensured.user.get_username()} in {ensured.tenant.slug}."
            )
        self.stdout.write(ensured.token)
