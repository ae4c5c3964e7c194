"""Keep flags and tags of many photos at once (photos.services.bulk)."""

import pytest

from core.errors import PayloadTooLarge
from core.limits import MAX_ITEMS_PER_JOB
from jobs.models import Event
from photos.models import Photo, Tag
from photos.services import photos_keep_update, photos_tags_add, photos_tags_remove
from photos.services.projects import project_archive
from photos.services.results import BulkUpdated
from tests.factories import make_photo, make_project

# --- keep flags ---------------------------------------------------------------------------


def test_keep_update_changes_only_the_flags_given(user, project):
    photo = make_photo(project, "IMG_1", raw=True)
    reply = photos_keep_update(user=user, items=[{"photo_id": photo.pk, "keep_jpg": False}])
    assert reply == BulkUpdated(updated=1)
    photo.refresh_from_db()
    assert (photo.keep_jpg, photo.keep_raw) == (False, True)


def test_keep_update_counts_only_photos_that_changed(user, project):
    a = make_photo(project, "A", raw=True)
    b = make_photo(project, "B", raw=True)
    reply = photos_keep_update(
        user=user,
        items=[
            {"photo_id": a.pk, "keep_jpg": True, "keep_raw": True},  # already so
            {"photo_id": b.pk, "keep_raw": False},
        ],
    )
    assert reply == BulkUpdated(updated=1)
    assert not Event.objects.filter(type="item", photo=a).exists()


def test_keep_item_without_flags_is_ignored_not_an_error(user, project):
    photo = make_photo(project, "IMG_1")
    reply = photos_keep_update(user=user, items=[{"photo_id": photo.pk}])
    assert reply == BulkUpdated(updated=0)


def test_keep_bad_items_are_reported_and_valid_items_still_apply(user, project):
    good = make_photo(project, "GOOD")
    reply = photos_keep_update(
        user=user,
        items=[
            {"keep_jpg": False},
            {"photo_id": 999_999, "keep_jpg": False},
            {"photo_id": good.pk, "keep_raw": "yes"},
            {"photo_id": "abc", "keep_jpg": False},
            {"photo_id": good.pk, "keep_jpg": False},
        ],
    )
    assert reply.updated == 1
    assert reply.errors == [
        {"photo_id": None, "error": "photo_id is required."},
        {"photo_id": good.pk, "error": "keep_raw must be true or false."},
        {"photo_id": "abc", "error": "photo_id must be an integer."},
        {"photo_id": 999_999, "error": "Photo not found."},
    ]
    good.refresh_from_db()
    assert good.keep_jpg is False


def test_keep_another_tenants_photo_is_not_found(user, other_tenant):
    foreign = make_photo(make_project(other_tenant, "Theirs"), "X")
    reply = photos_keep_update(user=user, items=[{"photo_id": foreign.pk, "keep_jpg": False}])
    assert reply == BulkUpdated(
        updated=0, errors=[{"photo_id": foreign.pk, "error": "Photo not found."}]
    )
    foreign.refresh_from_db()
    assert foreign.keep_jpg is True


def test_keep_photo_of_archived_project_is_not_found(user, project):
    photo = make_photo(project, "IMG_1")
    project_archive(project=project)
    reply = photos_keep_update(user=user, items=[{"photo_id": photo.pk, "keep_jpg": False}])
    assert reply.errors[0]["error"] == "Photo not found."


def test_keep_dry_run_reports_and_writes_nothing(user, project):
    a = make_photo(project, "A", raw=True)
    b = make_photo(project, "B")
    events_before = Event.objects.count()
    reply = photos_keep_update(
        user=user,
        items=[
            {"photo_id": a.pk, "keep_raw": False, "keep_jpg": True},
            {"photo_id": b.pk, "keep_jpg": True},
        ],
        dry_run=True,
    )
    assert reply == BulkUpdated(
        updated=1,
        per_item=[
            {"photo_id": a.pk, "would_update": {"keep_raw": False}},
            {"photo_id": b.pk, "would_update": {}},
        ],
    )
    a.refresh_from_db()
    assert a.keep_raw is True
    assert Event.objects.count() == events_before


def test_keep_writes_item_events_and_pending_totals_per_project(user, tenant, project):
    second = make_project(tenant, "Second")
    a = make_photo(project, "A", raw=True)
    b = make_photo(second, "B", raw=True)
    photos_keep_update(
        user=user,
        items=[
            {"photo_id": a.pk, "keep_jpg": False, "keep_raw": False},
            {"photo_id": b.pk, "keep_raw": False},
        ],
    )
    item = Event.objects.get(type="item", photo=a)
    assert item.actor_id == user.pk
    assert item.payload == {
        "photo_id": a.pk,
        "project_id": project.pk,
        "keep_jpg": False,
        "keep_raw": False,
    }
    pending = {e.project_id: e.payload for e in Event.objects.filter(type="pending_changes")}
    assert pending[project.pk] == {
        "project_id": project.pk,
        "jpg": 1,
        "raw": 1,
        "total": 2,
        "photos": 1,
    }
    assert pending[second.pk]["raw"] == 1
    assert pending[second.pk]["jpg"] == 0


@pytest.mark.parametrize("count", [3, 120])
def test_keep_update_runs_a_fixed_number_of_queries(
    user, tenant, project, count, django_assert_max_num_queries
):
    second = make_project(tenant, "Second")
    photos = [
        make_photo(p, f"IMG_{i}", write=False)
        for i, p in enumerate([project, second] * (count // 2 + 1))
    ][:count]
    items = [
        {"photo_id": p.pk, "keep_jpg": False, **({"keep_raw": True} if i % 2 else {})}
        for i, p in enumerate(photos)
    ]
    user._photolib_membership = (tenant.pk, "owner")  # Membership cached as in a request.
    with django_assert_max_num_queries(8):
        reply = photos_keep_update(user=user, items=items)
    assert reply.updated == count
    assert Photo.objects.filter(keep_jpg=False).count() == count


def test_keep_more_than_the_limit_is_refused(user):
    with pytest.raises(PayloadTooLarge, match="exceeding maximum of 2000"):
        photos_keep_update(
            user=user,
            items=[{"photo_id": i, "keep_jpg": False} for i in range(MAX_ITEMS_PER_JOB + 1)],
        )


# --- tags ---------------------------------------------------------------------------------


def _tags(photo):
    return sorted(photo.tags.values_list("name", flat=True))


def test_tags_add_creates_tags_in_the_photos_project(user, tenant, project):
    second = make_project(tenant, "Second")
    a, b = make_photo(project, "A"), make_photo(second, "B")
    reply = photos_tags_add(
        user=user,
        items=[
            {"photo_id": a.pk, "tags": ["  Iceland ", "sunset"]},
            {"photo_id": b.pk, "tags": ["Iceland"]},
        ],
    )
    assert reply == BulkUpdated(updated=2)
    assert _tags(a) == ["Iceland", "sunset"]
    assert _tags(b) == ["Iceland"]
    assert Tag.objects.filter(name="Iceland").count() == 2  # one per project
    assert set(a.tags.values_list("project_id", flat=True)) == {project.pk}
    assert set(b.tags.values_list("project_id", flat=True)) == {second.pk}
    event = Event.objects.get(type="item", photo=a)
    assert event.payload["tags"] == ["Iceland", "sunset"]
    assert event.payload["tags_added"] == ["Iceland", "sunset"]


def test_tags_add_again_changes_nothing(user, project):
    a = make_photo(project, "A")
    photos_tags_add(user=user, items=[{"photo_id": a.pk, "tags": ["x"]}])
    reply = photos_tags_add(user=user, items=[{"photo_id": a.pk, "tags": ["x", " x "]}])
    assert reply == BulkUpdated(updated=0)
    assert Tag.objects.filter(name="x").count() == 1


@pytest.mark.parametrize(
    ("tags", "error"),
    [
        (["   "], "A tag name cannot be empty."),
        (["x" * 101], "A tag name is at most 100 characters."),
        (["bad\x07bell"], "A tag name cannot contain control or invisible characters (U+0007)."),
        ([7], "Tags must be strings."),
        ("solo", "tags must be a list of strings."),
    ],
)
def test_tags_bad_value_is_an_item_error(user, project, tags, error):
    a, b = make_photo(project, "A"), make_photo(project, "B")
    reply = photos_tags_add(
        user=user,
        items=[{"photo_id": a.pk, "tags": tags}, {"photo_id": b.pk, "tags": ["ok"]}],
    )
    assert reply == BulkUpdated(updated=1, errors=[{"photo_id": a.pk, "error": error}])
    assert _tags(a) == []
    assert _tags(b) == ["ok"]


def test_tag_of_exactly_100_characters_is_accepted(user, project):
    a = make_photo(project, "A")
    reply = photos_tags_add(user=user, items=[{"photo_id": a.pk, "tags": ["y" * 100]}])
    assert reply == BulkUpdated(updated=1)


def test_tags_dry_run_reports_would_add_and_would_remove(user, project):
    a = make_photo(project, "A")
    photos_tags_add(user=user, items=[{"photo_id": a.pk, "tags": ["old"]}])
    added = photos_tags_add(
        user=user, items=[{"photo_id": a.pk, "tags": ["old", "new"]}], dry_run=True
    )
    removed = photos_tags_remove(
        user=user, items=[{"photo_id": a.pk, "tags": ["old", "absent"]}], dry_run=True
    )
    assert added == BulkUpdated(updated=1, per_item=[{"photo_id": a.pk, "would_add": ["new"]}])
    assert removed == BulkUpdated(updated=1, per_item=[{"photo_id": a.pk, "would_remove": ["old"]}])
    assert _tags(a) == ["old"]
    assert not Tag.objects.filter(name="new").exists()


def test_tags_remove_unlinks_and_keeps_the_projects_tag(user, project):
    a, b = make_photo(project, "A"), make_photo(project, "B")
    photos_tags_add(user=user, items=[{"photo_id": p.pk, "tags": ["x", "y"]} for p in (a, b)])
    reply = photos_tags_remove(
        user=user,
        items=[{"photo_id": a.pk, "tags": ["x", "never"]}, {"photo_id": b.pk, "tags": ["z"]}],
    )
    assert reply == BulkUpdated(updated=1)
    assert _tags(a) == ["y"]
    assert _tags(b) == ["x", "y"]
    assert Tag.objects.filter(project=project, name="x").exists()
    event = Event.objects.filter(type="item", photo=a).last()
    assert event.payload["tags_removed"] == ["x"]
    assert event.payload["tags"] == ["y"]


def test_tags_on_another_tenants_photo_are_not_found(user, other_tenant):
    foreign = make_photo(make_project(other_tenant, "Theirs"), "X")
    reply = photos_tags_add(user=user, items=[{"photo_id": foreign.pk, "tags": ["mine"]}])
    assert reply == BulkUpdated(
        updated=0, errors=[{"photo_id": foreign.pk, "error": "Photo not found."}]
    )
    assert not Tag.objects.exists()


@pytest.mark.parametrize("count", [3, 120])
def test_tags_run_a_fixed_number_of_queries(
    user, tenant, project, count, django_assert_max_num_queries
):
    second = make_project(tenant, "Second")
    photos = [
        make_photo(p, f"IMG_{i}", write=False)
        for i, p in enumerate([project, second] * (count // 2 + 1))
    ][:count]
    user._photolib_membership = (tenant.pk, "owner")
    with django_assert_max_num_queries(11):
        reply = photos_tags_add(
            user=user,
            items=[{"photo_id": p.pk, "tags": ["a", f"t{i % 3}"]} for i, p in enumerate(photos)],
        )
    assert reply.updated == count
    with django_assert_max_num_queries(8):
        reply = photos_tags_remove(
            user=user, items=[{"photo_id": p.pk, "tags": ["a"]} for p in photos]
        )
    assert reply.updated == count
    assert Photo.tags.through.objects.count() == count


def test_ids_that_cannot_be_rows_are_not_found_on_every_database(user, project):
    from core.errors import NotFoundError
    from photos.services import photos_commit, photos_move
    from photos.services.results import NothingPending

    huge = 2**70
    reply = photos_keep_update(
        user=user,
        items=[{"photo_id": huge, "keep_jpg": False}, {"photo_id": -5, "keep_jpg": False}],
    )
    assert reply.errors == [
        {"photo_id": huge, "error": "Photo not found."},
        {"photo_id": -5, "error": "Photo not found."},
    ]
    assert photos_commit(user=user, project_ids=[huge]) == NothingPending(missing=[huge])
    with pytest.raises(NotFoundError):
        photos_move(user=user, items=[], dest_project_id=huge)


@pytest.mark.parametrize(
    ("tag", "code"),
    [
        ("zero\u200bwidth", "U+200B"),
        ("gpj\u202eexe", "U+202E"),
        ("line\u2028break", "U+2028"),
        ("\u3164", "U+3164"),
        ("soft\u00adhyphen", "U+00AD"),
        ("\ufeffbom", "U+FEFF"),
    ],
)
def test_tags_with_invisible_characters_are_refused(user, project, tag, code):
    a = make_photo(project, "A")
    reply = photos_tags_add(user=user, items=[{"photo_id": a.pk, "tags": [tag]}])
    assert reply.errors == [
        {
            "photo_id": a.pk,
            "error": f"A tag name cannot contain control or invisible characters ({code}).",
        }
    ]
    assert _tags(a) == []
    assert not Tag.objects.exists()


def test_an_item_may_name_at_most_50_tags(user, project):
    from photos.services.bulk import MAX_TAGS_PER_ITEM

    a, b = make_photo(project, "A"), make_photo(project, "B")
    too_many = [f"t{i}" for i in range(MAX_TAGS_PER_ITEM + 1)]
    reply = photos_tags_add(
        user=user,
        items=[
            {"photo_id": a.pk, "tags": too_many},
            {"photo_id": b.pk, "tags": too_many[:MAX_TAGS_PER_ITEM]},
        ],
    )
    assert reply.errors == [{"photo_id": a.pk, "error": "At most 50 tags per item, got 51."}]
    assert _tags(a) == []
    assert len(_tags(b)) == MAX_TAGS_PER_ITEM


def test_a_photo_carries_at_most_100_tags(user, project):
    from photos.services.bulk import MAX_TAGS_PER_PHOTO

    a = make_photo(project, "A")
    for start in (0, 50):
        items = [{"photo_id": a.pk, "tags": [f"t{i}" for i in range(start, start + 50)]}]
        assert photos_tags_add(user=user, items=items).updated == 1
    assert len(_tags(a)) == MAX_TAGS_PER_PHOTO
    # Tags it already carries are no more tags.
    assert photos_tags_add(user=user, items=[{"photo_id": a.pk, "tags": ["t1"]}]) == BulkUpdated(
        updated=0
    )
    reply = photos_tags_add(user=user, items=[{"photo_id": a.pk, "tags": ["one-more", "t2"]}])
    assert reply.updated == 0
    assert reply.errors == [
        {
            "photo_id": a.pk,
            "error": "A photo carries at most 100 tags; it has 100 and 1 more were asked.",
        }
    ]
    assert "one-more" not in _tags(a)
    dry = photos_tags_add(user=user, items=[{"photo_id": a.pk, "tags": ["one-more"]}], dry_run=True)
    assert dry.errors[0]["photo_id"] == a.pk
