"""ParkPay's connector against a real Label Studio server.

The ``label-studio`` package (1.23.2, from PyPI) lives in a virtual
environment of its own (``make labelstudio`` → ``.venv-labelstudio``: it pins
its own Django, never ParkPay's). The test runs when ``PARKPAY_LABEL_STUDIO``
names its ``label-studio`` program, as ``.ci/run`` sets it for the
PostgreSQL pass; it is skipped, saying why, otherwise. The server is started
once per test session on loopback, with its data (SQLite) in a temporary
folder, and stopped at the end.

Through Label Studio's own API (label_studio/users/api.py,
label_studio/projects/api.py, label_studio/tasks/api.py of
HumanSignal/label-studio) the test creates an annotator, a project and
tasks, and annotates: boxes, a cancelled annotation, a ground truth, an
annotation by a user the park has not mapped, and a change after the month
was approved. ParkPay pulls them and pays exactly the accepted units.
"""

import calendar
import os
import signal
import socket
import subprocess
import time
from datetime import timedelta

import httpx
import pytest

from payroll.connectors.base import RetryPolicy
from payroll.connectors.labelstudio import LabelStudioClient
from payroll.connectors.sync import connector_sync
from payroll.integrations import worker_identity_create
from payroll.models import (
    Connector,
    ConnectorKind,
    ConnectorProject,
    WorkCorrection,
    WorkRecord,
)
from tests.payroll.test_imports import World
from workforce.closing import park_close_through

PROGRAM = os.environ.get("PARKPAY_LABEL_STUDIO", "")
TOKEN = "parkpay0test0token0for0label0studio0"
STARTUP_SECONDS = int(os.environ.get("PARKPAY_LABEL_STUDIO_STARTUP", "600"))
LABEL_CONFIG = (
    '<View><Image name="image" value="$image"/>'
    '<RectangleLabels name="label" toName="image">'
    '<Label value="Car"/><Label value="Person"/></RectangleLabels></View>'
)

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(
        not PROGRAM,
        reason="PARKPAY_LABEL_STUDIO is not set: run `make labelstudio` and set it "
        "to .venv-labelstudio/bin/label-studio (CI does, on PostgreSQL)",
    ),
]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def label_studio(tmp_path_factory):
    """A Label Studio server for the session: its base URL."""
    if not os.access(PROGRAM, os.X_OK):
        pytest.skip(f"Label Studio is not installed at {PROGRAM} (make labelstudio)")
    data = tmp_path_factory.mktemp("label-studio")
    port = _free_port()
    env = os.environ | {
        "LABEL_STUDIO_BASE_DATA_DIR": str(data),
        "DJANGO_DB": "sqlite",
        "LOG_LEVEL": "WARNING",
    }
    for name in ("DATABASE_URL", "REDIS_URL", "DJANGO_SETTINGS_MODULE"):
        env.pop(name, None)
    log = open(data / "server.log", "wb")  # noqa: SIM115 - closed below
    server = subprocess.Popen(
        [
            PROGRAM,
            "start",
            "--no-browser",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--username",
            "admin@park.example",
            "--password",
            "parkpay-test-password",
            "--user-token",
            TOKEN,
            "--enable-legacy-api-token",
        ],
        env=env,
        cwd=data,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + STARTUP_SECONDS
    try:
        while True:
            if server.poll() is not None:
                pytest.fail(
                    "Label Studio stopped while starting: "
                    + (data / "server.log").read_text(errors="replace")[-2000:]
                )
            try:
                if httpx.get(f"{base}/health", timeout=5).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"Label Studio did not answer in {STARTUP_SECONDS} s")
            time.sleep(2)
        yield base
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()
        log.close()


def region(pk, x):
    return {
        "id": pk,
        "type": "rectanglelabels",
        "from_name": "label",
        "to_name": "image",
        "original_width": 640,
        "original_height": 480,
        "image_rotation": 0,
        "value": {
            "x": x,
            "y": 10,
            "width": 5,
            "height": 5,
            "rotation": 0,
            "rectanglelabels": ["Car"],
        },
    }


def test_pull_from_a_real_label_studio_pays_the_accepted_units(label_studio, capsys):
    api = httpx.Client(
        base_url=label_studio,
        headers={"Authorization": f"Token {TOKEN}"},
        timeout=60,
    )

    def post(path, body, method="POST"):
        answer = api.request(method, path, json=body)
        assert answer.status_code in (200, 201), (path, answer.text[:500])
        return answer.json()

    annotator = post(
        "/api/users/",
        {
            "email": "ma.xiaolan@park.example",
            "username": "maxiaolan",
            "first_name": "Xiaolan",
            "password": "annotator-password-1",
        },
    )
    admin_id = api.get("/api/current-user/whoami").json()["id"]
    project = post("/api/projects/", {"title": "cars", "label_config": LABEL_CONFIG})
    post(
        f"/api/projects/{project['id']}/import",
        [{"image": f"/data/cars/{n}.jpg"} for n in range(1, 6)],
    )
    tasks = api.get(
        "/api/tasks/", params={"project": project["id"], "page_size": 100}
    ).json()["tasks"]
    ids = sorted(t["id"] for t in tasks)
    who = annotator["id"]

    def annotate(task_id, result, completed_by=who, **flags):
        return post(
            f"/api/tasks/{task_id}/annotations/",
            {"result": result, "completed_by": completed_by, **flags},
        )

    boxes = annotate(ids[0], [region("a", 1), region("b", 20), region("c", 40)])
    annotate(ids[1], [region("d", 1), region("e", 20)])
    annotate(ids[2], [], was_cancelled=True)
    annotate(ids[3], [region("f", 1)], ground_truth=True)
    annotate(ids[4], [region("g", 1)], completed_by=admin_id)  # not mapped

    world = World()
    connector = Connector.objects.create(
        park=world.park,
        kind=ConnectorKind.LABEL_STUDIO,
        name="Label Studio",
        base_url=label_studio,
        access_token=TOKEN,
    )
    ConnectorProject.objects.create(
        connector=connector,
        tool_project=str(project["id"]),
        project=world.project,
        task_type=world.box,
    )
    worker_identity_create(
        worker=world.workers["E1001"],
        tool="labelstudio",
        external_user=str(who),
        connector=connector,
    )

    def pull():
        client = LabelStudioClient(
            connector, retry=RetryPolicy(timeout=60), page_size=2
        )
        with client:
            return connector_sync(connector=connector, client=client)

    first = pull()
    assert first.status == "done", first.error
    assert (first.created, first.cancelled, first.ground_truth) == (2, 1, 1)
    assert first.skipped_count == 1 and f"user {admin_id}" in str(first.skipped)
    records = WorkRecord.objects.filter(worker=world.workers["E1001"])
    assert sorted(records.values_list("units", flat=True)) == [2, 3]
    assert pull().created == 0  # idempotent

    # The month is approved; then the annotator adds a box in Label Studio.
    work_date = records.get(external_id=f"{connector.namespace}:{boxes['id']}")
    day = work_date.work_date
    month_end = day.replace(day=calendar.monthrange(day.year, day.month)[1])
    park_close_through(park=world.park, day=month_end)
    post(
        f"/api/annotations/{boxes['id']}/",
        {"result": [region("a", 1), region("b", 20), region("c", 40), region("h", 60)]},
        method="PATCH",
    )
    after = pull()
    assert (after.created, after.corrected) == (0, 1), after.skipped
    record = WorkRecord.objects.get(pk=work_date.pk)
    assert record.units == 3  # frozen pay is never edited (R13.5)
    correction = WorkCorrection.objects.get(record=record)
    assert (correction.old_units, correction.new_units) == (3, 4)
    assert correction.booked_month == month_end + timedelta(days=1)
    assert pull().corrected == 0
    paid = sum(records.values_list("units", flat=True)) + 1
    assert paid == 6  # 3 + 2 boxes, then 1 more: what was accepted
    with capsys.disabled():
        print(
            f"\nLabel Studio end to end: {paid} units paid = {paid} accepted "
            f"(cancelled {first.cancelled}, ground truth {first.ground_truth}, "
            f"skipped {first.skipped_count}, corrected after approval "
            f"{after.corrected})"
        )
