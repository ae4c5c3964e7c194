"""The admin site: every changelist refuses lookup values the database cannot take (SPEC §11).

Django's admin lets a URL filter a changelist by any lookup on the model's own fields
(``?taken_at__year=…``, ``?project__id__exact=…``). It checks a value against the field
(``to_python``) but not against what the database or Python's ``datetime`` can hold: a year of
0 or past 9999, an integer past 64 bits or a NUL byte in a PostgreSQL text comparison fail only
when the query is compiled or run, after the admin's own checks, and became a 500.

``LookupGuardChangeList`` runs the changelist's queries under a guard: such an error becomes
``IncorrectLookupParameters``, which the changelist answers as it answers any filter it cannot
apply (a redirect to ``?e=1``, then the admin's invalid-filter page). ``PhotolibAdminSite.register`` mixes
the guard into every ``ModelAdmin`` registered, ours and third-party ones (auth, authtoken,
django-q2) alike, so no admin can be registered without it.
"""

from __future__ import annotations

import functools
from contextlib import nullcontext
from typing import Any

from django.contrib import admin
from django.contrib.admin.apps import AdminConfig
from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.admin.views.main import ChangeList
from django.db import DataError, connections, router, transaction
from django.http import HttpRequest

# What a lookup value the database or ``datetime`` cannot represent raises while the query is
# compiled (``year 0 is out of range``, ``int too large to convert``) or run (PostgreSQL's
# ``numeric field overflow``, a NUL byte in text).
LOOKUP_VALUE_ERRORS = (DataError, OverflowError, ValueError)


class LookupGuardChangeList(ChangeList):
    """A changelist whose filters, count and page are built under the lookup-value guard."""

    def get_filters(self, request: HttpRequest) -> Any:
        # The date hierarchy's ``?attempt_time__year=…`` is turned into a ``datetime`` here;
        # Django answers its ValueError, not the OverflowError of a year past a C long.
        try:
            return super().get_filters(request)
        except OverflowError as exc:
            raise IncorrectLookupParameters(exc) from exc

    def get_results(self, request: HttpRequest) -> None:
        using = router.db_for_read(self.model)
        # PostgreSQL refuses some values only once the statement runs, which aborts an outer
        # transaction (a test's, ATOMIC_REQUESTS): take a savepoint there, when the URL has
        # parameters at all (a plain list cannot fail this way and keeps its query count).
        # In autocommit there is nothing to protect, and on SQLite an atomic block would take
        # the write lock.
        guarded = bool(request.GET) and connections[using].in_atomic_block
        try:
            with transaction.atomic(using=using) if guarded else nullcontext():
                super().get_results(request)
                # Fetch the page here, not while the template renders: its query is the one
                # that can still fail. The page is cached, so it is not fetched twice.
                len(self.result_list)
        except LOOKUP_VALUE_ERRORS as exc:
            raise IncorrectLookupParameters(exc) from exc


class LookupGuardMixin:
    """Mixed into every registered ``ModelAdmin`` by ``PhotolibAdminSite.register``."""

    def get_changelist(self, request: HttpRequest, **kwargs: Any) -> type[ChangeList]:
        return guarded_changelist(super().get_changelist(request, **kwargs))  # type: ignore[misc]


@functools.cache
def guarded_changelist(changelist: type[ChangeList]) -> type[ChangeList]:
    """``changelist`` with the guard (one class per changelist class, made once)."""
    if issubclass(changelist, LookupGuardChangeList):
        return changelist
    return type(changelist.__name__, (LookupGuardChangeList, changelist), {})


class PhotolibAdminSite(admin.AdminSite):
    """The default admin site (``admin.site``): every admin it registers gets the guard."""

    def register(self, model_or_iterable: Any, admin_class: Any = None, **options: Any) -> None:
        admin_class = admin_class or admin.ModelAdmin
        if not issubclass(admin_class, LookupGuardMixin):
            admin_class = type(
                admin_class.__name__,
                (LookupGuardMixin, admin_class),
                {"__module__": admin_class.__module__},
            )
        super().register(model_or_iterable, admin_class, **options)


class PhotolibAdminConfig(AdminConfig):
    """``django.contrib.admin`` with ``PhotolibAdminSite`` as ``admin.site``."""

    default_site = "config.admin_site.PhotolibAdminSite"
