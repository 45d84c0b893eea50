"""A tiny HTML builder that escapes by construction (Jinja2 is not among our dependencies).

`Html` is markup we built; everything else that reaches `tag()` or `page()` is text and is escaped
(`html.escape(..., quote=True)`), so user input — a pasted scan, a lot from the URL, a member name from
the chain — can never become markup. Templates in ``templates/`` are `string.Template` files whose
placeholders only accept `Html`.
"""

from __future__ import annotations

import html
from collections.abc import Iterable
from functools import cache
from importlib import resources
from string import Template

__all__ = ["Html", "esc", "join", "render_template", "tag"]

_VOID = frozenset({"br", "hr", "img", "input", "link", "meta"})


class Html(str):
    """Trusted markup (built here, never from user input)."""

    __slots__ = ()


def esc(value: object) -> Html:
    if isinstance(value, Html):
        return value
    return Html(html.escape("" if value is None else str(value), quote=True))


def join(parts: Iterable[object], sep: str = "") -> Html:
    return Html(esc(sep).join(esc(p) for p in parts))


def tag(element: str, /, *children: object, **attrs: object) -> Html:
    """``tag("a", "text", href=url, class_="x")`` → ``<a href="…" class="x">text</a>``.

    Attribute names: a trailing ``_`` is dropped (``class_``), other ``_`` become ``-`` (``aria_label``);
    ``True`` writes a bare attribute, ``None``/``False`` leave it out.
    """
    rendered = []
    for key, value in attrs.items():
        if value is None or value is False:
            continue
        name = key.rstrip("_").replace("_", "-")
        rendered.append(f" {name}" if value is True else f' {name}="{esc(value)}"')
    opening = f"<{element}{''.join(rendered)}>"
    if element in _VOID:
        return Html(opening)
    return Html(opening + "".join(esc(c) for c in children if c is not None) + f"</{element}>")


@cache
def _template(name: str) -> Template:
    text = resources.files("medchain.web").joinpath("templates", name).read_text(encoding="utf-8")
    return Template(text)


def render_template(name: str, **values: Html) -> Html:
    for key, value in values.items():
        if not isinstance(value, Html):
            raise TypeError(f"template value {key!r} must be Html (escape it with esc())")
    return Html(_template(name).substitute(values))
