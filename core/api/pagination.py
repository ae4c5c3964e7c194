"""Page-number pagination with a client-chosen ``page_size`` of up to 1,000 (SPEC §9)."""

from rest_framework.pagination import PageNumberPagination


class PageSizePagination(PageNumberPagination):
    page_size_query_param = "page_size"
    max_page_size = 1000
