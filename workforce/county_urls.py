from django.http import Http404
from django.urls import path

app_name = "county"


def report(request):  # replaced by the county report views
    raise Http404


urlpatterns = [path("", report, name="report")]
