"""``/s/<token>/…``: the client's gallery (outside ``/api/``: no login, no session)."""

from django.urls import path

from . import views

urlpatterns = [
    path("<str:token>/", views.gallery_page, name="share-gallery"),
    path("<str:token>/api/photos", views.gallery_photos_view, name="share-photos"),
    path("<str:token>/api/picks", views.gallery_picks_view, name="share-picks"),
    path("<str:token>/i/<str:signed>", views.gallery_image, name="share-image"),
    path("<str:token>/download/picks.zip", views.gallery_zip, name="share-zip"),
    path(
        "<str:token>/exports/<int:export_id>/download",
        views.gallery_export_download,
        name="share-export",
    ),
]
