from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from drf_spectacular.views import (
    SpectacularAPIView,
    SpectacularRedocView,
    SpectacularSwaggerSplitView,
)

from config import pwa
from config.api_docs import staff_only_unless_public
from payroll import (
    annual_views,
    bank_layout_views,
    certificate_views,
    connector_views,
)
from payroll import views as payroll_views
from reports import views as reports_views
from workforce import identity_views, two_factor_views
from workforce import views as workforce_views

worker_patterns = [
    path("", payroll_views.worker_home, name="home"),
    path("hours/", workforce_views.worker_sessions, name="sessions"),
    path("hours/<int:pk>/", workforce_views.worker_session_edit, name="session_edit"),
    path("payslips/", payroll_views.my_payslips, name="payslips"),
    path("certificates/", certificate_views.my_certificates, name="certificates"),
    path("training/", reports_views.worker_training, name="training"),
    path("profile/", identity_views.my_profile, name="profile"),
    path("annual/", annual_views.my_annual, name="annual"),
    path("annual/<int:year>.pdf", annual_views.my_annual_pdf, name="annual_pdf"),
]

park_patterns = [
    path("staff/", reports_views.staff, name="staff"),
    path("staff.csv", reports_views.staff_csv, name="staff_csv"),
    path("trends/", reports_views.trends, name="trends"),
    path("coverage/", reports_views.coverage_view, name="coverage"),
    path(
        "workers/<int:pk>/password/", workforce_views.worker_password, name="password"
    ),
    path("payroll/", payroll_views.payroll_periods, name="payroll"),
    path("payroll/calculate/", payroll_views.payroll_calculate, name="calculate"),
    path("payroll/<int:pk>/", payroll_views.period_detail, name="period"),
    path("payroll/<int:pk>/records/", payroll_views.period_records, name="records"),
    path(
        "payroll/<int:pk>/<str:action>/",
        payroll_views.period_action,
        name="period_action",
    ),
    path("payroll/<int:pk>/payslips.pdf", payroll_views.period_bundle, name="bundle"),
    path(
        "payroll/<int:pk>/export/<slug:kind>.<slug:fmt>",
        payroll_views.period_export_file,
        name="period_export",
    ),
    path(
        "records/<int:pk>/correct/",
        payroll_views.record_correct,
        name="record_correct",
    ),
    path(
        "sessions/<int:pk>/correct/",
        workforce_views.session_correct,
        name="session_correct",
    ),
    path("runs/<int:pk>/", payroll_views.run_status, name="run_status"),
    path("rates/", payroll_views.rates, name="rates"),
    path("bank-layout/", bank_layout_views.bank_layout, name="bank_layout"),
    path("certificates/", certificate_views.park_certificates, name="certificates"),
    path(
        "certificates/<int:pk>/revoke/",
        certificate_views.park_certificate_revoke,
        name="certificate_revoke",
    ),
    path("annual/", annual_views.park_annual, name="annual"),
    path(
        "workers/<int:pk>/annual/<int:year>.pdf",
        annual_views.park_annual_pdf,
        name="annual_pdf",
    ),
    path("identity-changes/", identity_views.identity_changes, name="identity_changes"),
    path(
        "identity-changes/<int:pk>/<slug:decision>/",
        identity_views.identity_change_decide,
        name="identity_change_decide",
    ),
    path("connectors/", connector_views.connectors, name="connectors"),
    path("connectors/<int:pk>/", connector_views.connector_detail, name="connector"),
    path(
        "connectors/<int:pk>/sync/",
        connector_views.connector_sync_now,
        name="connector_sync",
    ),
    path(
        "connectors/<int:pk>/status/",
        connector_views.connector_status,
        name="connector_status",
    ),
    path("audit/", workforce_views.audit, name="audit"),
    path("training/", reports_views.park_training, name="training"),
    path("training.pdf", reports_views.park_training_pdf, name="training_pdf"),
]

urlpatterns = [
    path("i18n/", include("django.conf.urls.i18n")),
    path("healthz", workforce_views.healthz, name="healthz"),
    path("sw.js", pwa.service_worker, name="service_worker"),
    path("manifest.webmanifest", pwa.manifest, name="manifest"),
    path("", workforce_views.home, name="home"),
    path("me/", include((worker_patterns, "me"))),
    path("park/", include((park_patterns, "park"))),
    path("county/", include("reports.county_urls")),
    path("payslips/<str:number>/", payroll_views.payslip_detail, name="payslip"),
    path("payslips/<str:number>/pdf/", payroll_views.payslip_pdf, name="payslip_pdf"),
    path(
        "certificates/<int:pk>/pdf/",
        certificate_views.certificate_pdf,
        name="certificate_pdf",
    ),
    # Public: the address a certificate's QR code holds (no login).
    path("verify/", certificate_views.verify, name="verify"),
    path("verify/<str:code>/", certificate_views.verify, name="verify_code"),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("accounts/two-factor/", two_factor_views.setup, name="two_factor"),
    path("accounts/two-factor/code/", two_factor_views.code, name="two_factor_code"),
    path(
        "accounts/password/",
        auth_views.PasswordChangeView.as_view(),
        name="password_change",
    ),
    path(
        "accounts/password/done/",
        auth_views.PasswordChangeDoneView.as_view(),
        name="password_change_done",
    ),
    path("admin/", admin.site.urls),
    path("api/v1/", include("payroll.api.urls")),
    path(
        "hooks/connectors/<int:pk>/<str:secret>/",
        connector_views.connector_webhook,
        name="connector_webhook",
    ),
    # The secret in an X-ParkPay-Secret header instead of the path.
    path(
        "hooks/connectors/<int:pk>/",
        connector_views.connector_webhook,
        {"secret": ""},
        name="connector_webhook_header",
    ),
    path(
        "api/schema/",
        staff_only_unless_public(SpectacularAPIView.as_view()),
        name="schema",
    ),
    # The split view serves its start script from a URL: no inline script.
    path(
        "api/docs/",
        staff_only_unless_public(
            SpectacularSwaggerSplitView.as_view(url_name="schema")
        ),
        name="api-docs",
    ),
    path(
        "api/redoc/",
        staff_only_unless_public(SpectacularRedocView.as_view(url_name="schema")),
        name="redoc",
    ),
]

handler400 = "workforce.views.bad_request"
