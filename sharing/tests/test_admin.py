"""Share links in the admin: the tenant's links with counters, and the Revoke action."""

from __future__ import annotations

from django.test import Client

from projects.roles import Role
from sharing import services
from sharing.models import ShareLink
from tests.factories import make_photo, make_user
from tests.test_roles import staff_member

from .factories import pick_record


def test_admin_lists_the_tenants_links_with_counters_and_revokes(
    staff_client, staff, photos, other_project
):
    link = services.share_create(
        user=staff, title="Our selects", photo_ids=[p.pk for p in photos]
    ).link
    pick_record(link, photos[0])
    theirs_owner = make_user(other_project.tenant, "globex-owner")
    theirs = services.share_create(
        user=theirs_owner, title="Their link", photo_ids=[make_photo(other_project, "T").pk]
    ).link
    page = staff_client.get("/admin/sharing/sharelink/")
    assert page.status_code == 200
    text = page.content.decode()
    assert "Our selects" in text
    assert "Their link" not in text
    assert staff_client.get(f"/admin/sharing/sharelink/{theirs.pk}/change/").status_code in (
        302,
        404,
    )
    response = staff_client.post(
        "/admin/sharing/sharelink/",
        {"action": "revoke", "_selected_action": [link.pk, theirs.pk]},
        follow=True,
    )
    assert response.status_code == 200
    assert ShareLink.objects.get(pk=link.pk).revoked_at is not None
    assert ShareLink.objects.get(pk=theirs.pk).revoked_at is None


def test_admin_offers_revoke_only_to_roles_that_may_share(tenant, photos):
    from django.contrib.admin.sites import site
    from django.test import RequestFactory

    for role, offered in ((Role.CULLER, False), (Role.EDITOR, True)):
        user = staff_member(tenant, role)
        request = RequestFactory().get("/admin/")
        request.user = user
        actions = site._registry[ShareLink].get_actions(request)
        assert ("revoke" in actions) is offered, role


def test_admin_list_runs_a_fixed_number_of_queries(staff, photos, django_assert_max_num_queries):
    for n in range(8):
        link = services.share_create(user=staff, title=f"L{n}", photo_ids=[photos[0].pk]).link
        pick_record(link, photos[0])
    client = Client()
    client.force_login(staff)
    with django_assert_max_num_queries(20):
        assert client.get("/admin/sharing/sharelink/").status_code == 200


def test_admin_adds_a_link_of_a_projects_rated_photos_and_shows_its_url_once(
    staff_client, project, other_project
):
    import hashlib
    import re

    from photos.models import Photo

    rated = [make_photo(project, f"STAR_{n}", rating=4) for n in range(3)]
    make_photo(project, "UNRATED")
    page = staff_client.get("/admin/sharing/sharelink/add/")
    assert page.status_code == 200
    # Only the tenant's projects are offered.
    assert other_project.name not in page.content.decode()
    response = staff_client.post(
        "/admin/sharing/sharelink/add/",
        {
            "title": "Selects for Anna",
            "message": "",
            "project": project.pk,
            "rating_min": "3",
            "expires_at_0": "",
            "expires_at_1": "",
            "downloads": "preview",
            "watermark": "",
            "allow_picks": "on",
            "password": "",
        },
        follow=True,
    )
    assert response.status_code == 200
    link = ShareLink.objects.get(title="Selects for Anna")
    assert sorted(link.photos.values_list("pk", flat=True)) == sorted(p.pk for p in rated)
    assert set(
        Photo.objects.filter(pk__in=[p.pk for p in rated]).values_list("visibility", flat=True)
    ) == {"public"}
    shown = [str(m) for m in response.context["messages"]]
    token = re.search(r"/s/([A-Za-z0-9_-]{40,})/", " ".join(shown)).group(1)
    assert hashlib.sha256(token.encode()).hexdigest() == link.token_hash
    # The token is never shown again: the change page carries only its hint.
    change = staff_client.get(f"/admin/sharing/sharelink/{link.pk}/change/").content.decode()
    assert token not in change


def test_admin_add_refuses_a_filter_that_matches_nothing_and_a_role_that_may_not_share(
    staff_client, project, tenant
):
    response = staff_client.post(
        "/admin/sharing/sharelink/add/",
        {"title": "Empty", "project": project.pk, "rating_min": "5", "downloads": "none"},
    )
    assert response.status_code == 200  # the form again, with its error
    assert "No photo of that project matches." in response.content.decode()
    assert not ShareLink.objects.filter(title="Empty").exists()
    culler = Client()
    culler.force_login(staff_member(tenant, Role.CULLER))
    assert culler.get("/admin/sharing/sharelink/add/").status_code == 403
