"""The share link services (``sharing.services``): one transaction with visibility, events,
and the picks applied only by the editor's action."""

from __future__ import annotations

import pytest

from core.errors import ApplicationError, ConflictError, NotFoundError
from jobs.models import Event
from photos.models import Photo
from projects.roles import Role
from sharing import services
from sharing.models import ShareLink
from tests.factories import make_photo, make_user

from .factories import pick_record


@pytest.fixture
def editor(tenant):
    return make_user(tenant, "eddie", role=Role.EDITOR)


def test_a_failed_visibility_write_leaves_no_link_and_no_event(editor, photos, monkeypatch):
    def broken(**kwargs):
        raise ApplicationError("disk on fire")

    monkeypatch.setattr(services, "photos_visibility_update", broken)
    with pytest.raises(ApplicationError):
        services.share_create(user=editor, title="T", photo_ids=[photos[0].pk])
    assert not ShareLink.objects.exists()
    assert not Event.objects.exists()


def test_making_a_photo_private_hides_it_from_the_links_public_count(editor, photos):
    from photos.services import photos_visibility_update

    created = services.share_create(user=editor, title="T", photo_ids=[p.pk for p in photos])
    assert created.token
    photos_visibility_update(
        user=editor, items=[{"photo_id": photos[0].pk, "visibility": "private"}]
    )
    from sharing.selectors import share_get

    link = share_get(editor, created.link.pk)
    assert (link.photo_count, link.public_count) == (4, 3)


def test_create_refuses_a_past_expiry_or_empty_title(editor, photos):
    from datetime import timedelta

    from django.utils import timezone

    with pytest.raises(ApplicationError, match="future"):
        services.share_create(
            user=editor,
            title="T",
            photo_ids=[photos[0].pk],
            expires_at=timezone.now() - timedelta(seconds=1),
        )
    with pytest.raises(ApplicationError, match="title"):
        services.share_create(user=editor, title="  ", photo_ids=[photos[0].pk])
    assert not ShareLink.objects.exists()


def test_revoke_is_tenant_scoped_and_idempotent(editor, photos, other_user):
    link = services.share_create(user=editor, title="T", photo_ids=[photos[0].pk]).link
    with pytest.raises(NotFoundError):
        services.share_revoke(user=other_user, share_id=link.pk)
    first = services.share_revoke(user=editor, share_id=link.pk)
    second = services.share_revoke(user=editor, share_id=link.pk)
    assert first.revoked_at == second.revoked_at
    with pytest.raises(ConflictError):
        services.share_update(user=editor, share_id=link.pk, changes={"title": "x"})


def test_picks_apply_only_to_picked_photos_still_in_the_link(editor, photos, project):
    a, b, c, _ = photos
    link = services.share_create(user=editor, title="T", photo_ids=[a.pk, b.pk, c.pk]).link
    pick_record(link, a)
    pick_record(link, b)
    pick_record(link, c, picked=False, comment="no")
    services.share_update(user=editor, share_id=link.pk, changes={}, remove_photo_ids=[b.pk])
    done = services.share_picks_apply(
        user=editor, share_id=link.pk, values={"keep_jpg": False, "rating": 3}
    )
    assert done.updated == 1
    flags = {p.pk: (p.keep_jpg, p.rating) for p in Photo.objects.filter(project=project)}
    assert flags[a.pk] == (False, 3)
    assert flags[b.pk] == (True, 0)
    assert flags[c.pk] == (True, 0)
    # The keep service's own event of pending deletes came with it.
    assert Event.objects.filter(type="pending_changes", project=project).exists()


def test_adding_another_tenants_photo_is_an_error_not_a_link(editor, photos, other_project):
    theirs = make_photo(other_project, "THEIRS")
    link = services.share_create(user=editor, title="T", photo_ids=[photos[0].pk]).link
    updated = services.share_update(
        user=editor, share_id=link.pk, changes={}, add_photo_ids=[theirs.pk]
    )
    assert updated.added == []
    assert updated.errors == [{"photo_id": theirs.pk, "error": "Photo not found."}]
    assert list(link.photos.values_list("pk", flat=True)) == [photos[0].pk]
