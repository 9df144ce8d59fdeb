from django.db import connection
from django.http import JsonResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from workforce.selectors import user_roles
from workforce.services import ROLES


@require_GET
def home(request):
    """What ParkPay is, and a way in for each role."""
    return render(
        request,
        "home.html",
        {"roles": ROLES, "my_roles": sorted(user_roles(request.user))},
    )


@require_GET
def healthz(request):
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})
