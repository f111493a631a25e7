"""Print the demo city's staff logins, so `make run` shows them again just before serving."""

from __future__ import annotations

try:
    from civicloop.demo.logins import DEMO_PASSWORD, DEMO_USERS
except ImportError:
    print("Demo logins: see README.md (this build has no civicloop.demo.logins).")
    raise SystemExit(0) from None

print(f"Demo logins — every account's password is {DEMO_PASSWORD}")
width = max(len(login.username) for login in DEMO_USERS)
for login in DEMO_USERS:
    print(f"  {login.username:<{width}}  {login.role:<10}  {login.display_name}")
