"""The two-factor pages: set up an authenticator app, and enter its code
after the password."""

import segno
from django import forms
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext_lazy
from django_otp import login as otp_login

from workforce import two_factor


class CodeForm(forms.Form):
    code = forms.RegexField(
        label=gettext_lazy("Code"),
        regex=r"^\s*\d{6}\s*$",
        error_messages={"invalid": two_factor.WRONG_CODE},
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}
        ),
    )


def _next(request) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return "/"


def _verified(request, device):
    otp_login(request, device)
    request.session[two_factor.SESSION_KEY] = two_factor.NONE
    return redirect(_next(request))


@login_required
def setup(request):
    """Staff only: the otpauth URI and its QR code (drawn here), confirmed by
    one code. Someone who owes the code of a device they have gets that first."""
    user = request.user
    if not two_factor.is_two_factor_staff(user):
        raise Http404
    device = two_factor.confirmed_device(user)
    if device is not None:
        if not user.is_verified():
            return redirect_to_login(_next(request), reverse("two_factor_code"))
        return render(request, "registration/two_factor_setup.html", {"on": True})
    device = two_factor.totp_device_start(user=user)
    form = CodeForm(request.POST or None)
    if form.is_valid():
        code = form.cleaned_data["code"].strip()
        if not device.verify_is_allowed()[0]:
            form.add_error("code", two_factor.TOO_MANY_TRIES)
        elif two_factor.totp_device_confirm(device=device, code=code):
            return _verified(request, device)
        else:
            form.add_error("code", two_factor.WRONG_CODE)
    uri = device.config_url
    context = {
        "form": form,
        "uri": uri,
        "secret": uri.split("secret=", 1)[1].split("&", 1)[0],
        "qr": segno.make(uri, error="m").svg_inline(
            scale=5, light="white", title="otpauth"
        ),
        "next": _next(request),
    }
    return render(request, "registration/two_factor_setup.html", context)


@login_required
def code(request):
    """After the password: the code of the person's device."""
    device = two_factor.confirmed_device(request.user)
    if device is None or request.user.is_verified():
        return redirect(_next(request))
    form = CodeForm(request.POST or None)
    if form.is_valid():
        allowed, _details = device.verify_is_allowed()
        if not allowed:
            form.add_error("code", two_factor.TOO_MANY_TRIES)
        elif device.verify_token(form.cleaned_data["code"].strip()):
            return _verified(request, device)
        else:
            form.add_error("code", two_factor.WRONG_CODE)
    return render(
        request,
        "registration/two_factor_code.html",
        {"form": form, "next": _next(request)},
    )
