"""The gallery's HTTP face: plain Django views, no login, no session.

Nothing here reads ``request.user``: a studio user signed in to the same site gets exactly what
an anonymous client gets. Every reply carries the gallery's headers (``gallery_headers``);
every request counts against the per-address ``gallery`` throttle first; every way a link can
fail to open gives ``not_found()``, one fixed reply.
"""

from __future__ import annotations

import json
import mimetypes
import time
from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import Any

import zipstream
from django.conf import settings
from django.http import (
    FileResponse,
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseBase,
    HttpResponseRedirect,
    JsonResponse,
    StreamingHttpResponse,
)
from django.shortcuts import render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.cache import get_conditional_response
from django.utils.http import content_disposition_header, http_date
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from core.api.throttling import RateLimited
from core.errors import NotFoundError
from core.ranges import ranged_file_response
from photos.models import Photo
from sharing.exports import ExportNotReady, export_file
from sharing.models import Export, ShareLink

from .access import (
    ACCESS_COOKIE,
    LinkNotFound,
    access_cookie_max_age,
    access_cookie_value,
    access_granted,
    address_throttle,
    link_open,
    password_try,
    request_address,
)
from .files import derivative_content_type, served_file
from .selectors import gallery_export, gallery_exports, gallery_photo, gallery_photos, gallery_picks
from .services import (
    COMMENT_MAX_CHARS,
    NAME_MAX_CHARS,
    PickInvalid,
    PicksClosed,
    share_download_record,
    share_export_download_record,
    share_pick_set,
    share_view_record,
)
from .signing import image_claim, image_expiry, image_sign

View = Callable[..., HttpResponseBase]
DOWNLOADABLE_PREVIEWS = (ShareLink.Downloads.PREVIEW, ShareLink.Downloads.ORIGINAL)
# Pages and JSON: never stored by shared caches, revalidated by the browser.
PAGE_CACHE_CONTROL = "private, no-cache"


def gallery_headers(response: HttpResponseBase) -> HttpResponseBase:
    """The headers of every gallery reply: not indexed, no referrer leaves the page (the URL
    holds the token), never in a shared cache. The Content-Security-Policy is the site's."""
    response["X-Robots-Tag"] = "noindex, nofollow"
    response["Referrer-Policy"] = "no-referrer"
    if not str(response.get("Cache-Control", "")).startswith("private"):
        response["Cache-Control"] = PAGE_CACHE_CONTROL
    return response


def not_found() -> HttpResponse:
    """The one answer for a link that cannot be opened, whatever the reason."""
    body = render_to_string("sharing/unavailable.html")
    return HttpResponse(body, status=404, content_type="text/html; charset=utf-8")


def _detail(message: str, status: int) -> JsonResponse:
    return JsonResponse({"detail": message}, status=status)


def gallery_endpoint(view: View) -> View:
    """Throttle by client address, map ``LinkNotFound`` to ``not_found()``, add the headers."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        response: HttpResponseBase
        try:
            address_throttle(request_address(request))
        except RateLimited as exc:
            response = HttpResponse(
                f"Too many requests; try again in {exc.wait} s.",
                status=429,
                content_type="text/plain; charset=utf-8",
            )
            response["Retry-After"] = str(exc.wait)
            return gallery_headers(response)
        try:
            response = view(request, *args, **kwargs)
        except LinkNotFound:
            response = not_found()
        return gallery_headers(response)

    return wrapper


def _opened(request: HttpRequest, token: str) -> ShareLink:
    """The live link of ``token`` whose password (if any) this client has given."""
    link = link_open(token)
    if not access_granted(link, request.COOKIES.get(ACCESS_COOKIE)):
        raise LinkNotFound
    return link


def _client_name(request: HttpRequest) -> str:
    return request.GET.get("name", "").strip()[:NAME_MAX_CHARS]


# --- the page -------------------------------------------------------------------------------


def _password_page(request: HttpRequest, link: ShareLink, *, wrong: bool = False) -> HttpResponse:
    return render(
        request,
        "sharing/password.html",
        {"link": link, "wrong": wrong},
        status=403 if wrong else 200,
    )


@gallery_endpoint
@require_http_methods(["GET", "HEAD", "POST"])
def gallery_page(request: HttpRequest, token: str) -> HttpResponseBase:
    """``/s/<token>/``: the gallery, or its password form (POST checks the password)."""
    link = link_open(token)
    if request.method == "POST":
        if not link.password:
            return HttpResponseRedirect(request.path)
        address = request_address(request)
        if not password_try(link, request.POST.get("password", ""), address=address):
            return _password_page(request, link, wrong=True)
        response = HttpResponseRedirect(request.path)
        response.set_cookie(
            ACCESS_COOKIE,
            access_cookie_value(link),
            max_age=access_cookie_max_age(link),
            path=reverse("share-gallery", args=[token]),
            secure=settings.SESSION_COOKIE_SECURE,
            httponly=True,
            samesite="Lax",
        )
        return response
    if not access_granted(link, request.COOKIES.get(ACCESS_COOKIE)):
        return _password_page(request, link)
    if request.method == "GET":
        share_view_record(link=link)
    bootstrap = {
        "title": link.title,
        "message": link.message,
        "downloads": link.downloads,
        "allow_picks": link.allow_picks,
        "comment_max": COMMENT_MAX_CHARS,
        "name_max": NAME_MAX_CHARS,
        # The boxes the two derivatives are fitted in, for the loupe's srcset.
        "thumb_box": settings.PIPELINE_THUMB_SIZE,
        "preview_box": settings.PIPELINE_PREVIEW_SIZE,
        "paths": {
            "photos": reverse("share-photos", args=[token]),
            "picks": reverse("share-picks", args=[token]),
            "zip": reverse("share-zip", args=[token]),
        },
    }
    deliveries = [
        {"export": export, "url": reverse("share-export", args=[token, export.pk])}
        for export in gallery_exports(link)
    ]
    return render(
        request,
        "sharing/gallery.html",
        {"link": link, "bootstrap": bootstrap, "deliveries": deliveries},
    )


# --- the JSON API ---------------------------------------------------------------------------


def _image_url(token: str, link: ShareLink, photo: Photo, kind: str, expires: int) -> str:
    signed = image_sign(link_id=link.pk, photo_id=photo.pk, kind=kind, expires=expires)
    return reverse("share-image", args=[token, signed])


@gallery_endpoint
@require_safe
def gallery_photos_view(request: HttpRequest, token: str) -> HttpResponseBase:
    """``GET /s/<token>/api/photos[?name=]``: the photos the link shows, with signed image URLs
    and the picks of the client named ``name``."""
    link = _opened(request, token)
    photos = list(gallery_photos(link))
    picks = gallery_picks(link, client_name=_client_name(request))
    expires = image_expiry()
    original = link.downloads == ShareLink.Downloads.ORIGINAL
    results = []
    for photo in photos:
        pick = picks.get(photo.pk)
        row: dict[str, Any] = {
            "id": photo.pk,
            "basename": photo.basename,
            "taken_at": photo.taken_at.isoformat() if photo.taken_at else None,
            "width": photo.width,
            "height": photo.height,
            "thumbnail": _image_url(token, link, photo, "thumbnail", expires),
            "preview": _image_url(token, link, photo, "preview", expires),
            "picked": bool(pick and pick.picked),
            "comment": pick.comment if pick else "",
        }
        if original:
            row["original"] = _image_url(token, link, photo, "original", expires)
        results.append(row)
    return JsonResponse({"results": results, "expires": expires})


@gallery_endpoint
@require_POST
def gallery_picks_view(request: HttpRequest, token: str) -> HttpResponseBase:
    """``POST /s/<token>/api/picks`` ``{photo_id, picked, comment?, name?}`` → the pick."""
    link = _opened(request, token)
    try:
        body = json.loads(request.body or b"{}")
    except ValueError:
        return _detail("The body is not JSON.", 400)
    if not isinstance(body, dict):
        return _detail("The body must be a JSON object.", 400)
    photo_id = body.get("photo_id")
    picked = body.get("picked")
    comment = body.get("comment")
    name = body.get("name", "")
    if not isinstance(photo_id, int) or isinstance(photo_id, bool):
        return _detail("photo_id: a photo id (a number) is required.", 400)
    if not isinstance(picked, bool):
        return _detail("picked: true or false is required.", 400)
    if comment is not None and not isinstance(comment, str):
        return _detail("comment: text, or leave it out.", 400)
    if not isinstance(name, str):
        return _detail("name: text, or leave it out.", 400)
    try:
        result = share_pick_set(
            link=link, photo_id=photo_id, picked=picked, comment=comment, client_name=name
        )
    except PicksClosed as exc:
        return _detail(str(exc), 403)
    except PickInvalid as exc:
        return _detail(str(exc), 400)
    except NotFoundError as exc:
        return _detail(str(exc), 404)
    return JsonResponse(
        {
            "photo_id": result.photo_id,
            "picked": result.picked,
            "comment": result.comment,
            "name": result.client_name,
        }
    )


# --- files ----------------------------------------------------------------------------------


def _file_reply(
    request: HttpRequest, path: Path, *, content_type: str, max_age: int, filename: str | None
) -> HttpResponseBase:
    """The file with ``ETag``/``Last-Modified``; 304 when the client has it. ``filename``
    makes it a download (``Content-Disposition: attachment``)."""
    stat = path.stat()
    etag = f'"{stat.st_mtime_ns:x}-{stat.st_size:x}"'
    response: HttpResponseBase | None = get_conditional_response(
        request, etag=etag, last_modified=int(stat.st_mtime), response=None
    )
    if response is None:
        response = FileResponse(
            path.open("rb"),
            content_type=content_type,
            as_attachment=filename is not None,
            filename=filename or "",
        )
    response["ETag"] = etag
    response["Last-Modified"] = http_date(stat.st_mtime)
    response["Cache-Control"] = f"private, max-age={max(0, max_age)}"
    return response


@gallery_endpoint
@require_safe
def gallery_image(request: HttpRequest, token: str, signed: str) -> HttpResponseBase:
    """``GET /s/<token>/i/<signed>[?download=1]``: one image of the link.

    Checked on every request, whatever the signature says: the link is live (and opened), the
    signature is the server's, unexpired and of this link, the photo is still in the link and
    public, and the kind is still allowed by the link's downloads.
    """
    link = _opened(request, token)
    claim = image_claim(signed)
    if claim is None or claim.link_id != link.pk:
        raise LinkNotFound
    photo = gallery_photo(link, claim.photo_id)
    if photo is None:
        raise LinkNotFound
    download = claim.kind == "original" or request.GET.get("download") == "1"
    if claim.kind == "original" and link.downloads != ShareLink.Downloads.ORIGINAL:
        raise LinkNotFound
    if download and claim.kind == "thumbnail":
        raise LinkNotFound
    if download and link.downloads not in DOWNLOADABLE_PREVIEWS:
        return _detail("This gallery does not allow downloads.", 403)
    path = served_file(photo, kind=claim.kind, watermark=link.watermark)
    if path is None:
        return _detail("This image is not ready yet.", 404)
    if claim.kind == "original":
        content_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        filename: str | None = path.name
    else:
        # A WebP, or a RAW's embedded JPEG kept as its preview (``storage.preview_file``).
        content_type = derivative_content_type(path)
        filename = f"{photo.basename}{path.suffix.lower()}" if download else None
    response = _file_reply(
        request,
        path,
        content_type=content_type,
        max_age=min(3600, claim.expires - int(time.time())),
        filename=filename,
    )
    if download and response.status_code == 200:
        share_download_record(
            link=link,
            kind=claim.kind,
            photo_ids=[photo.pk],
            client_name=_client_name(request),
            project_id=photo.project_id,
        )
    return response


def _unique_name(name: str, taken: set[str]) -> str:
    stem, dot, ext = name.rpartition(".")
    if not dot:
        stem, ext = name, ""
    candidate, n = name, 1
    while candidate.lower() in taken:
        n += 1
        candidate = f"{stem}-{n}.{ext}" if ext else f"{stem}-{n}"
    taken.add(candidate.lower())
    return candidate


@gallery_endpoint
@require_safe
def gallery_zip(request: HttpRequest, token: str) -> HttpResponseBase:
    """``GET /s/<token>/download/picks.zip?name=``: the picks of the client named ``name``, as
    one ZIP streamed while it is read (zipstream-ng, stored, no temporary file): originals when
    the link's downloads are ``original``, else the previews (watermarked as served)."""
    link = _opened(request, token)
    if link.downloads not in DOWNLOADABLE_PREVIEWS:
        return _detail("This gallery does not allow downloads.", 403)
    name = _client_name(request)
    kind = "original" if link.downloads == ShareLink.Downloads.ORIGINAL else "preview"
    photos = gallery_photos(link).filter(
        share_picks__link=link, share_picks__client_name=name, share_picks__picked=True
    )
    archive = zipstream.ZipStream(compress_type=zipstream.ZIP_STORED, sized=True)
    taken: set[str] = set()
    included: list[int] = []
    for photo in photos:
        path = served_file(photo, kind=kind, watermark=link.watermark)
        if path is None:
            continue
        arcname = path.name if kind == "original" else f"{photo.basename}.webp"
        archive.add_path(str(path), _unique_name(arcname, taken))
        included.append(photo.pk)
    if not included:
        return _detail("No picked photo to download yet.", 404)
    response = StreamingHttpResponse(archive, content_type="application/zip")
    response["Content-Length"] = str(len(archive))
    disposition = content_disposition_header(
        as_attachment=True, filename=f"{link.title or 'gallery'} - picks.zip"
    )
    if disposition:
        response["Content-Disposition"] = disposition
    response["Cache-Control"] = "private, no-store"
    share_download_record(link=link, kind="zip", photo_ids=included, client_name=name)
    return response


def _starts_the_file(response: HttpResponseBase) -> bool:
    """Whether ``response`` sends a file from its first byte: a whole file (200) or a range
    from byte 0. A download resumed or fetched in parts counts once, not once per range."""
    if response.status_code == 200:
        return True
    return response.status_code == 206 and str(response.get("Content-Range", "")).startswith(
        "bytes 0-"
    )


@gallery_endpoint
@require_safe
def gallery_export_download(request: HttpRequest, token: str, export_id: int) -> HttpResponseBase:
    """``GET /s/<token>/exports/<id>/download[?name=]``: the ZIP of an export made of this link,
    with range requests (``core.ranges``). Any export the link does not deliver (another link's,
    another tenant's, not completed, expired, or of a kind the link's downloads do not allow)
    is the gallery's one 404, like an unknown link."""
    link = _opened(request, token)
    export: Export | None = gallery_export(link, export_id)
    if export is None:
        raise LinkNotFound
    try:
        path = export_file(export)
        # Never in a shared cache: the URL holds the token.
        response = ranged_file_response(
            request,
            path,
            content_type="application/zip",
            filename=export.file_name,
            cache_control="private, no-store",
        )
    except (ExportNotReady, Http404):
        raise LinkNotFound from None
    if request.method == "GET" and _starts_the_file(response):
        share_export_download_record(link=link, export=export, client_name=_client_name(request))
    return response
