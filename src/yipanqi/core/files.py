"""Stored files served after a permission check (never from a public media URL)."""

from __future__ import annotations

from pathlib import PurePosixPath

from django.http import FileResponse, Http404
from django.utils.translation import gettext as _


def serve_stored_file(field_file, filename: str = "") -> FileResponse:
    """A download of ``field_file`` (a FieldFile the caller has checked the user may see); 404 when empty or gone."""
    if not field_file:
        raise Http404(_("There is no file here."))
    try:
        handle = field_file.open("rb")
    except (FileNotFoundError, ValueError) as exc:
        raise Http404(_("The file is missing from the file store.")) from exc
    name = filename or PurePosixPath(field_file.name).name
    response = FileResponse(handle, as_attachment=True, filename=name)
    response["Cache-Control"] = "private, no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response
