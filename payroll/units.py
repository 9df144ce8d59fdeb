"""Names of the units work is counted in (a task type's ``unit``), in words.

A unit is stored as a short English code (``box``, ``frame``) that the import
files use; people read it in their language. A unit not listed here is shown
as stored, so a park may add its own.
"""

from django.utils.translation import pgettext_lazy

UNIT_LABELS = {
    "box": pgettext_lazy("unit", "boxes"),
    "frame": pgettext_lazy("unit", "frames"),
    "cuboid": pgettext_lazy("unit", "cuboids"),
    "certificate": pgettext_lazy("unit", "certificates"),
    "ticket": pgettext_lazy("unit", "tickets"),
    "image": pgettext_lazy("unit", "images"),
    "item": pgettext_lazy("unit", "items"),
    "page": pgettext_lazy("unit", "pages"),
    "minute": pgettext_lazy("unit", "minutes"),
    "hour": pgettext_lazy("unit", "hours"),
    "utterance": pgettext_lazy("unit", "utterances"),
    "point": pgettext_lazy("unit", "points"),
    "polygon": pgettext_lazy("unit", "polygons"),
    "task": pgettext_lazy("unit", "tasks"),
}


def unit_label(code: str) -> str:
    """``box`` → "boxes" (框), in the active language; others as stored."""
    label = UNIT_LABELS.get((code or "").strip().lower())
    return str(label) if label is not None else code
