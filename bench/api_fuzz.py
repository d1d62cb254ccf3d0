"""Fuzz every operation of the OpenAPI document with schemathesis, logged in as each demo role, and count the
server errors (issue 12 asks for none). Not a CI test: it runs for minutes against a running `make run`.

schemathesis is not one of the product's packages; install it beside them, in a virtual environment of its
own, and point this script at its command:

    python3 -m venv /tmp/st && /tmp/st/bin/pip install schemathesis==4.32.5
    make run &                                   # the demo on http://127.0.0.1:8000
    .venv/bin/python bench/api_fuzz.py --schemathesis /tmp/st/bin/schemathesis [--examples 10]

It prints, per role, the operations tested, the test cases generated and the server errors found (each 5xx
with the request that produced it is in the role's log file). /logout, the password change and the opening's
event stream are left out: the first two would end the fuzzing session, the stream never ends.
"""

from __future__ import annotations

import argparse
import http.cookiejar
import re
import subprocess
import sys
import urllib.parse
import urllib.request
from pathlib import Path

ROLES = [
    (None, None),
    ("bidder1", "Demo-2026-bidder"),
    ("agency1", "Demo-2026-agency"),
    ("monitor1", "Demo-2026-monitor"),
    ("expert1", "Demo-2026-expert"),
    ("purchaser1", "Demo-2026-purchaser"),
    ("admin", "Demo-2026-admin"),
]
EXCLUDED = ["/logout", "/account/password", "/tenders/{tender_id}/opening/stream"]
TOKEN = re.compile(r'name="_csrf_token" value="([^"]+)"')


def log_in(base: str, username: str, password: str) -> tuple[str, str]:
    """The session cookie header and the CSRF token of a fresh login through the login form."""
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    page = opener.open(base + "/login").read().decode()
    token = TOKEN.search(page)
    if token is None:
        sys.exit("no CSRF token on the login page")
    form = {"username": username, "password": password, "_csrf_token": token.group(1)}
    opener.open(base + "/login", urllib.parse.urlencode(form).encode())
    account = opener.open(base + "/account").read().decode()
    token = TOKEN.search(account)
    if token is None:
        sys.exit(f"could not log in as {username}")
    return "; ".join(f"{c.name}={c.value}" for c in jar), token.group(1)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--base", default="http://127.0.0.1:8000")
    ap.add_argument("--schemathesis", required=True, help="the schemathesis command")
    ap.add_argument("--examples", type=int, default=10, help="examples per operation and phase")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--logs", type=Path, default=Path("test-artifacts/api-fuzz"))
    ap.add_argument("--roles", default="", help="comma-separated user names (anonymous: none); default all")
    args = ap.parse_args()
    chosen = set(args.roles.split(",")) if args.roles else None
    args.logs.mkdir(parents=True, exist_ok=True)
    total = 0
    print(f"{'reader':<12} {'operations':>10} {'cases':>7} {'5xx':>4}")
    for username, password in ROLES:
        if chosen is not None and (username or "anonymous") not in chosen:
            continue
        headers: list[str] = []
        if username and password:
            cookie, token = log_in(args.base, username, password)
            headers = ["-H", f"Cookie: {cookie}", "-H", f"x-csrftoken: {token}"]
        cmd = [args.schemathesis, "run", f"{args.base}/schema/openapi.json", *headers]
        cmd += ["--checks", "not_a_server_error", "-n", str(args.examples), "--seed", str(args.seed)]
        cmd += ["--request-timeout", "10"]
        for path in EXCLUDED:
            cmd += ["--exclude-path", path]
        run = subprocess.run(cmd, capture_output=True, text=True, check=False)
        out = run.stdout + run.stderr
        (args.logs / f"{username or 'anonymous'}.txt").write_text(out)
        tested = re.search(r"Tested: (\d+)", out)
        cases = re.search(r"(\d+) generated", out)
        errors = re.search(r"Server error: (\d+)", out)
        if tested is None or cases is None:
            sys.exit(f"schemathesis did not run for {username or 'anonymous'}:\n{out[-2000:]}")
        found = int(errors.group(1)) if errors else 0
        total += found
        print(f"{username or 'anonymous':<12} {tested.group(1):>10} {cases.group(1):>7} {found:>4}")
    print(f"server errors in all: {total}")
    sys.exit(1 if total else 0)


if __name__ == "__main__":
    main()
