"""The county official's pages (R16): aggregates only, no person's record."""

from django.urls import path

from reports import county_views

app_name = "county"

urlpatterns = [
    path("", county_views.report, name="report"),
    path("report.csv", county_views.report_csv, name="report_csv"),
    path("report.pdf", county_views.report_pdf, name="report_pdf"),
]
