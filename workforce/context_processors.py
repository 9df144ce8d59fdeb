from workforce.selectors import user_roles


def roles(request):
    """The signed-in user's roles, for the navigation."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"roles": set()}
    return {"roles": user_roles(user)}
