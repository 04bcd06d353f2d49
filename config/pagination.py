from rest_framework.pagination import LimitOffsetPagination


class BoundedLimitOffsetPagination(LimitOffsetPagination):
    """Limit/offset pages with both numbers bounded: an absurd `?limit=` or `?offset=` would
    otherwise reach PostgreSQL as an out-of-range bigint and fail there (a 500)."""

    max_limit = 1000
    max_offset = 10**12

    def get_offset(self, request) -> int:
        return min(super().get_offset(request), self.max_offset)
