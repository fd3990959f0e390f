"""`make run`'s last step end to end: all comes up, the admin logs in, Ctrl-C stops it all."""

import os
import re
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

REPO_ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _free_port_pair() -> int:
    """A port P with P+1 also free: the demo's two simulated panels take consecutive ports."""
    for _ in range(50):
        port = _free_port()
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port + 1))
            except OSError:
                continue
        return port
    raise RuntimeError("no two consecutive free ports")


def _embedded_env(var_dir: Path) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "DATABASE_", "REDIS_", "CELERY_"))
    }
    return {
        **env,
        "DJANGO_DEBUG": "1",
        "PORTAL_VAR_DIR": str(var_dir),
        "DJANGO_SETTINGS_MODULE": "portal.settings",
    }


def _descendants(pid: int) -> set[int]:
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    found, todo = set(), [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.add(child)
            todo.append(child)
    return found


def _all_processes_started(pid: int, expected: int = 7, timeout: float = 30) -> set[int]:
    """Two simulators, the web server, the worker with its two pool processes and beat."""
    deadline = time.monotonic() + timeout
    while len(found := _descendants(pid)) < expected and time.monotonic() < deadline:
        time.sleep(0.2)
    return found


def _wait_for_service(
    database: Path, service_id: int, timeout: float = 30
) -> tuple[str, str, set[str]]:
    """Status, client name and panel calls of a service once the demo's worker is done with it."""
    deadline = time.monotonic() + timeout
    with sqlite3.connect(database) as db:
        while True:
            status, name = db.execute(
                "SELECT status, remote_name FROM provisioning_service WHERE id = ?", [service_id]
            ).fetchone()
            if status not in ("pending", "provisioning") or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        calls = db.execute(
            "SELECT method || ' ' || path FROM provisioning_modulelogentry WHERE service_id = ?",
            [service_id],
        )
        return status, name, {call for (call,) in calls}


def _create_service_in_admin(session: requests.Session, web_url: str, database: Path) -> int:
    """Services → Add in the admin, for the demo customer on the first demo plan."""
    with sqlite3.connect(database) as db:
        (customer_id,) = db.execute("SELECT id FROM accounts_customer").fetchone()
        (product_id,) = db.execute("SELECT min(id) FROM provisioning_product").fetchone()
    add_url = f"{web_url}/admin/provisioning/service/add/"
    form = session.get(add_url, timeout=10).text
    request_key = re.search(r'name="request_key" value="([^"]+)"', form).group(1)
    response = session.post(
        add_url,
        data={
            "customer": customer_id,
            "product": product_id,
            "request_key": request_key,
            "csrfmiddlewaretoken": session.cookies["csrftoken"],
        },
        headers={"Referer": add_url},
        timeout=10,
    )
    match = re.search(r"/admin/provisioning/service/(\d+)/change/", response.url)
    assert match, f"service not created: {response.status_code} {response.url}"
    return int(match.group(1))


def _licence_status_row(session: requests.Session, web_url: str, database: Path) -> str:
    """The licence status row of the first demo product's admin page."""
    with sqlite3.connect(database) as db:
        (product_id,) = db.execute("SELECT min(id) FROM provisioning_product").fetchone()
    page = session.get(f"{web_url}/admin/provisioning/product/{product_id}/change/", timeout=10)
    row = re.search(r'field-licence_status.*?<div class="readonly">(.*?)</div>', page.text, re.S)
    assert row, page.text[-2000:]
    return row.group(1).strip()


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def _read_banner(process: subprocess.Popen, timeout: float) -> str:
    lines: list[str] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            break
        lines.append(line)
        if "Press Ctrl-C" in line:
            return "".join(lines)
    raise AssertionError("rundemo printed no banner:\n" + "".join(lines))


def _admin_login(
    web_url: str, username: str, password: str
) -> tuple[requests.Session, requests.Response]:
    session = requests.Session()
    login_url = f"{web_url}/admin/login/?next=/admin/"
    session.get(login_url, timeout=10)
    return session, session.post(
        login_url,
        data={
            "username": username,
            "password": password,
            "csrfmiddlewaretoken": session.cookies["csrftoken"],
            "next": "/admin/",
        },
        headers={"Referer": login_url},
        timeout=10,
    )


NEW_CUSTOMER = "newcomer@example.com"
NEW_PASSWORD = "a-long-demo-passphrase-42"


def _post_form(session: requests.Session, url: str, data: dict[str, str]) -> requests.Response:
    """A form posted as a browser does: the CSRF cookie's token, the page as the referer."""
    return session.post(
        url,
        data={**data, "csrfmiddlewaretoken": session.cookies["csrftoken"]},
        headers={"Referer": url},
        timeout=20,
    )


def _link_in_mail(mail_dir: Path, path: str, timeout: float = 30) -> str:
    """The first link to ``path`` in a message the demo's worker wrote to its mail folder."""
    deadline = time.monotonic() + timeout
    pattern = re.compile(rf"https?://\S+{re.escape(path)}\S*")
    while time.monotonic() < deadline:
        for message in sorted(mail_dir.glob("*.log")) if mail_dir.is_dir() else []:
            if match := pattern.search(message.read_text(errors="replace")):
                return match.group(0)
        time.sleep(0.2)
    raise AssertionError(f"no mail with a link to {path} in {mail_dir}")


def _new_customer_orders_and_pays(web_url: str, mail_dir: Path) -> tuple[str, int]:
    """Sign up, confirm from the mail, order the first plan monthly, pay with the demo gateway.

    Returns the storefront page and the id of the paid invoice."""
    shop = requests.Session()
    storefront = shop.get(f"{web_url}/", timeout=20).text
    signup_url = f"{web_url}/accounts/signup/"
    shop.get(signup_url, timeout=20)
    signed_up = _post_form(
        shop,
        signup_url,
        {"email": NEW_CUSTOMER, "password1": NEW_PASSWORD, "password2": NEW_PASSWORD},
    )
    assert signed_up.status_code == 200, signed_up.text[-2000:]
    confirm_url = _link_in_mail(mail_dir, "/accounts/confirm-email/")
    shop.get(confirm_url, timeout=20)
    _post_form(shop, confirm_url, {})
    login_url = f"{web_url}/accounts/login/"
    shop.get(login_url, timeout=20)
    signed_in = _post_form(shop, login_url, {"username": NEW_CUSTOMER, "password": NEW_PASSWORD})
    assert signed_in.url == f"{web_url}/services/", signed_in.text[-2000:]
    plan_url = f"{web_url}/plans/vpn-100/"
    shop.get(plan_url, timeout=20)
    _post_form(shop, plan_url, {"cycle": "monthly", "quantity": "1"})
    checkout_url = f"{web_url}/checkout/"
    token = re.search(r'name="checkout_token" value="([^"]+)"', shop.get(checkout_url).text)[1]
    ordered = _post_form(shop, checkout_url, {"checkout_token": token, "accept_terms": "on"})
    invoice_id = int(re.search(r"/billing/invoices/(\d+)/$", ordered.url)[1])
    paid = _post_form(shop, f"{web_url}/billing/invoices/{invoice_id}/pay/demo/", {})
    assert "Paid with the demo gateway" in paid.text, paid.text[-2000:]
    return storefront, invoice_id


def _service_of(database: Path, email: str, timeout: float = 30) -> int:
    deadline = time.monotonic() + timeout
    query = (
        "SELECT s.id FROM provisioning_service s JOIN accounts_customer c ON s.customer_id = c.id "
        "JOIN auth_user u ON c.user_id = u.id WHERE u.email = ?"
    )
    with sqlite3.connect(database) as db:
        while not (row := db.execute(query, [email]).fetchone()):
            assert time.monotonic() < deadline, f"no service for {email}"
            time.sleep(0.2)
    return row[0]


def _welcome_in_admin(session: requests.Session, web_url: str, timeout: float = 30) -> str:
    """The admin's list of sent welcome emails, once it shows the new customer's."""
    deadline = time.monotonic() + timeout
    url = f"{web_url}/admin/notifications/emailrecord/?kind=welcome&status=sent"
    while NEW_CUSTOMER not in (page := session.get(url, timeout=20).text):
        assert time.monotonic() < deadline, f"no welcome email in the admin:\n{page[-2000:]}"
        time.sleep(0.3)
    return page


@pytest.mark.slow
def test_demo_starts_everything_and_ctrl_c_leaves_no_process(tmp_path):
    env = _embedded_env(tmp_path / "var")
    panel_port, web_port = _free_port_pair(), _free_port()
    manage = [sys.executable, "manage.py"]
    for step in (["migrate", "--noinput"], ["seed_demo", f"--first-panel-port={panel_port}"]):
        subprocess.run(manage + step, cwd=REPO_ROOT, env=env, check=True, capture_output=True)

    demo = subprocess.Popen(
        [*manage, "rundemo", f"--port={web_port}"],
        cwd=REPO_ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        banner = _read_banner(demo, timeout=90)
        web_url = f"http://127.0.0.1:{web_port}"
        username, password = re.search(r"login (\S+) / (\S+)", banner).groups()
        health = requests.get(f"{web_url}/healthz", timeout=10)
        session, login = _admin_login(web_url, username, password)
        panel = requests.get(f"http://127.0.0.1:{panel_port}/api/v1/openapi.json", timeout=10)
        spawned = _all_processes_started(demo.pid)
        database = tmp_path / "var" / "db.sqlite3"
        seeded_service = _wait_for_service(database, service_id=1)
        licence_row = _licence_status_row(session, web_url, database)
        admin_service_id = _create_service_in_admin(session, web_url, database)
        admin_service = _wait_for_service(database, admin_service_id, timeout=10)
        storefront, invoice_id = _new_customer_orders_and_pays(web_url, tmp_path / "var" / "mail")
        ordered_service = _wait_for_service(database, _service_of(database, NEW_CUSTOMER))
        welcome_list = _welcome_in_admin(session, web_url)
        service_link = _link_in_mail(tmp_path / "var" / "mail", "/services/")
    finally:
        demo.send_signal(signal.SIGINT)
        exit_code = demo.wait(timeout=60)

    assert f"{web_url}/admin/" in banner
    assert f"{web_url}/api/docs/" in banner
    assert f"{web_url}/account/api-tokens/" in banner
    assert "/metrics is off until METRICS_TOKEN" in banner
    assert health.status_code == 200, health.text
    assert login.status_code == 200
    assert login.url == f"{web_url}/admin/"
    assert "Log out" in login.text
    assert panel.status_code == 200
    assert len(spawned) >= 7
    assert exit_code == 0
    time.sleep(0.5)
    assert [pid for pid in spawned if _alive(pid)] == []
    # Stopped, not killed: the worker shut its own pool down (no "exited with signal 15").
    worker_log = (tmp_path / "var" / "log" / "celery.log").read_text()
    assert " exited with " not in worker_log
    for status, remote_name, panel_calls in (seeded_service, admin_service):
        assert status == "active"
        assert remote_name.startswith("vpn-")
        assert {"POST client", f"PUT client/{remote_name}"} <= panel_calls
    assert admin_service_id != 1
    # The seeded licence key was checked online, against the demo's own /licensing/verify/.
    assert licence_row.startswith("success: "), licence_row
    web_log = (tmp_path / "var" / "log" / "web.log").read_text()
    assert '"POST /licensing/verify/ HTTP/1.1" 200' in web_log
    # The storefront lists the demo plans; a newcomer signed up, ordered, paid and got a VPN.
    assert "VPN 100 Mbit/s" in storefront
    assert "VPN Unlimited (metered)" in storefront
    assert ordered_service[0] == "active"
    assert NEW_CUSTOMER in welcome_list
    assert service_link.startswith(f"{web_url}/services/")  # the demo's own address
    with sqlite3.connect(database) as db:
        (status, number) = db.execute(
            "SELECT status, number FROM billing_invoice WHERE id = ?", [invoice_id]
        ).fetchone()
    assert status == "paid"
    assert re.fullmatch(r"INV-\d{4}-\d{6}", number)
