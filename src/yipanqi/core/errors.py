"""Domain refusals that are neither bad input nor a missing permission."""

from __future__ import annotations


class Conflict(Exception):
    """The object's state forbids the change (e.g. approved minutes are frozen): HTTP 409 with the message."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message
