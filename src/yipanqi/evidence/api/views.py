"""Evidence API (存证): deposits, the public "was this deposited?" lookup, checkpoints, proofs and witness
cosignatures.

* Deposits are read from ``Deposit.objects.visible_to()`` (an agency its own, a circle's coordinators the circle's;
  outsiders get 404) and written by ``services.deposit``; an agency's systems need ``evidence:write``.
* Anyone signed in (a person or any agency system) may look a hash up: having the hash is what entitles one to check
  it. The answer names the depositing agency and time, never the depositor or a case reference.
* Checkpoints, proofs and cosignatures are public: they are what an auditor or a witness checks the log with.
* Witnesses send cosignatures with ``evidence:witness`` (or a liaison of the witness agency signs in).

Every refusal is an error body of the core handler with a translated message; nothing is written on any error.
"""

from __future__ import annotations

import base64

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions, mixins, permissions, renderers, status, viewsets
from rest_framework.decorators import action
from rest_framework.fields import DateTimeField
from rest_framework.response import Response
from rest_framework.views import APIView

from yipanqi.core.api.viewsets import VisibleModelViewSetMixin
from yipanqi.directory.models import Role

from .. import leaves, selectors, services
from ..models import Checkpoint, Cosignature, Deposit
from . import serializers

WRITE, WITNESS = "evidence:write", "evidence:witness"
DEPOSIT_SCOPES = {"GET": WRITE, "HEAD": WRITE, "OPTIONS": WRITE, "POST": WRITE}
MAX_SIZE = 2**63 - 1  # the largest tree size a database column holds; anything larger is refused as beyond the tree


class Missing(exceptions.APIException):
    """404 with a message that says what is missing (the core handler keeps it, unlike for NotFound)."""

    status_code = status.HTTP_404_NOT_FOUND
    default_code = "not_found"


class PlainTextRenderer(renderers.BaseRenderer):
    """A checkpoint note as served (text/plain); an error as its message alone."""

    media_type = "text/plain"
    format = "txt"
    charset = "utf-8"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        if isinstance(data, dict) and isinstance(data.get("error"), dict):
            data = f"{data['error'].get('message', '')}\n"
        return str(data).encode(self.charset)


# --------------------------------------------------------------------------- parameters


def _integer(params, name: str, *, required: bool = True) -> int | None:
    raw = (params.get(name) or "").strip()
    if not raw:
        if required:
            raise exceptions.ValidationError({name: [_("This parameter is required.")]})
        return None
    if not raw.isdecimal() or len(raw) > 20:
        raise exceptions.ValidationError({name: [_("Give a whole number, 0 or more.")]})
    return int(raw)


def _latest() -> Checkpoint:
    found = services.latest_checkpoint()
    if found is None:
        raise Missing(_("The log has no checkpoint yet."))
    return found


def checkpoint_at(size: int | None, name: str = "size") -> Checkpoint:
    """The checkpoint of ``size`` (the latest for None): a size beyond the tree is a 400, one the log never signed
    a 404, each saying so."""
    latest = _latest()
    if size is None or size == latest.size:
        return latest
    if size > latest.size:
        raise exceptions.ValidationError(
            {
                name: [
                    _("The log has %(latest)s entries: size %(size)s is beyond the tree.")
                    % {"latest": latest.size, "size": size}
                ]
            }
        )
    found = Checkpoint.objects.filter(size=size).first()
    if found is None:
        raise Missing(
            _("The log signed no checkpoint of size %(size)s: proofs are given at the size of a signed checkpoint.")
            % {"size": size}
        )
    return found


def size_param(request, name: str = "size") -> Checkpoint:
    return checkpoint_at(_integer(request.query_params, name, required=False), name)


def served_at(request, name: str = "size") -> tuple[Checkpoint, str]:
    """The checkpoint a proof is computed at (``size``, or the latest) and its note with the cosignature lines."""
    size = _integer(request.query_params, name, required=False)
    if size is None:
        try:
            return selectors.latest_with_note()
        except selectors.ProofUnavailable:
            raise Missing(_("The log has no checkpoint yet.")) from None
    at = checkpoint_at(size, name)
    return at, selectors.note_with_cosignatures(at)[0]


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _checked_hash(params) -> tuple[str, str]:
    """The ``hash`` and ``algorithm`` query parameters, normalised; a 400 that says what is wrong otherwise."""
    content = (params.get("hash") or "").strip()
    algorithm = (params.get("algorithm") or "sha256").strip().lower()
    if not content:
        raise exceptions.ValidationError({"hash": [_("This parameter is required.")]})
    try:
        prepared = services.prepare([{"hash": content, "algorithm": algorithm}])[0]
    except ValidationError as exc:
        messages = [m for errors in exc.message_dict.values() for m in errors]
        field = "algorithm" if algorithm not in leaves.ALGORITHMS else "hash"
        raise exceptions.ValidationError({field: messages}) from exc
    return prepared.content, prepared.algorithm


def receipt_response(deposit: Deposit, at: Checkpoint) -> Response:
    if deposit.index >= at.size:
        raise exceptions.ValidationError(
            {
                "size": [
                    _("Deposit %(index)s entered the log after the checkpoint of size %(size)s.")
                    % {"index": deposit.index, "size": at.size}
                ]
            }
        )
    return Response(selectors.receipt(deposit, at))


# --------------------------------------------------------------------------- deposits


INDEX = OpenApiParameter("index", OpenApiTypes.INT, OpenApiParameter.PATH, description="The deposit's index in the log")
SIZE = OpenApiParameter(
    "size", OpenApiTypes.INT, description="The size of a signed checkpoint (default: the latest checkpoint)"
)


class DepositViewSet(
    VisibleModelViewSetMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """存证: the agency's deposits (a circle's coordinators: its agencies'), newest first; ``?hash=`` finds one
    content hash. POST deposits hashes (never contents) into the log."""

    queryset = Deposit.objects.all()
    serializer_class = serializers.DepositSerializer
    required_scopes = DEPOSIT_SCOPES
    lookup_field = "index"
    lookup_value_regex = r"[0-9]{1,19}"
    filter_backends = []

    def optimise(self, queryset):
        queryset = queryset.select_related("agency").order_by("-index")
        wanted = (self.request.query_params.get("hash") or "").strip().lower()
        if wanted and self.action == "list":
            queryset = queryset.filter(content_hash=wanted)
        return queryset

    @extend_schema(parameters=[OpenApiParameter("hash", str, description="A content hash (hexadecimal)")])
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    @extend_schema(parameters=[INDEX])
    def retrieve(self, request, *args, **kwargs):
        return super().retrieve(request, *args, **kwargs)

    @extend_schema(
        request=serializers.DepositBatchSerializer,
        responses={
            201: serializers.DepositBatchResultSerializer,
            200: serializers.DepositBatchResultSerializer,
        },
        description='Body: {"deposits": [{"hash", "algorithm" (default sha256), "media_type", "case"}, …]} '
        '(up to 10,000) or one deposit {"hash": …}. The same deposit again (same agency, algorithm, hash and case) '
        "answers its original. 201 when anything was new, else 200; 400 lists each bad item by its position (from "
        "1) and writes nothing. The answer lists the deposits in the order sent with what the caller did not send: "
        "index, time, whether new, receipt (GET deposits/<index>/ has the rest).",
    )
    def create(self, request, *args, **kwargs):
        with services.collector_paused():  # 10,000 items parsed and answered: see services.collector_paused
            return self._create(request)

    def _create(self, request):
        if getattr(request.user, "agency", None) is None:
            raise PermissionError(_("Only people and systems of an agency deposit evidence."))
        data = request.data
        if isinstance(data, dict) and "deposits" in data:
            items = data["deposits"]
        elif isinstance(data, dict) and "hash" in data:
            items = [data]
        else:
            raise exceptions.ValidationError(
                {"deposits": [_('Send {"deposits": [{"hash": …}, …]} or one deposit {"hash": …}.')]}
            )
        result = services.deposit(acting_user=request.user, items=items, source="api")
        agency = request.user.agency
        base = serializers.deposits_url(request)
        timestamps: dict = {}  # the new deposits of a batch share one time: format it once, not 10,000 times

        def timestamp(moment) -> str:
            if moment not in timestamps:
                timestamps[moment] = DateTimeField().to_representation(moment)
            return timestamps[moment]

        answer = [  # lean: what the caller did not send (a detail of each is at GET deposits/<index>/)
            {
                "index": deposit.index,
                "content_hash": deposit.content_hash,
                "deposited_at": timestamp(deposit.deposited_at),
                "created": created,
                "receipt": f"{base}{deposit.index}/receipt/",
            }
            for deposit, created in result
        ]
        made = any(created for _deposit, created in result)
        return Response(
            {"agency": {"id": agency.pk, "name": agency.name}, "deposits": answer},  # a deposit's identity includes it
            status=status.HTTP_201_CREATED if made else status.HTTP_200_OK,
        )

    @extend_schema(parameters=[INDEX, SIZE], responses=OpenApiTypes.OBJECT)
    @action(detail=True, methods=["get"])
    def receipt(self, request, index=None):
        """The receipt (存证证明) of the deposit at a checkpoint (the latest by default): self-contained JSON that
        ``yipanqi evidence verify`` checks offline."""
        deposit = self.get_object()
        return receipt_response(deposit, size_param(request))


class AnyPrincipal(permissions.BasePermission):
    """Any signed-in person and any agency system, whatever its key's scopes."""

    def has_permission(self, request, view) -> bool:
        return bool(request.user and request.user.is_authenticated)


HASH_PARAMS = [
    OpenApiParameter("hash", str, required=True, description="The content hash (hexadecimal)"),
    OpenApiParameter("algorithm", str, description="sha256 (default), sha512, sha3-256 or sm3"),
]


class LookupView(APIView):
    """存证核验: was this hash deposited? For each deposit of it: its index, time and depositing agency, and where to
    download its receipt. Open to anyone signed in and to every agency system: holding the hash entitles one to
    check it."""

    permission_classes = [AnyPrincipal]

    @extend_schema(parameters=HASH_PARAMS, responses=serializers.LookupSerializer)
    def get(self, request):
        content, algorithm = _checked_hash(request.query_params)
        found = selectors.lookup(content, algorithm)
        context = {"request": request}
        return Response(
            {
                "hash": content,
                "algorithm": algorithm,
                "found": bool(found),
                "deposits": serializers.LookupDepositSerializer(found, many=True, context=context).data,
            }
        )


class LookupReceiptView(APIView):
    """The receipt of a deposit found by its hash (``index`` names which deposit of it)."""

    permission_classes = [AnyPrincipal]

    @extend_schema(
        parameters=[*HASH_PARAMS, OpenApiParameter("index", int, required=True), SIZE], responses=OpenApiTypes.OBJECT
    )
    def get(self, request):
        content, algorithm = _checked_hash(request.query_params)
        index = _integer(request.query_params, "index")
        deposit = (
            Deposit.objects.filter(index=index, content_hash=content, algorithm=algorithm)
            .select_related("agency")
            .first()
        )
        if deposit is None:
            raise Missing(_("No deposit of this hash has that index."))
        return receipt_response(deposit, size_param(request))


# --------------------------------------------------------------------------- checkpoints and proofs


class PublicView(APIView):
    authentication_classes = []
    permission_classes = [permissions.AllowAny]


def _signed(size: str) -> Checkpoint:
    """The checkpoint of ``size`` (digits from the URL), or a 404 that says the log signed none."""
    found = Checkpoint.objects.filter(size=int(size)).first() if int(size) <= MAX_SIZE else None
    if found is None:
        raise Missing(_("The log signed no checkpoint of size %(size)s.") % {"size": size})
    return found


class CheckpointView(PublicView):
    """The latest signed checkpoint (C2SP signed note: origin, size, base64 root, the log's signature) with the
    witnesses' cosignature lines — the log's stable URL. ``size`` in the path: a past checkpoint."""

    renderer_classes = [PlainTextRenderer]

    @extend_schema(responses={(200, "text/plain"): OpenApiTypes.STR})
    def get(self, request, size: str | None = None):
        at = _latest() if size is None else _signed(size)
        note, _cosignatures = selectors.note_with_cosignatures(at)
        response = Response(note, content_type="text/plain; charset=utf-8")
        response["Cache-Control"] = "no-cache" if size is None else "public, max-age=86400, immutable"
        return response


class InclusionProofView(PublicView):
    """The inclusion proof of the leaf at ``index`` in the tree of a checkpoint's ``size`` (default: the latest)."""

    @extend_schema(
        parameters=[OpenApiParameter("index", int, required=True), SIZE],
        responses=serializers.InclusionProofSerializer,
    )
    def get(self, request):
        index = _integer(request.query_params, "index")
        at, note = served_at(request)
        if index >= at.size:
            raise exceptions.ValidationError(
                {
                    "index": [
                        _("Leaf %(index)s is not in the tree of size %(size)s.") % {"index": index, "size": at.size}
                    ]
                }
            )
        proof = selectors.inclusion_proof(index, at)
        return Response({"index": index, "tree_size": at.size, "proof": [_b64(h) for h in proof], "checkpoint": note})


class ConsistencyProofView(PublicView):
    """The consistency proof between the tree of ``first`` leaves and that of a checkpoint's ``size``."""

    @extend_schema(
        parameters=[OpenApiParameter("first", int, required=True), SIZE],
        responses=serializers.ConsistencyProofSerializer,
    )
    def get(self, request):
        first = _integer(request.query_params, "first")
        at, note = served_at(request)
        if first > at.size:
            raise exceptions.ValidationError(
                {
                    "first": [
                        _("Size %(first)s is larger than the tree of size %(size)s.")
                        % {"first": first, "size": at.size}
                    ]
                }
            )
        proof = selectors.consistency_proof(first, at)
        return Response({"first": first, "tree_size": at.size, "proof": [_b64(h) for h in proof], "checkpoint": note})


# --------------------------------------------------------------------------- witnesses


class CosignaturePermission(permissions.BasePermission):
    """POST: an agency system with ``evidence:witness``, a liaison or a platform admin (the service then checks that
    the witness named in the line belongs to the caller's agency). Reading is public."""

    def has_permission(self, request, view) -> bool:
        if request.method in permissions.SAFE_METHODS:
            return True
        user = request.user
        if not (user and user.is_authenticated):
            return False
        scopes = getattr(user, "scopes", None)
        if scopes is not None:
            return WITNESS in scopes
        return bool(user.is_platform_admin or (user.agency_id and user.has_role(Role.LIAISON)))


class CosignatureView(APIView):
    """A witness's cosignature of a checkpoint: ``{"size": n, "line": "— <key name> <base64>"}``. It is checked
    against the witness's key (tlog-cosignature/v1) and kept; the checkpoint is then served with it. The same
    witness cosigning again answers its first cosignature (200)."""

    permission_classes = [CosignaturePermission]

    @extend_schema(
        request=serializers.CosignatureInputSerializer,
        responses={201: serializers.CosignatureSerializer, 200: serializers.CosignatureSerializer},
    )
    def post(self, request):
        body = serializers.CosignatureInputSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        size = body.validated_data["size"]
        if size > MAX_SIZE:
            size = MAX_SIZE
        at = checkpoint_at(size)
        before = set(Cosignature.objects.filter(checkpoint=at).values_list("pk", flat=True))
        line = body.validated_data["line"]
        cosignature = services.add_cosignature(acting_user=request.user, checkpoint=at, line=line)
        cosignature = Cosignature.objects.select_related("checkpoint", "witness__agency").get(pk=cosignature.pk)
        return Response(
            serializers.CosignatureSerializer(cosignature).data,
            status=status.HTTP_200_OK if cosignature.pk in before else status.HTTP_201_CREATED,
        )


class CheckpointCosignaturesView(PublicView):
    """The witnesses' cosignatures of the checkpoint of ``size``."""

    @extend_schema(responses=serializers.CosignatureSerializer(many=True))
    def get(self, request, size: str):
        at = _signed(size)
        cosignatures = list(at.cosignatures.select_related("witness__agency").order_by("id"))
        for cosignature in cosignatures:
            cosignature.checkpoint = at
        return Response(serializers.CosignatureSerializer(cosignatures, many=True).data)
