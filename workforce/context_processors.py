from workforce.selectors import user_roles

# The worker's pages the service worker keeps for reading offline.
OFFLINE_PAGES = frozenset(("me:home", "me:sessions", "me:payslips", "payslip"))


def roles(request):
    """The signed-in user's roles, for the navigation, and whether the page is
    one of the worker's own that the phone keeps offline (static/js/sw.js)."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"roles": set()}
    roles = user_roles(user)
    match = getattr(request, "resolver_match", None)
    keep = (
        "worker" in roles
        and match is not None
        and match.view_name in OFFLINE_PAGES
        and not roles & {"director", "payroll_officer", "trainer"}
    )
    return {"roles": roles, "offline_keep": keep}
