"""Seed a fictional demo park: people, hours, work and a login per role."""

import secrets
import time

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from demo import seed as demo

DATA_EXISTS = (
    "The database holds a park already. Use --if-empty to leave it alone, or "
    "start afresh (delete db.sqlite3 and run migrate)."
)
SKIPPED = "A park exists already; --if-empty: nothing seeded."


class Command(BaseCommand):
    help = (
        "Seed the demo park (fictional): workers, sessions and work records of "
        "the last months up to yesterday, and a login for every role."
    )

    def add_arguments(self, parser):
        parser.add_argument("--workers", type=int, default=300)
        parser.add_argument("--months", type=int, default=3)
        parser.add_argument("--seed", type=int, default=42)
        parser.add_argument(
            "--if-empty",
            action="store_true",
            help="Do nothing when a park exists already.",
        )
        parser.add_argument(
            "--password",
            help="Password of every demo login (default: a random one, printed).",
        )

    def handle(self, *args, workers, months, seed, if_empty, password, **options):
        if not 10 <= workers <= 5000:
            raise CommandError("--workers must be between 10 and 5000.")
        if not 1 <= months <= 12:
            raise CommandError("--months must be between 1 and 12.")
        if password is not None and not password.strip():
            raise CommandError("--password must not be empty.")
        if demo.demo_data_exists():
            if if_empty:
                self.stdout.write(SKIPPED)
                return
            raise CommandError(DATA_EXISTS)

        password = password or secrets.token_urlsafe(9)
        began = time.perf_counter()
        today = demo.park_today()
        plan = demo.build_plan(workers=workers, months=months, seed=seed, today=today)
        self.stdout.write(
            f"Planned {len(plan.workers)} workers from {plan.first_day} to "
            f"{plan.last_day} (seed {seed}): {plan.session_count} sessions, "
            f"{plan.record_count} work records "
            f"({time.perf_counter() - began:.1f} s)"
        )
        try:
            summary = demo.write_plan(
                plan=plan, password=password, log=self.stdout.write
            )
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from exc
        elapsed = time.perf_counter() - began

        self.stdout.write(
            self.style.SUCCESS(
                f"Seeded {summary.workers} workers (+{summary.staff} staff logins), "
                f"{summary.sessions} sessions, {summary.records} work records "
                f"in {elapsed:.1f} s."
            )
        )
        self.stdout.write("Logins (username / password, role):")
        for login in summary.logins:
            role = login.role or "superuser"
            self.stdout.write(f"  {login.username} / {password}  ({role})")
