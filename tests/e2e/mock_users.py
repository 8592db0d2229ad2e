"""The Agents Playground signs in one mock user; this writes its config for any of them.

python -m tests.e2e.mock_users leader@demo-city.example.jp > /tmp/leader.yml
M365_AGENTS_PLAYGROUND_CONFIG_PATH=/tmp/leader.yml e2e/node_modules/.bin/agentsplayground ...
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import yaml

PLAYGROUND_CONFIG = Path(__file__).resolve().parents[2] / ".m365agentsplayground.yml"


def load_base() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(PLAYGROUND_CONFIG.read_text(encoding="utf-8"))
    return data


def user_config(base: dict[str, Any], who: str) -> dict[str, Any]:
    """The playground config with ``who`` (email, name or id) as the signed-in user.

    The former currentUser takes the chosen user's place in ``users`` (the schema wants exactly five),
    and the personal chat gets an id of its own, as every Teams user has their own 1:1 chat with the bot.
    """
    people = [base["currentUser"], *base["users"]]
    match = [p for p in people if who in (p["email"], p["userPrincipleName"], p["name"], p["id"])]
    if not match:
        known = ", ".join(f"{p['name']} <{p['email']}>" for p in people)
        raise ValueError(f"{who!r} is not a mock user in {PLAYGROUND_CONFIG.name} ({known})")
    me = match[0]
    config = dict(base)
    config["currentUser"] = me
    config["users"] = [p for p in people if p is not me]
    config["personalChat"] = {"id": f"a:personal-{me['id'].split(':')[-1]}"}
    return config


def dump(config: dict[str, Any]) -> str:
    return yaml.safe_dump(config, allow_unicode=True, sort_keys=False)


if __name__ == "__main__":
    try:
        sys.stdout.write(dump(user_config(load_base(), " ".join(sys.argv[1:]))))
    except (ValueError, IndexError) as exc:
        sys.exit(f"usage: python -m tests.e2e.mock_users EMAIL|NAME  ({exc})")
