"""Template tags shared by every page (``{% load yipanqi %}``).

``{% icon "bell" css="me-2" %}`` draws a Tabler icon from the sprite. It is a tag rather than an included template
because a page draws twenty of them and an include costs several times more."""

from __future__ import annotations

import functools

from django import template
from django.templatetags.static import static
from django.utils.html import format_html

register = template.Library()


@functools.cache
def _sprite() -> str:
    return static("vendor/tabler-icons/sprite.svg")  # fixed for the life of the process (a manifest name in production)


@register.simple_tag
def icon(name: str, css: str = ""):
    """``<svg class="icon {css}"><use href="…sprite.svg#{name}"></use></svg>``, hidden from screen readers."""
    return format_html(
        '<svg class="icon{}" aria-hidden="true" focusable="false"><use href="{}#{}"></use></svg>',
        f" {css}" if css else "",
        _sprite(),
        name,
    )
