"""GET /api/auth/me: the caller, including whether it is a system user."""

URL = "/api/auth/me"


def test_me_is_the_caller(api, user):
    response = api.get(URL)
    assert response.status_code == 200
    assert response.json() == {
        "_id": str(user.id),
        "name": user.name,
        "email": user.email,
        "systemUser": False,
    }


def test_me_says_system_user(system_api, system_user):
    body = system_api.get(URL).json()
    assert body["_id"] == str(system_user.id) and body["systemUser"] is True


def test_me_never_shows_the_password(api):
    assert "password" not in api.get(URL).content.decode()


def test_me_needs_a_token(client_anon):
    response = client_anon.get(URL)
    assert response.status_code == 401
    assert response.json()["code"] == "token_missing"


def test_me_works_with_the_cookie(client_anon, user):
    from users.services import token_issue

    client_anon.cookies["token"] = token_issue(user=user)
    assert client_anon.get(URL).json()["email"] == user.email
