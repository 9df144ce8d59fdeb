"""R17.1 pages: the worker enters her ID number and bank account on her
profile; the park's director or payroll officer confirms or rejects the
entry. No page ever shows more than the last 4 characters of a value, and a
form sent back with an error is empty again."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from workforce.access import role_required, staff_park
from workforce.identity_changes import (
    identity_change_confirm,
    identity_change_reject,
    identity_change_submit,
)
from workforce.models import IdentityChange, IdentityChangeStatus
from workforce.selectors import identity_change_list
from workforce.views import own_worker


class BlankInput(forms.TextInput):
    """A text input that never sends back what it holds."""

    def format_value(self, value):
        return None


class IdentityForm(forms.Form):
    resident_id = forms.CharField(
        label=gettext_lazy("Resident ID number"),
        max_length=24,  # 18 characters, perhaps typed in groups
        required=False,
        widget=BlankInput(attrs={"autocomplete": "off", "inputmode": "text"}),
    )
    bank_name = forms.CharField(
        label=gettext_lazy("Bank"),
        max_length=100,
        required=False,
        widget=BlankInput(attrs={"autocomplete": "off"}),
    )
    bank_account = forms.CharField(
        label=gettext_lazy("Bank account number"),
        max_length=40,
        required=False,
        widget=BlankInput(attrs={"autocomplete": "off", "inputmode": "numeric"}),
    )
    account_holder = forms.CharField(
        label=gettext_lazy("Account holder"),
        max_length=100,
        required=False,
        widget=BlankInput(attrs={"autocomplete": "off"}),
    )


def _add_errors(form, exc: ValidationError) -> None:
    for field, errors in getattr(
        exc, "message_dict", {"__all__": exc.messages}
    ).items():
        for error in errors:
            form.add_error(field if field in form.fields else None, error)


@role_required("worker")
@require_http_methods(["GET", "POST"])
def my_profile(request):
    worker = own_worker(request)
    form = IdentityForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            identity_change_submit(
                worker=worker, actor=request.user, **form.cleaned_data
            )
        except ValidationError as exc:
            _add_errors(form, exc)
        else:
            messages.success(
                request,
                _("Saved. Your park's office will check and confirm it."),
            )
            return redirect("me:profile")
    pending = IdentityChange.objects.filter(
        worker=worker, status=IdentityChangeStatus.PENDING
    ).first()
    latest = (
        IdentityChange.objects.filter(worker=worker)
        .exclude(status=IdentityChangeStatus.PENDING)
        .first()
    )
    return render(
        request,
        "worker/profile.html",
        {
            "worker": worker,
            "form": form,
            "on_record": worker.identity_masked(),
            "pending": pending.masked() if pending else None,
            "latest": latest,
            "statuses": IdentityChangeStatus,
        },
        status=400 if form.errors else 200,
    )


class RejectForm(forms.Form):
    reason = forms.CharField(label=gettext_lazy("Reason"), max_length=200)


@role_required("director", "payroll_officer")
@require_http_methods(["GET"])
def identity_changes(request):
    park = staff_park(request)
    changes = list(
        identity_change_list(user=request.user)
        .filter(worker__park=park)
        .order_by("submitted_at", "id")[:200]
    )
    rows = [
        (change, change.worker.identity_masked(), change.masked()) for change in changes
    ]
    return render(request, "park/identity_changes.html", {"park": park, "rows": rows})


@role_required("director", "payroll_officer")
@require_POST
def identity_change_decide(request, pk: int, decision: str):
    change = get_object_or_404(identity_change_list(user=request.user), pk=pk)
    target = f"{reverse('park:identity_changes')}?park={change.worker.park.code}"
    try:
        if decision == "confirm":
            identity_change_confirm(change=change, actor=request.user)
            messages.success(request, _("Confirmed: the worker's data is updated."))
        elif decision == "reject":
            form = RejectForm(request.POST)
            identity_change_reject(
                change=change,
                actor=request.user,
                reason=form.data.get("reason", ""),
            )
            messages.success(request, _("Rejected."))
        else:
            raise Http404
    except PermissionDenied as exc:
        raise Http404 from exc
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    return redirect(target)
