"""Pages every user meets: errors, password change, the way to the admin."""

import pytest
from django.contrib.auth.models import User
from django.template.loader import render_to_string
from django.test import Client

from tests.factories import make_user

pytestmark = pytest.mark.django_db
GOOD = "test-pass-123456"  # tests.factories' password


def test_an_unknown_address_gets_a_chinese_404_page():
    """Not Django's English debug page: the park's own, in Chinese by default."""
    response = Client().get("/no-such-page/")
    assert response.status_code == 404
    page = response.content.decode()
    assert '<html lang="zh-hans">' in page
    assert "找不到" in page and "Not Found" not in page
    assert 'href="/"' in page


def test_the_500_page_stands_alone_in_both_languages():
    """Rendered without a request (as Django does after an error)."""
    page = render_to_string("500.html")
    assert "出错了" in page and "Something went wrong" in page
    assert "{%" not in page


@pytest.mark.parametrize("role", ["worker", "director", "county_official"])
def test_every_user_can_change_their_password(role):
    user = make_user(role)
    client = Client()
    client.force_login(user)
    assert 'href="/accounts/password/"' in client.get("/", follow=True).content.decode()
    form = client.get("/accounts/password/")
    assert form.status_code == 200 and "修改密码" in form.content.decode()
    wrong = client.post(
        "/accounts/password/",
        {
            "old_password": "not-my-password",
            "new_password1": "a-new-long-passphrase-42",
            "new_password2": "a-new-long-passphrase-42",
        },
    )
    assert wrong.status_code == 200
    response = client.post(
        "/accounts/password/",
        {
            "old_password": GOOD,
            "new_password1": "a-new-long-passphrase-42",
            "new_password2": "a-new-long-passphrase-42",
        },
    )
    assert response.status_code == 302
    assert response["Location"] == "/accounts/password/done/"
    user.refresh_from_db()
    assert user.check_password("a-new-long-passphrase-42")
    assert "_auth_user_id" in client.session  # still signed in


def test_a_superuser_finds_the_admin_from_the_navigation():
    admin = User.objects.create_superuser("root-user", password=GOOD)
    client = Client()
    client.force_login(admin)
    assert 'href="/admin/"' in client.get("/", follow=True).content.decode()
    worker = Client()
    worker.force_login(make_user("worker"))
    assert 'href="/admin/"' not in worker.get("/", follow=True).content.decode()
