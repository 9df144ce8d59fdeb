"""Connectors (payroll/connectors/): pulls from a park's Label Studio server,
idempotent, late work and corrections after approval, retries, the
director's pages and the webhook.

The tool side is httpx's transport answering what Label Studio 1.23.2
answers to ``GET /api/tasks/?project=…&page=…&page_size=…&fields=all``
(``{"total", "total_annotations", "total_predictions", "tasks": [...]}``,
404 past the last page; tasks and annotations as
``label_studio/tasks/serializers.py`` and
``label_studio/data_export/serializers.py`` of HumanSignal/label-studio
write them). tests/payroll/test_labelstudio_live.py runs the same pull
against a real Label Studio server.
"""

from datetime import date

import httpx
import pytest
from django.db import connection
from django.utils import translation

from payroll.connectors.base import RetryPolicy, ToolError
from payroll.connectors.labelstudio import LabelStudioClient
from payroll.connectors.services import ALREADY_RUNNING
from payroll.connectors.sync import connector_sync
from payroll.integrations import worker_identity_create
from payroll.models import (
    Connector,
    ConnectorKind,
    ConnectorProject,
    ConnectorSync,
    WorkCorrection,
    WorkRecord,
)
from tests.factories import make_park, make_user
from tests.payroll.test_imports import World
from tests.payroll.test_imports_labelstudio import annotation, box, task
from workforce.closing import park_close_through

pytestmark = pytest.mark.django_db
TOKEN = "0123456789abcdef0123456789abcdef01234567"


class FakeLabelStudio:
    """Answers like Label Studio's task list, page by page; counts calls."""

    def __init__(self, tasks, *, fail_first=()):
        self.tasks = tasks
        self.fail_first = list(fail_first)
        self.calls = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.calls.append(request)
        if self.fail_first:
            failure = self.fail_first.pop(0)
            if failure == "timeout":
                raise httpx.ReadTimeout("timed out", request=request)
            return httpx.Response(failure, text="upstream error")
        if request.headers.get("Authorization") != f"Token {TOKEN}":
            return httpx.Response(401, json={"detail": "Invalid token."})
        if request.url.path.startswith("/api/tasks/") and request.url.path != (
            "/api/tasks/"
        ):
            pk = int(request.url.path.rstrip("/").rsplit("/", 1)[1])
            found = [t for t in self.tasks if t["id"] == pk]
            return httpx.Response(200 if found else 404, json=found[0] if found else {})
        page = int(request.url.params["page"])
        size = int(request.url.params["page_size"])
        chunk = self.tasks[(page - 1) * size : page * size]
        if not chunk and page > 1:
            return httpx.Response(404, json={"detail": "Invalid page."})
        return httpx.Response(
            200,
            json={
                "total_annotations": sum(len(t["annotations"]) for t in self.tasks),
                "total_predictions": 0,
                "total": len(self.tasks),
                "tasks": chunk,
            },
        )


@pytest.fixture
def world(db):
    world = World()
    world.connector = Connector.objects.create(
        park=world.park,
        kind=ConnectorKind.LABEL_STUDIO,
        name="LS",
        base_url="http://ls.invalid",
        access_token=TOKEN,
        webhook_secret="s3cret-webhook-value",
    )
    ConnectorProject.objects.create(
        connector=world.connector,
        tool_project="3",
        project=world.project,
        task_type=world.box,
    )
    worker_identity_create(
        worker=world.workers["E1001"],
        tool="labelstudio",
        external_user="17",
        connector=world.connector,
    )
    return world


def pull(world, fake, **kw):
    sleeps = []
    client = LabelStudioClient(
        world.connector,
        transport=httpx.MockTransport(fake),
        retry=RetryPolicy(sleep=sleeps.append),
        page_size=2,
    )
    with client:
        sync = connector_sync(connector=world.connector, client=client, **kw)
    sync.sleeps = sleeps
    return sync


def tasks():
    return [
        task(1, annotation(11, result=[box("a"), box("b"), box("c")])),
        task(2, annotation(12, was_cancelled=True, result=[])),
        task(3, annotation(13, ground_truth=True)),
        task(4, annotation(14, completed_by=None), annotation(15, completed_by=99)),
        task(5, annotation(16, last_action="rejected")),
    ]


def test_pull_pays_what_was_accepted_and_says_what_was_skipped(world):
    """Three pages of two tasks: 3 + 2 units paid (the rejected one at
    0.00), cancelled and ground truth counted, the deleted and the unmapped
    user listed with their reason; all ids namespaced by the connector."""
    sync = pull(world, FakeLabelStudio(tasks()))
    assert sync.status == "done", sync.error
    records = {r.external_id: (r.units, r.accuracy) for r in WorkRecord.objects.all()}
    ns = world.connector.namespace
    assert records == {f"{ns}:11": (3, None), f"{ns}:16": (2, 0)}
    assert (sync.created, sync.cancelled, sync.ground_truth, sync.rejected) == (
        2,
        1,
        1,
        1,
    )
    assert sync.skipped_count == 2
    reasons = [p["message"] for p in sync.skipped]
    assert "deleted" in reasons[0] and "user 99" in reasons[1]
    assert (sync.done, sync.total) == (5, 5)


def test_second_pull_changes_nothing(world):
    """Idempotent: the same answer again creates and corrects nothing."""
    fake = FakeLabelStudio(tasks())
    pull(world, fake)
    before = list(WorkRecord.objects.values_list("id", "units", "accuracy"))
    again = pull(world, fake)
    assert (again.created, again.corrected, again.unchanged) == (0, 0, 2)
    assert list(WorkRecord.objects.values_list("id", "units", "accuracy")) == before


def test_changed_annotation_in_an_open_month_is_corrected(world):
    """A box added in the tool: the record's units follow (audited)."""
    fake = FakeLabelStudio([task(1, annotation(11))])
    pull(world, fake)
    fake.tasks = [task(1, annotation(11, result=[box("a"), box("b"), box("c")]))]
    sync = pull(world, fake)
    assert sync.corrected == 1
    assert WorkRecord.objects.get().units == 3
    assert not WorkCorrection.objects.exists()


def test_changed_annotation_after_approval_is_a_correction(world):
    """R13.5: once March is closed, a changed annotation of March never edits
    the record: a correction is booked in the next open month; a new one is
    late work (R13.3: a record of March created after the approval)."""
    fake = FakeLabelStudio([task(1, annotation(11))])
    pull(world, fake)
    park_close_through(park=world.park, day=date(2026, 3, 31))
    fake.tasks = [
        task(1, annotation(11, result=[box("a")], last_action="rejected")),
        task(2, annotation(21)),
    ]
    sync = pull(world, fake)
    assert (sync.created, sync.corrected) == (1, 1)
    record = WorkRecord.objects.get(external_id=f"{world.connector.namespace}:11")
    assert (record.units, record.accuracy) == (2, None)
    kinds = list(
        WorkCorrection.objects.filter(record=record).values_list(
            "kind", "new_units", "new_accuracy", "booked_month"
        )
    )
    assert kinds == [
        ("units", 1, None, date(2026, 4, 1)),
        ("accuracy", 1, 0, date(2026, 4, 1)),
    ]
    assert pull(world, fake).corrected == 0  # and a rerun books nothing more


def test_timeouts_and_server_errors_are_retried_with_backoff(world):
    """A timeout and a 503, then the answer: waits 0.5 s then 1 s."""
    fake = FakeLabelStudio([task(1, annotation(11))], fail_first=["timeout", 503])
    sync = pull(world, fake)
    assert sync.status == "done" and sync.created == 1
    assert sync.sleeps == [0.5, 1.0]


def test_a_server_that_stays_down_fails_the_pull_with_a_clear_message(world):
    fake = FakeLabelStudio([], fail_first=[502, 502, 502, 502])
    sync = pull(world, fake)
    assert sync.status == "failed" and "did not answer" in sync.error
    assert "HTTP 502" in sync.error and not WorkRecord.objects.exists()


def test_a_refused_token_is_said_without_the_token(world):
    world.connector.access_token = "wrong-token"
    world.connector.save()
    sync = pull(world, FakeLabelStudio(tasks()))
    assert sync.status == "failed" and "access token" in sync.error
    assert "wrong-token" not in sync.error


def test_the_access_token_is_encrypted_at_rest(world):
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT access_token FROM payroll_connector WHERE id = %s",
            [world.connector.pk],
        )
        stored = cursor.fetchone()[0]
    assert TOKEN not in stored
    assert Connector.objects.get().access_token == TOKEN


def test_webhook_pulls_the_task_it_names(world, django_capture_on_commit_callbacks):
    """ANNOTATION_CREATED with the right secret queues a pull of that task;
    a wrong secret answers 404 and queues nothing."""
    from django.test import Client

    body = {
        "action": "ANNOTATION_CREATED",
        "project": {"id": 3},
        "task": {"id": 1},
        "annotation": annotation(11) | {"task": 1},
    }
    web = Client()
    with django_capture_on_commit_callbacks() as queued:
        wrong = web.post(
            f"/hooks/connectors/{world.connector.pk}/not-the-secret/",
            body,
            content_type="application/json",
        )
    assert wrong.status_code == 404 and not queued
    with django_capture_on_commit_callbacks() as queued:
        right = web.post(
            f"/hooks/connectors/{world.connector.pk}/s3cret-webhook-value/",
            body,
            content_type="application/json",
        )
    assert right.status_code == 202 and len(queued) == 1


def test_webhook_task_ids_are_pulled_one_by_one(world):
    fake = FakeLabelStudio(tasks())
    sync = pull(world, fake, tool_project="3", task_ids=[5])
    assert sync.created == 1 and sync.rejected == 1
    assert [c.url.path for c in fake.calls] == ["/api/tasks/5/"]


def test_director_pages_register_a_connector_and_never_show_the_token(world):
    """The director registers a server; the token is not on any page after
    saving and an empty token field keeps it; another park's director sees
    404 for it."""
    from django.test import Client

    director = make_user("director", park=world.park)
    web = Client()
    web.force_login(director)
    answer = web.post(
        "/park/connectors/",
        {
            "kind": "label_studio",
            "name": "Studio B",
            "base_url": "https://label.qingshui.example",
            "access_token": "very-secret-token-value",
            "enabled": "on",
        },
    )
    assert answer.status_code == 302
    connector = Connector.objects.get(name="Studio B")
    page = web.get(answer["Location"])
    assert page.status_code == 200
    assert "very-secret-token-value" not in page.content.decode()
    web.post(
        answer["Location"],
        {
            "form": "connector",
            "kind": "label_studio",
            "name": "Studio B",
            "base_url": "https://label2.qingshui.example",
            "access_token": "",
        },
    )
    connector.refresh_from_db()
    assert connector.access_token == "very-secret-token-value"
    assert connector.base_url == "https://label2.qingshui.example"
    assert not connector.enabled
    web.post(
        answer["Location"],
        {
            "form": "mapping",
            "tool_project": "7",
            "project": world.project.pk,
            "task_type": world.box.pk,
            "unit_rule": "tasks",
            "prediction_policy": "skip",
        },
    )
    assert connector.projects.get().unit_rule == "tasks"
    stranger = make_user("director", park=make_park())
    web.force_login(stranger)
    assert web.get(f"/park/connectors/{connector.pk}/").status_code == 404


def test_status_page_lists_what_was_skipped(world):
    director = make_user("director", park=world.park)
    pull(world, FakeLabelStudio(tasks()))
    from django.test import Client

    web = Client()
    web.force_login(director)
    page = web.get(f"/park/connectors/{world.connector.pk}/").content.decode()
    assert "user 99" in page and "deleted" in page
    assert ConnectorSync.objects.count() == 1


def test_retry_policy_gives_up_on_client_errors_at_once(world):
    with pytest.raises(ToolError):
        LabelStudioClient(
            world.connector,
            transport=httpx.MockTransport(lambda r: httpx.Response(403)),
            retry=RetryPolicy(sleep=lambda s: None),
        )._get("/api/tasks/", what="the task list")


def test_paid_annotation_cancelled_later_is_voided(world):
    """An annotation paid, then cancelled in the tool: in an open month the
    record goes; once the month is approved a void correction is booked."""
    fake = FakeLabelStudio([task(1, annotation(11)), task(2, annotation(12))])
    pull(world, fake)
    fake.tasks = [task(1, annotation(11, was_cancelled=True))]
    assert pull(world, fake).corrected == 1
    ns = world.connector.namespace
    assert list(WorkRecord.objects.values_list("external_id", flat=True)) == [
        f"{ns}:12"
    ]
    park_close_through(park=world.park, day=date(2026, 3, 31))
    fake.tasks = [task(2, annotation(12, ground_truth=True))]
    assert pull(world, fake).corrected == 1
    assert WorkRecord.objects.get().external_id == f"{ns}:12"  # never edited
    assert list(WorkCorrection.objects.values_list("kind", "new_units")) == [
        ("void", 0)
    ]
    assert pull(world, fake).corrected == 0


def test_connector_page_queries_stay_bounded(world, django_assert_max_num_queries):
    """Ten pulls and many skipped annotations cost the page no more queries."""
    from django.test import Client

    for _ in range(3):
        pull(world, FakeLabelStudio(tasks()))
    director = make_user("director", park=world.park)
    web = Client()
    web.force_login(director)
    url = f"/park/connectors/{world.connector.pk}/"
    web.get(url)
    with django_assert_max_num_queries(20):
        assert web.get(url).status_code == 200


def test_review_webhook_names_its_annotation_task(
    world, django_capture_on_commit_callbacks
):
    """REVIEW_CREATED carries the reviewed annotation (with its task)."""
    from django.test import Client

    body = {
        "action": "REVIEW_CREATED",
        "project": {"id": 3},
        "review": {
            "id": 5,
            "accepted": False,
            "annotation": annotation(16) | {"task": 5},
        },
    }
    with django_capture_on_commit_callbacks() as queued:
        answer = Client().post(
            f"/hooks/connectors/{world.connector.pk}/",
            body,
            content_type="application/json",
            headers={"X-ParkPay-Secret": "s3cret-webhook-value"},
        )
    assert answer.status_code == 202 and len(queued) == 1
    assert (
        queued
        and Client()
        .post(
            f"/hooks/connectors/{world.connector.pk}/",
            body,
            content_type="application/json",
        )
        .status_code
        == 404
    )


def test_sync_now_queues_one_pull(world, django_capture_on_commit_callbacks):
    """ "Sync now" queues a pull; pressed again while one runs, it says so."""
    from django.test import Client

    web = Client()
    web.force_login(make_user("director", park=world.park))
    url = f"/park/connectors/{world.connector.pk}/sync/"
    with django_capture_on_commit_callbacks() as queued:
        assert web.post(url).status_code == 302
    assert len(queued) == 1
    ConnectorSync.objects.create(connector=world.connector, status="running")
    with django_capture_on_commit_callbacks() as queued:
        page = web.post(url, follow=True).content.decode()
    with translation.override("zh-hans"):  # the page's language
        assert not queued and str(ALREADY_RUNNING) in page


def test_director_maps_an_annotator_of_the_server(world):
    """On the connector's page: user id 42 of this server → E1002; an
    employee number of another park is unknown, naming nobody."""
    from django.test import Client

    web = Client()
    web.force_login(make_user("director", park=world.park))
    url = f"/park/connectors/{world.connector.pk}/"
    answer = web.post(
        url, {"form": "identity", "external_user": "42", "employee_no": "E1002"}
    )
    assert answer.status_code == 302
    identity = world.connector.identities.get(external_user="42")
    assert identity.worker == world.workers["E1002"]
    other = make_park()
    from workforce.services import worker_create

    worker_create(
        park=other,
        employee_no="H9",
        name="Other",
        gender="female",
        birth_year=1990,
        hire_date=date(2025, 1, 1),
        contract="full_time",
        skill_level="junior",
    )
    page = web.post(
        url, {"form": "identity", "external_user": "43", "employee_no": "H9"}
    )
    assert page.status_code == 200 and "Other" not in page.content.decode()
    assert not world.connector.identities.filter(external_user="43").exists()
