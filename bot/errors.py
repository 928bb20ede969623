"""The small error hierarchy: what the user should read, and what a platform said."""

from __future__ import annotations


class PaperwireError(Exception):
    """Base of paperwire's own errors."""


class UserError(PaperwireError):
    """A problem the person can fix; its message is shown to them as it is."""


class PlatformError(PaperwireError):
    """A chat platform or paper source refused or failed a request."""

    def __init__(self, message: str, *, retry_after: float | None = None, permanent: bool = False):
        super().__init__(message)
        self.retry_after = retry_after
        self.permanent = permanent
