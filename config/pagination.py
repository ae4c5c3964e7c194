"""Page-number pagination with a client-chosen ``page_size`` of up to 1,000 (SPEC §9)."""

from rest_framework.pagination import CursorPagination, PageNumberPagination


class PageSizePagination(PageNumberPagination):
    page_size_query_param = "page_size"
    max_page_size = 1000


class IdCursorPagination(CursorPagination):
    page_size_query_param = "page_size"
    max_page_size = 1000
    ordering = "id"
