"""Text that goes into a reportlab ``Paragraph``.

A ``Paragraph`` reads its text as markup (``<a href>``, ``<img src>``,
``<font>``, entities): a name, team or park typed by a person is escaped
before it goes in, so that it shows as written and never makes a link, embeds
a file or breaks the parser.
"""

from __future__ import annotations

from xml.sax.saxutils import escape


def para(value) -> str:
    """``value`` as literal text in a ``Paragraph`` (``&``, ``<`` and ``>``
    escaped); ``None`` is empty."""
    if value is None:
        return ""
    return escape(str(value))
