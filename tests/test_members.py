"""Members of a plan: who created it, adding people, roles, the last facilitator, invitations."""

from __future__ import annotations

import html
import json
import logging
import re
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from flask import Flask
from sqlalchemy import select

from planner.accounts import membership
from planner.accounts.membership import MembershipRefused
from planner.accounts.models import Invitation, User
from planner.extensions import db
from planner.models import Plan, utcnow
from tests.conftest import PASSWORD, Web


def role(app: Flask, plan_id: int, user: User) -> str | None:
    with app.app_context():
        found = membership.role_of(plan_id, user.id)
        db.session.remove()
        return found


def newest_plan_id(app: Flask) -> int:
    with app.app_context():
        plan_id = db.session.scalar(select(Plan.id).order_by(Plan.id.desc()))
        db.session.remove()
        return plan_id


# ---------------------------------------------------------------- who owns a new plan


def test_whoever_creates_a_plan_is_its_facilitator(app: Flask, web: Web, owner: User) -> None:
    web.post("/plans", {"title": "Spring campaign"})
    assert role(app, newest_plan_id(app), owner) == "facilitator"


def test_whoever_imports_a_plan_is_its_facilitator(app: Flask, web: Web, owner: User, example_doc: dict) -> None:
    from io import BytesIO

    data = {"file": (BytesIO(json.dumps(example_doc).encode()), "plan.json")}
    response = web.post("/plans/import", data, content_type="multipart/form-data")
    assert response.status_code == 303
    assert role(app, newest_plan_id(app), owner) == "facilitator"


def test_a_copy_belongs_to_whoever_made_it_alone(
    app: Flask, example_plan: Any, owner: User, add_user: Any, add_member: Any, as_user: Any
) -> None:
    second = add_user("sol@example.org", "Sol Second")
    add_member(example_plan, second, "facilitator")
    as_user(second).post(f"/plans/{example_plan.id}/duplicate")
    copy_id = newest_plan_id(app)
    assert copy_id != example_plan.id
    assert role(app, copy_id, second) == "facilitator"
    assert role(app, copy_id, owner) is None


# ---------------------------------------------------------------- the members page


def test_every_member_sees_who_is_in_the_plan_but_only_facilitators_manage(
    web: Web, example_plan: Any, editor: User, viewer: User, as_user: Any
) -> None:
    url = f"/plans/{example_plan.id}/members"
    page = web.get(url).get_data(as_text=True)
    for person in ("Fay Facilitator", "Eddie Editor", "Vera Viewer"):
        assert person in page
    assert "Invite with a link" in page and "Invite someone by e-mail" in page

    seen_by_viewer = as_user(viewer).get(url).get_data(as_text=True)
    assert "Eddie Editor" in seen_by_viewer and "Viewer" in seen_by_viewer
    assert "Invite with a link" not in seen_by_viewer and "Remove" not in seen_by_viewer


def invitation_rows(app: Flask) -> list[Invitation]:
    with app.app_context():
        rows = db.session.scalars(select(Invitation).order_by(Invitation.id)).all()
        for row in rows:
            db.session.expunge(row)
        db.session.remove()
        return list(rows)


def test_adding_an_account_by_email_invites_them_and_they_join_only_when_they_accept(
    app: Flask, web: Web, example_plan: Any, add_user: Any, as_user: Any
) -> None:
    newcomer = add_user("nia@example.org", "Nia Newcomer")
    response = web.post(f"/plans/{example_plan.id}/members", {"email": "NIA@example.org", "role": "editor"})
    assert response.status_code == 302
    assert "Invitation sent to nia@example.org." in web.get(response.location).get_data(as_text=True)
    assert role(app, example_plan.id, newcomer) is None  # not a member until they say so

    nia = as_user(newcomer)
    home = nia.get("/").get_data(as_text=True)
    assert "Invitations for you" in home and "Fay Facilitator invited you as editor" in home
    assert f'href="/plans/{example_plan.id}"' not in home  # the plan itself is not on their list yet
    assert nia.get(f"/plans/{example_plan.id}/steps/goals").status_code == 404

    [invitation] = invitation_rows(app)
    accepted = nia.post(f"/invitations/{invitation.id}/accept")
    assert accepted.status_code == 302 and accepted.location.endswith(f"/plans/{example_plan.id}")
    assert role(app, example_plan.id, newcomer) == "editor"
    assert "Invitations for you" not in nia.get("/").get_data(as_text=True)
    assert nia.post(f"/invitations/{invitation.id}/accept").status_code == 302  # used: refused, politely
    assert "no longer works" in nia.get("/").get_data(as_text=True)

    again = web.post(f"/plans/{example_plan.id}/members", {"email": "nia@example.org", "role": "viewer"})
    assert again.status_code == 422
    assert "already a member" in again.get_data(as_text=True)
    assert role(app, example_plan.id, newcomer) == "editor"


def test_an_invitation_can_be_declined_and_is_for_its_addressee_alone(
    app: Flask, web: Web, example_plan: Any, add_user: Any, as_user: Any, outsider: User
) -> None:
    newcomer = add_user("nia@example.org", "Nia Newcomer")
    web.post(f"/plans/{example_plan.id}/members", {"email": "nia@example.org", "role": "editor"})
    [invitation] = invitation_rows(app)

    otto = as_user(outsider)
    assert "Invitations for you" not in otto.get("/").get_data(as_text=True)
    otto.post(f"/invitations/{invitation.id}/accept")
    assert role(app, example_plan.id, outsider) is None

    nia = as_user(newcomer)
    assert nia.post(f"/invitations/{invitation.id}/decline").status_code == 302
    assert "You declined the invitation." in nia.get("/").get_data(as_text=True)
    nia.post(f"/invitations/{invitation.id}/accept")
    assert role(app, example_plan.id, newcomer) is None
    assert "No invitations work at the moment." in web.get(f"/plans/{example_plan.id}/members").get_data(as_text=True)


def test_the_facilitator_is_told_the_same_whether_or_not_an_account_uses_the_address(
    app: Flask, web: Web, example_plan: Any, add_user: Any
) -> None:
    add_user("nia@example.org", "Nia Newcomer")
    url = f"/plans/{example_plan.id}/members"
    answers = {}
    for email in ("nia@example.org", "nobody@example.org"):
        response = web.post(url, {"email": email, "role": "editor"})
        page = web.get(response.location).get_data(as_text=True)
        page = re.sub(r"<time[^>]*>[^<]*</time>", "TIME", page.replace(email, "ADDRESS"))
        page = re.sub(r"/invitations/\d+/", "/invitations/N/", page)
        # A CSRF token carries the second it was signed in: two pages a second apart differ there.
        page = re.sub(r'"[\w-]{20,}\.[\w-]{6}\.[\w-]{20,}"', '"TOKEN"', page)
        answers[email] = (response.status_code, response.location, page)
        [invitation] = [i for i in invitation_rows(app) if i.revoked_at is None]  # withdrawn: one listed each time
        web.get(web.post(f"/plans/{example_plan.id}/invitations/{invitation.id}/revoke").location)
    assert answers["nia@example.org"][:2] == answers["nobody@example.org"][:2]
    assert answers["nia@example.org"][2].splitlines() == answers["nobody@example.org"][2].splitlines()
    assert "Invitation sent to ADDRESS." in answers["nia@example.org"][2]


def on_host(web: Web, host: str) -> Web:
    """`web`'s cookies, for requests sent with `base_url=f"http://{host}"` (a forged Host header)."""
    cookie = web.client.get_cookie("session")
    web.client.set_cookie("session", cookie.value, domain=host)
    return web


class FakeSMTP:
    sent: list[Any] = []

    def __init__(self, host: str, port: int, timeout: float) -> None:
        pass

    def __enter__(self) -> FakeSMTP:
        return self

    def __exit__(self, *exc: object) -> None:
        pass

    def starttls(self) -> None:
        pass

    def send_message(self, message: Any) -> None:
        FakeSMTP.sent.append(message)


def test_with_mail_every_address_gets_the_same_invitation_and_its_link_works_once(
    app: Flask, web: Web, anonymous: Web, example_plan: Any, add_user: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    import smtplib

    FakeSMTP.sent = []
    monkeypatch.setattr(smtplib, "SMTP", FakeSMTP)
    monkeypatch.setitem(app.config, "MAIL_SERVER", "mail.example.org")
    monkeypatch.setitem(app.config, "BASE_URL", "https://planner.example.org")
    add_user("nia@example.org", "Nia Newcomer")
    web.token()
    forged = on_host(web, "evil.example")
    for email in ("nia@example.org", "jo@example.org"):
        sent = forged.post(
            f"/plans/{example_plan.id}/members", {"email": email, "role": "editor"}, base_url="http://evil.example"
        )
        assert sent.status_code == 302
    to_nia, to_jo = FakeSMTP.sent
    assert (to_nia["To"], to_jo["To"]) == ("nia@example.org", "jo@example.org")
    links = [
        re.search(r"https://planner\.example\.org(/invitations/\S+)", m.get_content()).group(1) for m in (to_nia, to_jo)
    ]
    texts = [m.get_content().replace(link, "LINK") for m, link in zip((to_nia, to_jo), links, strict=True)]
    assert texts[0] == texts[1] and "evil.example" not in texts[0]
    assert "Fay Facilitator invited you" in texts[0] and "Eastside Tool Library" in texts[0]

    # Someone new signs up from the message's link and joins; the link then works no more.
    anonymous.post("/signup", {"name": "Jo", "email": "jo@example.org", "password": PASSWORD, "confirm": PASSWORD})
    anonymous._token = None
    assert anonymous.post(links[1]).status_code == 302
    assert role(app, example_plan.id, db_user(app, "jo@example.org")) == "editor"
    assert anonymous.get(links[1]).status_code == 404


@pytest.mark.parametrize("has_account", [True, False], ids=["by-account", "by-address"])
def test_a_mailed_link_opened_by_another_account_is_refused_and_says_whom_to_log_in_as(
    app: Flask,
    web: Web,
    example_plan: Any,
    add_user: Any,
    as_user: Any,
    outsider: User,
    monkeypatch: pytest.MonkeyPatch,
    has_account: bool,
) -> None:
    import smtplib

    FakeSMTP.sent = []
    monkeypatch.setattr(smtplib, "SMTP", FakeSMTP)
    monkeypatch.setitem(app.config, "MAIL_SERVER", "mail.example.org")
    monkeypatch.setitem(app.config, "BASE_URL", "https://planner.example.org")
    if has_account:
        add_user("nia@example.org", "Nia Newcomer")
    members = f"/plans/{example_plan.id}/members"
    assert web.post(members, {"email": "nia@example.org", "role": "facilitator"}).status_code == 302
    [mail] = FakeSMTP.sent
    link = re.search(r"https://planner\.example\.org(/invitations/\S+)", mail.get_content()).group(1)

    otto = as_user(outsider)  # Nia forwarded the mail, or it reached a shared inbox
    page = otto.get(link).get_data(as_text=True)
    assert "sent to someone else" in page and "Join as" not in page
    refused = otto.post(link)
    assert refused.status_code == 403 and "log in as the person it was sent to" in refused.get_data(as_text=True)
    assert role(app, example_plan.id, outsider) is None

    nia = as_user(add_user("nia@example.org", "Nia") if not has_account else db_user(app, "nia@example.org"))
    assert "Join as facilitator" in nia.get(link).get_data(as_text=True)
    assert nia.post(link).status_code == 302
    assert role(app, example_plan.id, db_user(app, "nia@example.org")) == "facilitator"


def test_invitations_by_e_mail_are_limited_per_inviting_account_whatever_the_plan(
    app: Flask, web: Web, example_plan: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(app.config, "INVITE_LIMIT", "2 per minute")
    url = f"/plans/{example_plan.id}/members"
    for n in range(2):
        assert web.post(url, {"email": f"guest{n}@example.org", "role": "viewer"}).status_code == 302
    blocked = web.post(url, {"email": "guest9@example.org", "role": "viewer"})
    assert blocked.status_code == 429
    assert [i.email for i in invitation_rows(app)] == ["guest0@example.org", "guest1@example.org"]
    # A new plan starts no new count.
    other = web.post("/plans", {"title": "Another plan"})
    other_id = newest_plan_id(app)
    assert other.status_code == 302
    assert web.post(f"/plans/{other_id}/members", {"email": "guest9@example.org", "role": "viewer"}).status_code == 429
    assert len(invitation_rows(app)) == 2


def test_one_address_gets_a_few_invitations_a_day_from_everyone_together(
    app: Flask, web: Web, example_plan: Any, outsider: User, as_user: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(app.config, "INVITE_LIMIT_PER_RECIPIENT", "2 per day")
    otto = as_user(outsider)
    fays, ottos = f"/plans/{example_plan.id}/members", f"/plans/{newest_plan_id(app)}/members"
    assert web.post(fays, {"email": "Victim@example.org", "role": "viewer"}).status_code == 302
    assert otto.post(ottos, {"email": "victim@example.org", "role": "viewer"}).status_code == 302
    assert web.post(fays, {"email": "victim@example.org", "role": "editor"}).status_code == 429
    # Another address is not held up.
    assert otto.post(ottos, {"email": "jo@example.org", "role": "viewer"}).status_code == 302


def test_change_a_role_and_remove_a_member(app: Flask, web: Web, example_plan: Any, editor: User, as_user: Any) -> None:
    base = f"/plans/{example_plan.id}/members/{editor.id}"
    assert web.post(f"{base}/role", {"role": "viewer"}).status_code == 302
    assert role(app, example_plan.id, editor) == "viewer"
    assert web.post(f"{base}/remove").status_code == 302
    assert role(app, example_plan.id, editor) is None
    assert as_user(editor).get(f"/plans/{example_plan.id}/steps/goals").status_code == 404


def test_a_plan_always_keeps_a_facilitator(
    app: Flask, web: Web, example_plan: Any, owner: User, add_user: Any, add_member: Any, as_user: Any
) -> None:
    base = f"/plans/{example_plan.id}/members/{owner.id}"
    demoted = web.post(f"{base}/role", {"role": "editor"})
    assert demoted.status_code == 302
    assert "needs at least one facilitator" in web.get(demoted.location).get_data(as_text=True)
    web.post(f"{base}/remove")
    assert role(app, example_plan.id, owner) == "facilitator"

    # With a second facilitator, the first may step down.
    second = add_user("sol@example.org", "Sol Second")
    add_member(example_plan, second, "facilitator")
    assert web.post(f"{base}/role", {"role": "editor"}).status_code == 302
    assert role(app, example_plan.id, owner) == "editor"
    # ...and now the second is the last one.
    as_user(second).post(f"/plans/{example_plan.id}/members/{second.id}/remove")
    assert role(app, example_plan.id, second) == "facilitator"


def test_the_last_facilitator_rule_as_a_plain_function(ctx: Flask, example_plan: Any, owner: User) -> None:
    with pytest.raises(MembershipRefused, match="at least one facilitator"):
        membership.set_role(example_plan, owner.id, "viewer")
    with pytest.raises(MembershipRefused):
        membership.remove_member(example_plan, owner.id)
    assert membership.role_of(example_plan.id, owner.id) == "facilitator"


def test_a_facilitator_may_leave_when_another_remains(
    app: Flask, web: Web, example_plan: Any, owner: User, add_user: Any, add_member: Any
) -> None:
    add_member(example_plan, add_user("sol@example.org"), "facilitator")
    response = web.post(f"/plans/{example_plan.id}/members/{owner.id}/remove")
    assert response.status_code == 302 and response.location == "/"
    assert web.get(f"/plans/{example_plan.id}/steps/goals").status_code == 404


def test_the_only_facilitator_is_told_they_cannot_leave_instead_of_offered_a_button_that_fails(
    app: Flask, web: Web, example_plan: Any, owner: User, add_user: Any, add_member: Any
) -> None:
    url = f"/plans/{example_plan.id}/members"
    page = web.get(url).get_data(as_text=True)
    assert "only facilitator, so you cannot leave it or change your role" in page
    assert "Make someone else a facilitator first." in page
    assert 'aria-label="Leave this plan"' not in page
    assert f'/members/{owner.id}/remove"' not in page and f'/members/{owner.id}/role"' not in page
    # The rule still holds where the button used to lead.
    response = web.post(f"/plans/{example_plan.id}/members/{owner.id}/remove")
    assert response.status_code == 302 and role(app, example_plan.id, owner) == "facilitator"

    add_member(example_plan, add_user("sol@example.org", "Sol Second"), "facilitator")
    page = web.get(url).get_data(as_text=True)
    assert "cannot leave" not in page
    assert 'aria-label="Leave this plan"' in page and f'/members/{owner.id}/remove"' in page


@pytest.mark.parametrize("who", ["editor", "viewer"])
def test_an_editor_or_viewer_may_leave_a_plan_from_the_members_page(
    app: Flask, example_plan: Any, editor: User, viewer: User, as_user: Any, who: str
) -> None:
    person = {"editor": editor, "viewer": viewer}[who]
    browser = as_user(person)
    page = browser.get(f"/plans/{example_plan.id}/members").get_data(as_text=True)
    assert f'action="/plans/{example_plan.id}/leave"' in page and 'aria-label="Leave this plan"' in page
    assert page.count('aria-label="Leave this plan"') == 1  # on their own row only
    response = browser.post(f"/plans/{example_plan.id}/leave")
    assert response.status_code == 302 and response.location == "/"
    assert "You left “Eastside Tool Library" in browser.get("/").get_data(as_text=True)
    assert role(app, example_plan.id, person) is None
    assert browser.get(f"/plans/{example_plan.id}/members").status_code == 404


def test_the_only_facilitator_cannot_leave_by_the_leave_route_either(
    app: Flask, web: Web, example_plan: Any, owner: User
) -> None:
    response = web.post(f"/plans/{example_plan.id}/leave")
    assert response.status_code == 302 and response.location.endswith(f"/plans/{example_plan.id}/members")
    assert "at least one facilitator" in web.get(response.location).get_data(as_text=True)
    assert role(app, example_plan.id, owner) == "facilitator"


def test_a_403_page_says_what_the_role_allows_and_whom_to_ask(example_plan: Any, viewer: User, as_user: Any) -> None:
    response = as_user(viewer).post(f"/plans/{example_plan.id}/items/goal/new", {"new-goal-statement": "x"})
    assert response.status_code == 403
    page = response.get_data(as_text=True)
    assert "You are a viewer" in page and "can read the plan and download it" in page
    assert "ask Fay Facilitator" in page


# ---------------------------------------------------------------- invitations


def make_link(web: Web, plan_id: int, role: str = "editor", days: str = "7") -> str:
    response = web.post(f"/plans/{plan_id}/invitations", {"role": role, "days": days})
    assert response.status_code == 302
    page = web.get(response.location).get_data(as_text=True)
    match = re.search(r'value="http://localhost(/invitations/[^"]+)"', page)
    assert match, "the new link is shown on the members page"
    # Shown once: only its hash is stored.
    assert match.group(1) not in web.get(f"/plans/{plan_id}/members").get_data(as_text=True)
    return match.group(1)


def test_an_invitation_link_is_shown_once_and_stored_only_as_a_hash(app: Flask, web: Web, example_plan: Any) -> None:
    link = make_link(web, example_plan.id)
    token = link.rsplit("/", 1)[1]
    with app.app_context():
        stored = db.session.scalars(select(Invitation.token_hash)).all()
        db.session.remove()
    assert len(stored) == 1 and token not in stored[0]


def test_a_stranger_signs_up_through_an_invitation_and_joins(
    app: Flask, web: Web, anonymous: Web, example_plan: Any
) -> None:
    link = make_link(web, example_plan.id, "editor")
    page = anonymous.get(link).get_data(as_text=True)
    assert "Join “Eastside Tool Library" in page and "Fay Facilitator invites you" in page
    signup = re.search(r'href="(/signup\?next=[^"]+)"', page).group(1).replace("&amp;", "&")

    response = anonymous.post(
        signup, {"name": "Jo Joiner", "email": "jo@example.org", "password": PASSWORD, "confirm": PASSWORD}
    )
    assert response.status_code == 302 and response.location == link  # back to the invitation
    anonymous._token = None
    accepted = anonymous.post(link)
    assert accepted.status_code == 302 and accepted.location.endswith(f"/plans/{example_plan.id}")
    jo = db_user(app, "jo@example.org")
    assert role(app, example_plan.id, jo) == "editor"


def db_user(app: Flask, email: str) -> User:
    with app.app_context():
        user = db.session.scalar(select(User).where(User.email == email))
        db.session.expunge(user)
        db.session.remove()
        return user


def test_a_member_logs_in_through_an_invitation_and_comes_back(
    app: Flask, web: Web, anonymous: Web, example_plan: Any, outsider: User
) -> None:
    link = make_link(web, example_plan.id, "viewer")
    page = anonymous.get(link).get_data(as_text=True)
    login = re.search(r'href="(/login\?next=[^"]+)"', page).group(1).replace("&amp;", "&")
    response = anonymous.post(login, {"email": outsider.email, "password": PASSWORD})
    assert response.location == link


def auth_links(page: str) -> list[str]:
    """Every link on a page to logging in, signing up or resetting a password."""
    found = re.findall(r'href="(/(?:login|signup|reset-password)(?:\?[^"]*)?)"', page)
    return [html.unescape(href) for href in found]


def next_of(href: str) -> str | None:
    return parse_qs(urlsplit(href).query).get("next", [None])[0]


def test_every_log_in_and_sign_up_link_on_an_invitation_keeps_it(web: Web, anonymous: Web, example_plan: Any) -> None:
    link = make_link(web, example_plan.id)
    links = auth_links(anonymous.get(link).get_data(as_text=True))
    # The header's "Log in" and "Sign up", and the invitation's own buttons.
    assert sorted(urlsplit(href).path for href in links) == ["/login", "/login", "/signup", "/signup"]
    assert all(next_of(href) == link for href in links), links
    # The pages they lead to pass it on: log in <-> sign up, and "Forgot your password?".
    for href in set(links):
        onward = auth_links(anonymous.get(href).get_data(as_text=True))
        assert onward and all(next_of(h) == link for h in onward), (href, onward)
    reset = next(h for h in auth_links(anonymous.get(f"/login?next={link}").get_data(as_text=True)) if "reset" in h)
    assert all(next_of(h) == link for h in auth_links(anonymous.get(reset).get_data(as_text=True)))


@pytest.mark.parametrize("which", ["header", "button"])
def test_signing_up_from_either_link_on_an_invitation_lands_on_accepting_it(
    app: Flask, web: Web, anonymous: Web, example_plan: Any, which: str
) -> None:
    link = make_link(web, example_plan.id)
    signups = [h for h in auth_links(anonymous.get(link).get_data(as_text=True)) if h.startswith("/signup")]
    form_page = anonymous.get(signups[0 if which == "header" else 1]).get_data(as_text=True)
    action = html.unescape(re.search(r'<form method="post" action="([^"]+)"', form_page).group(1))
    response = anonymous.post(
        action, {"name": "Jo Joiner", "email": "jo@example.org", "password": PASSWORD, "confirm": PASSWORD}
    )
    assert response.status_code == 302 and response.location == link
    assert "Join as editor" in anonymous.get(link).get_data(as_text=True)


def test_a_forgotten_password_on_the_way_to_an_invitation_comes_back_to_it(
    app: Flask, web: Web, anonymous: Web, example_plan: Any, outsider: User, caplog: pytest.LogCaptureFixture
) -> None:
    link = make_link(web, example_plan.id)
    login = next(h for h in auth_links(anonymous.get(link).get_data(as_text=True)) if h.startswith("/login"))
    forgot = next(h for h in auth_links(anonymous.get(login).get_data(as_text=True)) if "reset" in h)
    with caplog.at_level(logging.WARNING):
        sent = anonymous.post(forgot, {"email": outsider.email})
    assert sent.status_code == 302 and next_of(sent.location) == link
    back = [h for h in auth_links(anonymous.get(sent.location).get_data(as_text=True)) if h.startswith("/login")]
    assert back and all(next_of(h) == link for h in back)

    mailed = re.search(r"http://[^/\s]+(/reset-password/\S+)", caplog.text).group(1)
    assert next_of(mailed) == link
    done = anonymous.post(mailed, {"password": "my new password", "confirm": "my new password"})
    assert done.status_code == 302 and done.location == link
    anonymous._token = None
    assert "Join as editor" in anonymous.get(link).get_data(as_text=True)


def test_accepting_never_lowers_a_role_but_may_raise_it(
    app: Flask, web: Web, example_plan: Any, editor: User, as_user: Any
) -> None:
    viewer_link = make_link(web, example_plan.id, "viewer")
    editor_web = as_user(editor)
    assert "already editor" in editor_web.get(viewer_link).get_data(as_text=True)
    editor_web.post(viewer_link)
    assert role(app, example_plan.id, editor) == "editor"

    facilitator_link = make_link(web, example_plan.id, "facilitator")
    editor_web.post(facilitator_link)
    assert role(app, example_plan.id, editor) == "facilitator"


def test_accepting_needs_an_account(anonymous: Web, web: Web, example_plan: Any) -> None:
    link = make_link(web, example_plan.id)
    response = anonymous.post(link)
    assert response.status_code == 302 and response.location.startswith("/login")


def test_a_revoked_or_expired_invitation_no_longer_works(
    app: Flask, web: Web, example_plan: Any, outsider: User, as_user: Any
) -> None:
    revoked = make_link(web, example_plan.id)
    expired = make_link(web, example_plan.id)
    with app.app_context():
        newest, older = db.session.scalars(select(Invitation).order_by(Invitation.id.desc())).all()
        older_id = older.id
        newest.expires_at = utcnow() - timedelta(minutes=1)
        db.session.commit()
        db.session.remove()
    assert web.post(f"/plans/{example_plan.id}/invitations/{older_id}/revoke").status_code == 302
    page = web.get(f"/plans/{example_plan.id}/members").get_data(as_text=True)
    assert "No invitations work at the moment." in page

    stranger = as_user(outsider)
    for link in (revoked, expired):
        response = stranger.get(link)
        assert response.status_code == 404
        assert "expired, was revoked" in response.get_data(as_text=True)
        assert stranger.post(link).status_code == 404
    assert role(app, example_plan.id, outsider) is None
    assert stranger.get("/invitations/made-up-token").status_code == 404


def test_a_viewer_reads_a_step_without_forms_an_editor_gets_them(
    example_plan: Any, viewer: User, editor: User, as_user: Any
) -> None:
    url = f"/plans/{example_plan.id}/steps/starting-point"
    read_only = as_user(viewer).get(url).get_data(as_text=True)
    assert "you can read it and download it" in read_only
    # Viewers may comment (planner.discussion.comments.NEED): that is the only form they get.
    forms = re.findall(r'<form[^>]*action="([^"]*)"', read_only.split("<main", 1)[1])
    assert set(forms) <= {f"/plans/{example_plan.id}/comments", "/logout"}
    assert "Eastside Tool Library" in read_only  # the answers, as text
    writable = as_user(editor).get(url).get_data(as_text=True)
    assert "you can read it and download it" not in writable
    assert 'action="/plans/' in writable and ">Save</button>" in writable
