"""Evidence API representations. They read only the rows the views select (with their agency), so a page of deposits
costs the same number of queries however many it shows. Request bodies are checked by ``services.prepare`` (the
deposits) and ``services.add_cosignature`` (a cosignature): the API refuses exactly what the pages refuse, with the
same messages."""

from __future__ import annotations

from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from ..models import Cosignature, Deposit


def deposits_url(request) -> str:
    """The absolute URL of the deposits (a deposit's receipt is ``<this><index>/receipt/``): built once per answer."""
    return request.build_absolute_uri(reverse("evidence-deposit-list"))


def lookup_receipt_url(request, deposit: Deposit) -> str:
    query = urlencode({"hash": deposit.content_hash, "algorithm": deposit.algorithm, "index": deposit.index})
    return request.build_absolute_uri(f"{reverse('evidence-lookup-receipt')}?{query}")


class DepositAgencySerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class DepositSerializer(serializers.ModelSerializer):
    """A deposit as its own agency (and its circle's coordinators) see it."""

    case = serializers.CharField(source="case_ref")
    agency = DepositAgencySerializer()
    receipt = serializers.SerializerMethodField()

    class Meta:
        model = Deposit
        fields = [
            "index",
            "content_hash",
            "algorithm",
            "media_type",
            "case",
            "deposited_at",
            "agency",
            "depositor",
            "source",
            "receipt",
        ]
        read_only_fields = fields

    def get_receipt(self, deposit) -> str:
        base = self.context.get("deposits_url")
        if base is None:
            base = self.context["deposits_url"] = deposits_url(self.context["request"])
        return f"{base}{deposit.index}/receipt/"


class DepositResultSerializer(serializers.Serializer):
    """One deposit of a POST, in the order sent, with what the caller did not send: ``created`` is false when the same
    deposit was made before (its original is answered, with its original index and time). The whole deposit is at
    GET deposits/<index>/."""

    index = serializers.IntegerField()
    content_hash = serializers.CharField()
    deposited_at = serializers.DateTimeField()
    created = serializers.BooleanField()
    receipt = serializers.URLField()


class DepositItemSerializer(serializers.Serializer):
    """One deposit in a request body (checked by the service, which says which item is wrong)."""

    hash = serializers.CharField(help_text=_("The content's digest, hexadecimal"))
    algorithm = serializers.ChoiceField(
        choices=["sha256", "sha512", "sha3-256", "sm3"], required=False, default="sha256"
    )
    media_type = serializers.CharField(required=False, help_text=_("For example application/pdf"))
    case = serializers.CharField(required=False, allow_blank=True, help_text=_("Case reference, up to 100 characters"))


class DepositBatchSerializer(serializers.Serializer):
    deposits = DepositItemSerializer(many=True, help_text=_("Up to 10,000 deposits"))


class DepositBatchResultSerializer(serializers.Serializer):
    agency = DepositAgencySerializer(help_text=_("The depositing agency (the caller's), part of each identity"))
    deposits = DepositResultSerializer(many=True)


class LookupDepositSerializer(serializers.Serializer):
    """What anyone holding the hash learns of a deposit of it: where in the log, when and by which agency."""

    index = serializers.IntegerField()
    deposited_at = serializers.DateTimeField()
    agency = serializers.CharField(source="agency.name")
    receipt = serializers.SerializerMethodField()

    def get_receipt(self, deposit) -> str:
        return lookup_receipt_url(self.context["request"], deposit)


class LookupSerializer(serializers.Serializer):
    hash = serializers.CharField()
    algorithm = serializers.CharField()
    found = serializers.BooleanField()
    deposits = LookupDepositSerializer(many=True)


class ProofSerializer(serializers.Serializer):
    tree_size = serializers.IntegerField()
    proof = serializers.ListField(child=serializers.CharField(), help_text=_("Base64 SHA-256 hashes"))
    checkpoint = serializers.CharField(help_text=_("The signed checkpoint note the proof is computed at"))


class InclusionProofSerializer(ProofSerializer):
    index = serializers.IntegerField()


class ConsistencyProofSerializer(ProofSerializer):
    first = serializers.IntegerField()


class CosignatureInputSerializer(serializers.Serializer):
    size = serializers.IntegerField(min_value=0, help_text=_("The size of the checkpoint cosigned"))
    line = serializers.CharField(
        max_length=400, trim_whitespace=False, help_text=_("The cosignature line: — <key name> <base64>")
    )


class CosignatureSerializer(serializers.ModelSerializer):
    size = serializers.IntegerField(source="checkpoint.size")
    witness = serializers.CharField(source="witness.name")
    agency = serializers.CharField(source="witness.agency.name")

    class Meta:
        model = Cosignature
        fields = ["size", "witness", "agency", "line", "timestamp", "received_at"]
        read_only_fields = fields
