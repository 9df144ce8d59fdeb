"""/api/v1/: the resources (a router) and the operations (one view each)."""

from django.urls import re_path
from rest_framework.routers import DefaultRouter

from payroll.api import views

router = DefaultRouter()
router.include_root_view = False
router.register("parks", views.ParkViewSet, basename="park")
router.register("teams", views.TeamViewSet, basename="team")
router.register("workers", views.WorkerViewSet, basename="worker")
router.register("work-sessions", views.WorkSessionViewSet, basename="work-session")
router.register("clients", views.ClientViewSet, basename="client")
router.register("projects", views.ProjectViewSet, basename="project")
router.register("task-types", views.TaskTypeViewSet, basename="task-type")
router.register("rate-cards", views.RateCardViewSet, basename="rate-card")
router.register("quality-tiers", views.QualityTierViewSet, basename="quality-tier")
router.register("work-records", views.WorkRecordViewSet, basename="work-record")
router.register("pay-periods", views.PayPeriodViewSet, basename="pay-period")
router.register("payroll-runs", views.PayrollRunViewSet, basename="payroll-run")
router.register("payslips", views.PayslipViewSet, basename="payslip")
router.register("adjustments", views.AdjustmentViewSet, basename="adjustment")
router.register(
    "worker-identities", views.WorkerIdentityViewSet, basename="worker-identity"
)
router.register("integrations", views.IntegrationViewSet, basename="integration")

# Any id reaches the view, which answers a JSON 404 for what is not the
# caller's (Django's own 404 page would be HTML).
PK = r"(?P<pk>[^/]+)"

app_name = "api"
urlpatterns = [
    re_path(
        rf"^pay-periods/{PK}/calculate/$",
        views.PeriodCalculateView.as_view(),
        name="pay-period-calculate",
    ),
    re_path(
        rf"^pay-periods/{PK}/approve/$",
        views.PeriodApproveView.as_view(),
        name="pay-period-approve",
    ),
    re_path(
        rf"^pay-periods/{PK}/mark-paid/$",
        views.PeriodMarkPaidView.as_view(),
        name="pay-period-mark-paid",
    ),
    re_path(
        rf"^pay-periods/{PK}/adjustments/$",
        views.AdjustmentAddView.as_view(),
        name="pay-period-adjustments",
    ),
    re_path(
        rf"^parks/{PK}/integrations/$",
        views.IntegrationCreateView.as_view(),
        name="park-integrations",
    ),
    re_path(
        rf"^integrations/{PK}/revoke/$",
        views.IntegrationRevokeView.as_view(),
        name="integration-revoke",
    ),
    re_path(
        rf"^pay-periods/{PK}/exports/(?P<kind>[^/]+)\.(?P<fmt>[^/.]+)$",
        views.PeriodExportView.as_view(),
        name="pay-period-export",
    ),
    re_path(
        rf"^workers/{PK}/identity/$",
        views.WorkerIdentitySetView.as_view(),
        name="worker-identity-set",
    ),
    re_path(
        rf"^work-records/{PK}/void/$",
        views.WorkRecordVoidView.as_view(),
        name="work-record-void",
    ),
    re_path(
        rf"^work-records/{PK}/correct/$",
        views.WorkRecordCorrectView.as_view(),
        name="work-record-correct",
    ),
    re_path(
        rf"^work-sessions/{PK}/correct/$",
        views.WorkSessionCorrectView.as_view(),
        name="work-session-correct",
    ),
    re_path(r"^imports/$", views.ImportView.as_view(), name="imports"),
    *router.urls,
    # Ending in a slash, so that APPEND_SLASH still redirects the others.
    re_path(r"^.*/$", views.not_found, name="not-found"),
]
