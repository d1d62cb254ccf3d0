from tests.factories.accounts import TEST_PASSWORD


def csrf(client) -> str:
    client.get("/login")
    return client.cookies.get("etender_csrf")


def test_healthz_reports_database_and_blob_store(client):
    r = client.get("/healthz")
    assert r.status_code == 200
    body = r.json()
    assert body["status"] == "ok"
    assert body["database"]["status"] == "ok"
    assert body["blob_store"]["status"] == "ok"


def test_openapi_document_is_served(client):
    r = client.get("/schema/openapi.json")
    assert r.status_code == 200
    assert r.json()["info"]["title"] == "etender API"


def test_login_rotates_session_and_logout_ends_it(client, make, db):
    org = make.org("bidder")
    make.user(org, "bidder", username="alice")
    db.commit()
    token = csrf(client)
    client.cookies.set("etender_session", "planted-by-attacker")
    r = client.post(
        "/login",
        data={"username": "alice", "password": TEST_PASSWORD, "_csrf_token": token},
        follow_redirects=False,
    )
    assert r.status_code == 303
    new_id = r.cookies.get("etender_session")
    assert new_id and new_id != "planted-by-attacker"
    bound = r.cookies.get("etender_csrf")  # the login's own response binds a new token to the new session
    assert bound and bound != token
    token = bound
    client.cookies.clear()
    client.cookies.set("etender_session", new_id)
    client.cookies.set("etender_csrf", token)
    assert client.get("/account").status_code == 200
    r = client.post("/logout", data={"_csrf_token": token}, follow_redirects=False)
    assert r.status_code == 303
    assert client.get("/account", follow_redirects=False).status_code in (302, 303)


def test_wrong_password_keeps_username_and_says_what_was_wrong(client, make, db):
    make.user(make.org("bidder"), "bidder", username="bob")
    db.commit()
    token = csrf(client)
    r = client.post("/login", data={"username": "bob", "password": "nope", "_csrf_token": token})
    assert r.status_code == 422
    assert 'value="bob"' in r.text
    assert "用户名或密码错误" in r.text


def test_login_is_throttled_after_repeated_failures(client, make, db):
    make.user(make.org("bidder"), "bidder", username="carol")
    db.commit()
    token = csrf(client)
    for _ in range(5):
        client.post("/login", data={"username": "carol", "password": "wrong", "_csrf_token": token})
    r = client.post("/login", data={"username": "carol", "password": TEST_PASSWORD, "_csrf_token": token})
    assert r.status_code == 429


def test_post_without_csrf_token_is_refused(client, make, db):
    make.user(make.org("bidder"), "bidder", username="dave")
    db.commit()
    client.get("/login")
    r = client.post("/login", data={"username": "dave", "password": TEST_PASSWORD})
    assert r.status_code == 403


def test_english_switch(client):
    client.get("/lang/en?next=/login", follow_redirects=False)
    client.cookies.set("lang", "en")
    r = client.get("/login")
    assert "Log in" in r.text
