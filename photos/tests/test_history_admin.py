"""The photo's history on its admin page: who changed what, when, in words (issue 22, item 3)."""

from __future__ import annotations

import re

from django.urls import reverse

from photos.services import photos_keep_update, photos_tags_add
from tests.factories import make_photo


def history_text(response) -> str:
    html = response.content.decode()
    section = html[html.index('id="photo-events"') :]
    section = section[: section.index("</table>")]
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", section))


def test_history_is_a_table_of_who_changed_what_not_raw_json(staff_client, staff, project):
    photo = make_photo(project, "IMG_4507")
    photos_keep_update(user=staff, items=[{"photo_id": photo.pk, "keep_jpg": False}])
    photos_tags_add(user=staff, items=[{"photo_id": photo.pk, "tags": ["wedding"]}])
    photos_keep_update(user=staff, items=[{"photo_id": photo.pk, "keep_jpg": True}])

    response = staff_client.get(reverse("admin:photos_photo_change", args=[photo.pk]))

    assert response.status_code == 200
    text = history_text(response)
    # Newest first; each field change reads old → new, once the old value is known.
    assert text.index("keep JPG: off → on") < text.index("tags: +wedding")
    assert text.index("tags: +wedding") < text.index("keep JPG: on → off")
    assert "stella" in text
    assert '"keep_jpg"' not in response.content.decode()
    assert "{&quot;" not in response.content.decode()
    # When: as a person says it, the exact time on hover.
    assert re.search(
        r'<time datetime="[0-9T:+.-]+" title="[0-9T:+.-]+">[^<]* ago</time>',
        response.content.decode(),
    )
