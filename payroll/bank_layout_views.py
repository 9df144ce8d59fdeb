"""The director's choice of the park's bank batch file layout (R17.2)."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from payroll.bank_layouts import LAYOUTS
from payroll.services import bank_layout_of, bank_layout_set
from workforce.access import role_required, staff_park


@role_required("director")
@require_http_methods(["GET", "POST"])
def bank_layout(request):
    park = staff_park(request)
    error = None
    if request.method == "POST":
        try:
            bank_layout_set(
                park=park, layout=request.POST.get("layout", ""), actor=request.user
            )
        except PermissionDenied as exc:
            raise Http404 from exc
        except ValidationError as exc:
            error = " ".join(exc.messages)
        else:
            messages.success(request, _("The bank file layout has been saved."))
            return redirect(f"{reverse('park:bank_layout')}?park={park.code}")
    return render(
        request,
        "park/bank_layout.html",
        {
            "park": park,
            "layouts": LAYOUTS.values(),
            "current": bank_layout_of(park).code,
            "error": error,
        },
        status=400 if error else 200,
    )
