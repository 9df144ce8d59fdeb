"""Two parks with people in every role, for the API tests (test_api_*.py)."""

from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.conf import settings
from django.test import TestCase
from rest_framework.test import APIClient

from payroll import periods
from payroll.integrations import integration_create, worker_identity_create
from payroll.models import PayrollRun, Payslip, QualityTier, RateCard, WorkRecord
from payroll.services import client_create, work_record_create
from tests.factories import make_catalogue, make_park, make_user, make_worker
from workforce.services import work_session_log

SH = ZoneInfo("Asia/Shanghai")
MARCH = date(2026, 3, 1)
# Every role the API knows, and who an anonymous caller is.
ROLES = (
    "anonymous",
    "worker",
    "other_worker",
    "director",
    "officer",
    "trainer",
    "county",
    "other_director",
    "integration",
    "other_integration",
)


class Park:
    """One park: its people, a priced project, a calculated March."""

    def __init__(self, code: str):
        self.park = make_park(code)
        self.project, self.task_type = make_catalogue(self.park)
        self.director = make_user("director", park=self.park)
        self.officer = make_user("payroll_officer", park=self.park)
        self.trainer = make_user("trainer", park=self.park)
        self.worker = make_worker(self.park, with_login=True)
        self.other_worker = make_worker(self.park, with_login=True)
        self.integration, self.token = integration_create(
            park=self.park, name=f"QA system of {code}", actor=None
        )
        self.integration.park_id = self.park.id
        for n, person in enumerate((self.worker, self.other_worker)):
            work_record_create(
                worker=person,
                project=self.project,
                task_type=self.task_type,
                work_date=date(2026, 3, 2 + n),
                units=100,
                accuracy=Decimal("97.00"),
                source="test",
                external_id=f"{code}-{n}",
            )
            start = datetime(2026, 3, 2, 8, tzinfo=SH)
            work_session_log(worker=person, start=start, end=start + timedelta(hours=5))
        self.identity = worker_identity_create(
            worker=self.worker, tool="labelstudio", external_user=f"{code}-17"
        )
        self.period = periods.period_get_or_create(park=self.park, month=MARCH)
        self.adjustment = periods.adjustment_add(
            period=self.period,
            worker=self.worker,
            kind="bonus",
            amount=Decimal("50.00"),
            reason="Team goal",
            actor=self.director,
        )
        with TestCase.captureOnCommitCallbacks(execute=True):
            periods.payroll_run_start(period=self.period, actor=self.director)
        self.run = PayrollRun.objects.filter(period=self.period).latest("id")
        self.payslip = Payslip.objects.get(period=self.period, worker=self.worker)
        self.other_payslip = Payslip.objects.get(
            period=self.period, worker=self.other_worker
        )
        self.record = WorkRecord.objects.get(external_id=f"{code}-0")
        self.other_record = WorkRecord.objects.get(external_id=f"{code}-1")
        self.session = self.worker.sessions.get()
        self.other_session = self.other_worker.sessions.get()
        self.rate_card = RateCard.objects.filter(project=self.project).first()
        self.tier = QualityTier.objects.filter(project=self.project).first()
        self.team = self.worker.team


class World:
    def __init__(self):
        self.a = Park("parka")
        self.b = Park("parkb")
        # Park B works for a client of its own, so clients are scoped too.
        self.b.project.client = client_create(code="clientb", name="Client B")
        self.b.project.save(update_fields=["client"])
        self.county = make_user("county_official", park=self.a.park)

    def user(self, role: str):
        return {
            "anonymous": None,
            "worker": self.a.worker.user,
            "other_worker": self.a.other_worker.user,
            "director": self.a.director,
            "officer": self.a.officer,
            "trainer": self.a.trainer,
            "county": self.county,
            "other_director": self.b.director,
            "integration": self.a.integration,
            "other_integration": self.b.integration,
        }[role]

    def client(self, role: str, language: str = "en") -> APIClient:
        """An API client for ``role``; messages in English unless told."""
        client = APIClient()
        client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
        if role == "integration":
            client.credentials(HTTP_AUTHORIZATION=f"Token {self.a.token}")
        elif role == "other_integration":
            client.credentials(HTTP_AUTHORIZATION=f"Token {self.b.token}")
        elif role != "anonymous":
            client.force_authenticate(self.user(role))
        return client


def ids(response) -> set[int]:
    assert response.status_code == 200, response.content
    return {row["id"] for row in response.json()["results"]}
