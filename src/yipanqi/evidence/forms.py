"""Evidence web forms: checking a file or a hash (存证核验) and depositing one (存证).

A file is hashed in the browser (static/yipanqi/evidence.js) and only its hash is sent. Without JavaScript the file
is uploaded: ``HashingUploadHandler`` hashes it as it arrives, with every algorithm the log knows, and keeps nothing
of it — no memory copy, no temporary file. The forms read and check input only; the deposit is written by
``yipanqi.evidence.services.deposit``.
"""

from __future__ import annotations

import hashlib

from django import forms
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.core.files.uploadhandler import FileUploadHandler
from django.utils.translation import gettext_lazy as _

from . import leaves

ALGORITHM_CHOICES = [
    ("sha256", "SHA-256"),
    ("sha512", "SHA-512"),
    ("sha3-256", "SHA3-256"),
    ("sm3", _("SM3 (GB/T 32905)")),
]


def _available(name: str) -> bool:
    try:
        hashlib.new(name)
    except ValueError:  # an OpenSSL without SM3
        return False
    return True


HASHERS = {algorithm: name for algorithm, name in leaves.HASHLIB_NAMES.items() if _available(name)}


class HashedUpload(UploadedFile):
    """What is left of an uploaded file: its name, media type, size and digests. Its content was never kept."""

    def __init__(self, name: str, content_type: str | None, size: int, digests: dict[str, str]):
        super().__init__(file=None, name=name, content_type=content_type, size=size)
        self.digests = digests

    def close(self):  # nothing is open
        return None

    @property
    def closed(self) -> bool:
        return True


class HashingUploadHandler(FileUploadHandler):
    """Hashes each uploaded file chunk by chunk as the request streams in, and stores nothing."""

    def new_file(self, *args, **kwargs):
        super().new_file(*args, **kwargs)
        self.hashers = [(algorithm, hashlib.new(name)) for algorithm, name in HASHERS.items()]

    def receive_data_chunk(self, raw_data, start):
        for _algorithm, hasher in self.hashers:
            hasher.update(raw_data)
        return None  # no later handler gets the data

    def file_complete(self, file_size):
        digests = {algorithm: hasher.hexdigest() for algorithm, hasher in self.hashers}
        return HashedUpload(self.file_name, self.content_type, file_size, digests)


def _monospace(placeholder: str = "") -> forms.TextInput:
    return forms.TextInput(
        attrs={
            "autocomplete": "off",
            "spellcheck": "false",
            "autocapitalize": "off",
            "class": "font-monospace",
            "placeholder": placeholder,
        }
    )


class CheckForm(forms.Form):
    """A file or its hash, and the algorithm; ``cleaned_data["hash"]`` is the checked lowercase digest."""

    file = forms.FileField(
        label=_("File"),
        required=False,
        help_text=_(
            "Your browser computes the file's SHA-256 and sends only that: the file does not leave your computer. "
            "(Without JavaScript the file is sent, hashed as it arrives and not kept.)"
        ),
        error_messages={"empty": _("The file is empty.")},
    )
    hash = forms.CharField(
        label=_("Or its hash"),
        required=False,
        max_length=200,
        widget=_monospace("e3b0c44298fc1c149afbf4c8996fb924…"),
        help_text=_("Hexadecimal, for example the output of sha256sum."),
    )
    algorithm = forms.ChoiceField(label=_("Algorithm"), choices=ALGORITHM_CHOICES, initial="sha256", required=False)

    def clean_algorithm(self):
        return self.cleaned_data["algorithm"] or "sha256"

    def clean(self):
        data = super().clean()
        if "algorithm" in self.errors:
            return data
        algorithm = data.get("algorithm") or "sha256"
        upload = data.get("file")
        if upload:
            digest = self._digest(upload, algorithm)
            if digest is None:
                message = _("This server cannot compute %(algorithm)s: paste the hash instead.")
                raise ValidationError({"file": message % {"algorithm": algorithm}})
            data["hash"] = digest
        elif not data.get("hash"):
            if "hash" not in self.errors and "file" not in self.errors:
                self.add_error("hash", _("Choose a file or paste its hash."))
            return data
        try:
            data["hash"] = leaves.normalise_hash(algorithm, data["hash"])
        except leaves.LeafError:
            self.add_error("hash", self._hash_error(algorithm, data["hash"]))
        return data

    @staticmethod
    def _digest(upload, algorithm: str) -> str | None:
        digests = getattr(upload, "digests", None)
        if digests is not None:
            return digests.get(algorithm)
        if algorithm not in HASHERS:
            return None
        upload.seek(0)
        return leaves.file_digest(upload, algorithm)

    @staticmethod
    def _hash_error(algorithm: str, text: str) -> str:
        digits = (text or "").strip().lower()
        if any(c not in "0123456789abcdef" for c in digits) or len(digits) % 2:
            return _("The hash must be hexadecimal (0-9, a-f).")
        size = leaves.ALGORITHMS[algorithm]
        return _("A %(algorithm)s hash has %(digits)s hexadecimal digits; this one has %(count)s.") % {
            "algorithm": dict(ALGORITHM_CHOICES)[algorithm],
            "digits": size * 2,
            "count": len(digits),
        }


class DepositForm(CheckForm):
    """A file or a hash to deposit, with its media type and an optional case reference."""

    media_type = forms.CharField(
        label=_("Media type"),
        required=False,
        max_length=leaves.MAX_MEDIA_TYPE,
        widget=_monospace("application/pdf"),
        help_text=_("What the file is (MIME type); blank: the file's own, or application/octet-stream."),
    )
    case = forms.CharField(
        label=_("Case reference"),
        required=False,
        max_length=leaves.MAX_CASE,
        help_text=_("For example (2026)川01执123号. It is written into the log with the hash."),
    )

    def clean_media_type(self):
        value = self.cleaned_data["media_type"].strip()
        if not value:
            return ""
        try:
            return leaves.check_media_type(value)
        except leaves.LeafError as exc:
            raise ValidationError(_("Not a media type such as application/pdf.")) from exc

    def clean(self):
        data = super().clean()
        upload = data.get("file")
        if not data.get("media_type"):
            guessed = getattr(upload, "content_type", "") or ""
            try:
                data["media_type"] = leaves.check_media_type(guessed) if guessed else "application/octet-stream"
            except leaves.LeafError:
                data["media_type"] = "application/octet-stream"
        return data

    def item(self) -> dict:
        data = self.cleaned_data
        return {
            "hash": data["hash"],
            "algorithm": data["algorithm"],
            "media_type": data["media_type"],
            "case": data.get("case", ""),
        }
