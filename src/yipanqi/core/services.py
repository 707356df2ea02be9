"""Core write operations. ``record_event`` is called by every service that changes domain state."""

from __future__ import annotations

import datetime
import decimal
import uuid
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db import models, transaction
from django.db.models.fields.files import FieldFile

from .context import client_ip_var, current_request_id
from .models import AuditEvent
from .versioning import bump_if_versioned


def _jsonable(value: Any) -> Any:
    if isinstance(value, models.Model):
        return value.pk
    if isinstance(value, FieldFile):
        return value.name or None
    if isinstance(value, datetime.datetime | datetime.date | datetime.time):
        return value.isoformat()
    if isinstance(value, decimal.Decimal | uuid.UUID):
        return str(value)
    if isinstance(value, list | tuple | set | frozenset):
        items = [_jsonable(v) for v in value]
        return sorted(items, key=str) if isinstance(value, set | frozenset) else items
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    return value


def snapshot(obj: models.Model, fields: list[str] | None = None) -> dict[str, Any]:
    """A JSON-ready picture of a model instance's concrete fields (foreign keys as ids, many-to-many as id lists)."""
    data: dict[str, Any] = {}
    opts = obj._meta
    for field in opts.concrete_fields:
        if fields is not None and field.name not in fields:
            continue
        if field.name in ("password", "hashed_secret"):
            continue
        data[field.name] = _jsonable(field.value_from_object(obj))
    if obj.pk is not None:
        for field in opts.many_to_many:
            if fields is not None and field.name not in fields:
                continue
            data[field.name] = sorted(o.pk for o in field.value_from_object(obj))
    return data


def record_events(*, acting_user, action: str, objs, after=snapshot) -> int:
    """``record_event`` for many objects of one model in one insert (bulk imports); returns how many."""
    objs = list(objs)
    if not objs:
        return 0
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("record_events must run inside the service's transaction.atomic()")
    actor, actor_agency_id, api_key_id = _actor(acting_user)
    content_type = ContentType.objects.get_for_model(type(objs[0]))
    request_id, ip = current_request_id() or "", client_ip_var.get()
    AuditEvent.objects.bulk_create(
        [
            AuditEvent(
                actor=actor,
                actor_agency_id=actor_agency_id,
                api_key_id=api_key_id,
                request_id=request_id,
                ip_address=ip,
                action=action,
                content_type=content_type,
                object_id=str(obj.pk),
                object_repr=str(obj)[:300],
                subject_agency_id=getattr(getattr(obj, "audit_agency", None), "pk", None),
                after=_jsonable(after(obj)),
            )
            for obj in objs
        ],
        batch_size=1000,
    )
    bump_if_versioned(objs[0]._meta.app_label)
    return len(objs)


def _actor(acting_user):
    if acting_user is None or not getattr(acting_user, "is_authenticated", False):
        return None, None, None
    api_key_id = getattr(acting_user, "api_key_id", None)
    return (None if api_key_id else acting_user), getattr(acting_user, "agency_id", None), api_key_id


def record_event(
    *,
    acting_user,
    action: str,
    obj: models.Model,
    before: dict | None = None,
    after: dict | None = None,
    subject_agency=None,
) -> AuditEvent:
    """Write one audit event inside the caller's transaction.

    ``acting_user`` is a person, an API-key principal, or None for the system itself (migrations, demo loader).
    """
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("record_event must run inside the service's transaction.atomic()")
    actor, actor_agency_id, api_key_id = _actor(acting_user)
    if subject_agency is None:
        subject_agency = getattr(obj, "audit_agency", None)
    bump_if_versioned(obj._meta.app_label)
    return AuditEvent.objects.create(
        actor=actor,
        actor_agency_id=actor_agency_id,
        api_key_id=api_key_id,
        request_id=current_request_id() or "",
        ip_address=client_ip_var.get(),
        action=action,
        content_type=ContentType.objects.get_for_model(type(obj)),
        object_id=str(obj.pk),
        object_repr=str(obj)[:300],
        subject_agency_id=getattr(subject_agency, "pk", subject_agency),
        before=_jsonable(before) if before is not None else None,
        after=_jsonable(after) if after is not None else None,
    )
