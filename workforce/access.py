"""Page access by role. A page of another role answers 404, like another
person's object: its existence is nobody else's business."""

from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.http import Http404

from workforce.models import Park
from workforce.selectors import user_park_ids, user_roles

STAFF_ROLES = {"director", "payroll_officer", "trainer"}
PAY_ROLES = {"director", "payroll_officer"}


def role_required(*roles: str):
    """Anonymous → login; signed in without one of ``roles`` → 404."""
    wanted = set(roles)

    def decorator(view):
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            user = request.user
            if not user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            if not (user_roles(user) & wanted):
                raise Http404
            return view(request, *args, **kwargs)

        return wrapper

    return decorator


def home_url_name(user) -> str | None:
    """Where a signed-in user lands: their role's main page."""
    roles = user_roles(user)
    if roles & PAY_ROLES:
        return "park:staff"
    if "trainer" in roles:
        return "park:training"
    if "county_official" in roles:
        return "county:report"
    if "worker" in roles:
        return "me:home"
    return None


def staff_park(request):
    """The park a staff user is looking at: ``?park=`` among theirs, or the first."""
    ids = user_park_ids(request.user)
    if not ids:
        raise Http404
    wanted = request.GET.get("park")
    if wanted:
        park = Park.objects.filter(id__in=ids, code=wanted).first()
        if park is None:
            raise Http404
        return park
    return Park.objects.filter(id__in=ids).order_by("code").first()
