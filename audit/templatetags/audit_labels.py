from django import template

from audit.labels import action_label, changes_text, object_label

register = template.Library()

register.filter("action_label", action_label)
register.filter("object_label", object_label)
register.filter("changes_text", changes_text)
