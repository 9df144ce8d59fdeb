"""The CVAT client (payroll/connectors/cvat.py) against a local server that
replays CVAT's API (tests/payroll/cvat_replay.py): pagination by ``next``
links, the token, retries with backoff on 503 and timeouts, and the pulled
work and quality reports written by the importers (docs/cvat.md).

The answers are copies of CVAT's own test assets (cvat-ai/cvat,
``tests/python/shared/assets/jobs.json``, ``annotations.json``,
``quality_reports.json``, ``users.json``) in ``tests/payroll/fixtures/cvat/``,
served newest first as CVAT's list views order them (``ordering = "-id"``).
"""

from datetime import UTC, date, datetime
from decimal import Decimal

import httpx
import pytest
from django.utils import translation

from payroll.connectors.cvat import (
    CVAT_REFUSED_TOKEN,
    CVAT_TOO_LARGE,
    CVAT_UNREACHABLE,
    CvatClient,
    CvatError,
)
from payroll.imports import ImportReport
from payroll.imports.cvat import (
    CVAT_GROUND_TRUTH,
    CVAT_NO_ASSIGNEE,
    CVAT_NOT_ACCEPTED,
    import_cvat_jobs,
    import_cvat_reports,
)
from payroll.integrations import worker_identity_create
from payroll.models import WorkRecord
from tests.payroll.cvat_replay import TOKEN, CvatReplay
from tests.payroll.test_imports import World, problems

HEADER = "employee_no,project,task_type,work_date,units,accuracy,external_id\n"


@pytest.fixture(autouse=True)
def english():
    with translation.override("en"):
        yield


@pytest.fixture
def cvat():
    with CvatReplay() as replay:
        yield replay


@pytest.fixture
def http():
    with httpx.Client() as client:
        yield client


def client_for(cvat, http, **kw):
    waits = []
    kw.setdefault("page_size", 2)
    client = CvatClient(cvat.base_url, TOKEN, http, sleep=waits.append, **kw)
    return client, waits


# The client alone


def test_every_page_is_read_with_the_token(cvat, http):
    """Six jobs at two a page: three requests, each following the ``next``
    link of the page before, each with ``Authorization: Token <key>``."""
    client, _ = client_for(cvat, http)
    assert [job["id"] for job in client.jobs()] == [36, 35, 34, 33, 32, 31]
    pages = [(q.get("page"), a) for p, q, a in cvat.requests if p == "/api/jobs"]
    token = f"Token {TOKEN}"
    assert pages == [(None, token), (["2"], token), (["3"], token)]


def test_work_of_accepted_jobs_and_why_the_others_are_left_out(cvat, http):
    """Accepted jobs with an assignee are pulled with their units (job 34's
    track by frames: 1 + 8); the job in progress, the ground-truth job and
    the job nobody is assigned are skipped with their reasons. The
    assignee's e-mail comes from ``/api/users`` (a job names none)."""
    client, _ = client_for(cvat, http)
    pull = client.work()
    assert [(j.job_id, j.units) for j in pull.jobs] == [(36, 1), (35, 4), (34, 9)]
    assert pull.jobs[2].assignee == {
        "id": 7,
        "username": "worker2",
        "email": "worker2@cvat.org",
    }
    assert [(s.job_id, s.reason) for s in pull.skipped] == [
        (
            33,
            str(
                CVAT_NOT_ACCEPTED
                % {"job": 33, "stage": "annotation", "state": "in progress"}
            ),
        ),
        (32, str(CVAT_GROUND_TRUTH % {"job": 32})),
        (31, str(CVAT_NO_ASSIGNEE % {"job": 31})),
    ]
    assert cvat.count("/api/jobs/33/annotations") == 0
    assert client.work(tracks="objects").jobs[2].units == 2


def test_a_503_is_retried_after_a_backoff(cvat, http):
    """CVAT answers 503 twice, then the page: the client waits 1 s, then
    2 s, and goes on."""
    cvat.fault("/api/jobs", ("status", 503), ("status", 503))
    client, waits = client_for(cvat, http, backoff=1.0)
    assert len(list(client.jobs())) == 6
    assert waits == [1.0, 2.0]
    assert cvat.count("/api/jobs") == 3 + 2


def test_a_timeout_is_retried(cvat, http):
    """The first answer comes after the client's timeout: it asks again."""
    cvat.fault("/api/quality/reports", ("delay", 2.5))
    client, waits = client_for(cvat, http, timeout=1.0, backoff=0.5)
    assert len(client.quality_reports()) == 8
    assert waits == [0.5]


def test_a_server_that_never_answers_in_time_is_a_clear_error(cvat, http):
    cvat.fault("/api/jobs", ("delay", 1.5), ("delay", 1.5))
    client, waits = client_for(cvat, http, timeout=0.5, retries=1)
    with pytest.raises(CvatError) as caught:
        list(client.jobs())
    assert str(caught.value) == str(
        CVAT_UNREACHABLE % {"url": cvat.base_url, "tries": 2, "error": "timeout"}
    )
    assert waits == [1.0]


def test_a_wrong_token_is_not_retried(cvat, http):
    client = CvatClient(cvat.base_url, "wrong", http, sleep=lambda s: None)
    with pytest.raises(CvatError) as caught:
        list(client.jobs())
    assert str(caught.value) == str(CVAT_REFUSED_TOKEN % {"status": 401})
    assert cvat.count("/api/jobs") == 1


def test_a_next_link_to_another_server_is_not_followed(cvat, http):
    """The token is sent to the configured server only."""
    client, _ = client_for(cvat, http)
    client.origin = "http://cvat.park.example"
    client.base_url = cvat.base_url + "/"
    with pytest.raises(CvatError, match="another server"):
        list(client.jobs())


# Pulled and imported (the database)


@pytest.fixture
def world(db):
    world = World()
    worker_identity_create(
        worker=world.workers["E1001"], tool="cvat", external_user="worker1"
    )
    worker_identity_create(
        worker=world.workers["E1002"], tool="cvat", external_user="worker2@cvat.org"
    )
    return world


def test_pulled_work_imports_once(world, cvat, http):
    """Jobs 35 (worker1 → E1001, by username) and 34 (worker2 → E1002, by
    e-mail) become one record each; job 36's assignee is mapped to no worker
    and is skipped with a warning, the rest imports. Pulled and imported
    again, nothing changes."""
    client, _ = client_for(cvat, http)
    for round_ in (1, 2):
        report = ImportReport(format="cvat", park="qingshui", project="drive-2d")
        import_cvat_jobs(
            client.work().jobs,
            world.project,
            world.box,
            report,
            dry_run=False,
            skip_unmapped=True,
        )
        assert report.ok, problems(report)
        assert report.created == (2 if round_ == 1 else 0)
        assert [w.field for w in report.warnings] == ["assignee"]
    records = {
        r.external_id: (r.worker.employee_no, r.units, r.work_date)
        for r in WorkRecord.objects.select_related("worker")
    }
    assert records == {
        "cvat-job-35": ("E1001", 4, date(2026, 3, 3)),
        "cvat-job-34": ("E1002", 9, date(2026, 3, 3)),
    }


def test_pulled_quality_reports_set_each_jobs_newest_accuracy(world, cvat, http):
    """The report list over four pages of two, newest first, with task and
    project reports and job 31 without validation frames: job 27 gets its
    newest report's 95.83 (not the oldest's 81.25), job 30 100.00, job 31
    stays pending; the report download of report 13 says the same."""
    assert world.run(
        HEADER
        + "E1001,drive-2d,box,2026-03-05,120,,cvat-job-27\n"
        + "E1002,drive-2d,box,2026-03-06,80,,cvat-job-30\n"
        + "E1002,drive-2d,box,2026-03-06,40,,cvat-job-31\n"
    ).ok
    client, _ = client_for(cvat, http)
    reports = client.quality_reports()
    assert cvat.count("/api/quality/reports") == 4
    report = ImportReport(format="cvat-quality")
    import_cvat_reports(reports, world.project, report, dry_run=False)
    assert report.ok, problems(report)
    accuracy = dict(WorkRecord.objects.values_list("external_id", "accuracy"))
    assert accuracy == {
        "cvat-job-27": Decimal("95.83"),
        "cvat-job-30": Decimal("100.00"),
        "cvat-job-31": None,
    }
    report = ImportReport(format="cvat-quality")
    import_cvat_reports([client.report_data(13)], world.project, report, dry_run=False)
    assert report.ok and report.unchanged == 1


def test_a_personal_access_token_is_sent_as_bearer(http):
    """CVAT's personal access tokens (2.48 and later) go as ``Bearer``."""
    with CvatReplay(scheme="Bearer") as replay:
        client = CvatClient(replay.base_url, TOKEN, http, scheme="Bearer")
        assert len(list(client.jobs())) == 6
        assert {a for _p, _q, a in replay.requests} == {f"Bearer {TOKEN}"}


def test_jobs_unchanged_since_the_last_sync_are_not_read_again(cvat, http):
    """Since 2026-03-03 00:00 UTC only jobs 36 and 34 (and the skipped 33,
    32, 31) changed: job 35's annotations are not asked for."""
    client, _ = client_for(cvat, http)
    since = datetime(2026, 3, 3, tzinfo=UTC)
    pull = client.work(updated_since=since)
    assert [j.job_id for j in pull.jobs] == [36, 34]
    assert cvat.count("/api/jobs/35/annotations") == 0


def test_an_answer_over_the_size_limit_is_refused(cvat, http):
    client, _ = client_for(cvat, http, max_bytes=1000)
    with pytest.raises(CvatError) as caught:
        list(client.jobs())
    assert str(caught.value) == str(
        CVAT_TOO_LARGE % {"path": "/api/jobs", "max": "1,000 bytes"}
    )


def test_a_jobs_quality_report_finds_the_work_pulled_for_it(world, cvat, http):
    """Work and quality meet on the job id: after job 34's work is pulled, a
    report of job 34 (shaped as report 13 of the list) sets the accuracy of
    its record, and the record is the assignee's (worker2 → E1002)."""
    client, _ = client_for(cvat, http)
    report = ImportReport(format="cvat")
    jobs = [j for j in client.work().jobs if j.job_id == 34]
    import_cvat_jobs(jobs, world.project, world.box, report, dry_run=False)
    assert report.ok, problems(report)
    entry = next(r for r in client.quality_reports() if r["id"] == 13)
    entry = entry | {"job_id": 34, "assignee": jobs[0].assignee}
    report = ImportReport(format="cvat-quality")
    import_cvat_reports([entry], world.project, report, dry_run=False)
    assert report.ok, problems(report)
    record = WorkRecord.objects.get(external_id="cvat-job-34")
    assert (record.worker.employee_no, record.accuracy) == ("E1002", Decimal("95.83"))


def test_two_cvat_servers_of_a_park_keep_their_jobs_apart(world, cvat, http):
    """Job ids restart on each server: with a source per connector, job 34 of
    two servers is two records, and a report of one server's job 34 sets
    only that server's record."""
    client, _ = client_for(cvat, http)
    jobs = [j for j in client.work().jobs if j.job_id == 34]
    for source in ("cvat:east", "cvat:west"):
        report = ImportReport(format="cvat")
        import_cvat_jobs(
            jobs, world.project, world.box, report, dry_run=False, source=source
        )
        assert report.ok and report.created == 1, problems(report)
    entry = next(r for r in client.quality_reports() if r["id"] == 13)
    report = ImportReport(format="cvat-quality")
    import_cvat_reports(
        [entry | {"job_id": 34}],
        world.project,
        report,
        dry_run=False,
        source="cvat:west",
    )
    assert report.ok and report.updated == 1, problems(report)
    assert dict(WorkRecord.objects.values_list("source", "accuracy")) == {
        "cvat:east": None,
        "cvat:west": Decimal("95.83"),
    }


@pytest.mark.parametrize(
    "body", [b"<html>502 Bad Gateway</html>", b"[" * 100 + b"]" * 100, b"\xff\xfe"]
)
def test_an_answer_that_is_not_cvats_json_is_a_clear_error(http, body):
    """A proxy's HTML page, JSON nested deeper than any CVAT answer, bytes
    that are not UTF-8: a CvatError naming the path, never a crash."""

    def answer(request):
        return httpx.Response(200, content=body)

    with httpx.Client(transport=httpx.MockTransport(answer)) as fake:
        client = CvatClient("https://cvat.park.example", TOKEN, fake)
        with pytest.raises(CvatError, match="/api/jobs/9/annotations"):
            client.annotations(9)


# A CVAT connector's pull (payroll/connectors/sync.py)


def test_a_cvat_connector_pulls_accepted_jobs_once_and_says_what_it_left_out(
    world, cvat
):
    """A park's CVAT connector, its project mapped and its users mapped on
    that server: a pull pays jobs 35 (worker1 → E1001) and 34 (worker2 →
    E1002) under the connector's namespace, lists job 36's unmapped assignee
    and the jobs not accepted, each with its reason; a second pull changes
    nothing. Job 35's newest quality report sets its accuracy; job 34 has
    none and stays pending review."""
    from payroll.connectors.base import RetryPolicy
    from payroll.connectors.cvat import CvatConnectorClient
    from payroll.connectors.sync import connector_sync
    from payroll.models import Connector, ConnectorKind, ConnectorProject

    connector = Connector.objects.create(
        park=world.park,
        kind=ConnectorKind.CVAT,
        name="CVAT",
        base_url=cvat.base_url,
        access_token=TOKEN,
        webhook_secret="cvat-webhook-secret-value",
    )
    ConnectorProject.objects.create(
        connector=connector,
        tool_project="1",
        project=world.project,
        task_type=world.box,
    )
    for employee_no, user in (("E1001", "worker1"), ("E1002", "worker2@cvat.org")):
        worker_identity_create(
            worker=world.workers[employee_no],
            tool="cvat",
            external_user=user,
            connector=connector,
        )
    WorkRecord.objects.all().delete()
    # Job 35's reports: two, newest first, as CVAT lists them (copies of job
    # 27's in quality_reports.json: 95.83 newest, 81.25 oldest).
    results = cvat.files["quality_reports"]["results"]
    job_35 = [
        {**r, "job_id": 35, "id": 100 + r["id"]} for r in results if r["job_id"] == 27
    ]
    results[:0] = job_35
    syncs = []
    for _round in (1, 2):
        client = CvatConnectorClient(connector, retry=RetryPolicy(sleep=lambda s: None))
        with client:
            syncs.append(connector_sync(connector=connector, client=client))
    first, second = syncs
    assert first.error == "" and (first.created, second.created) == (2, 0)
    assert second.unchanged == 2
    records = {
        r.external_id: (r.worker.employee_no, r.units, r.accuracy)
        for r in WorkRecord.objects.select_related("worker")
    }
    assert records == {
        f"{connector.namespace}cvat-job-35": ("E1001", 4, Decimal("95.83")),
        f"{connector.namespace}cvat-job-34": ("E1002", 9, None),
    }
    reasons = " ".join(str(p) for p in first.skipped)
    assert "job 36" in reasons
    assert str(CVAT_NOT_ACCEPTED).split("%")[0][:20] in reasons
