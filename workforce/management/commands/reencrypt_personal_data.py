"""Rewrite every encrypted personal value under the newest key (R17.1).

After a new key is put first in FIELD_ENCRYPTION_KEYS (or the key file), run
this, then remove the older keys."""

from django.core.management.base import BaseCommand

from workforce.services import personal_data_reencrypt


class Command(BaseCommand):
    help = "Re-encrypt every worker's identity and bank data with the newest key."

    def handle(self, *args, **options):
        count = personal_data_reencrypt()
        self.stdout.write(f"{count} workers re-encrypted")
