#!/usr/bin/env bash
# Start the Microsoft 365 Agents Playground against a running bot, with no telemetry and no browser launch.
#   e2e/playground.sh                                   signed in as 佐藤 花子 (DX推進課 admin) on port 56150
#   e2e/playground.sh --as leader@demo-city.example.jp --port 56151     as 鈴木 一郎, in a second playground
#   e2e/playground.sh --bot http://127.0.0.1:3979/api/messages
# The bot defaults to http://127.0.0.1:${DXBOT_PORT:-3978}/api/messages. Open the printed URL in a browser.
set -euo pipefail
cd "$(dirname "$0")/.."
as="" port=56150 bot="http://127.0.0.1:${DXBOT_PORT:-3978}/api/messages"
while [ $# -gt 0 ]; do
  case "$1" in
    --as) as="$2"; shift 2 ;;
    --port) port="$2"; shift 2 ;;
    --bot) bot="$2"; shift 2 ;;
    *) sed -n '2,6p' "$0"; exit 2 ;;
  esac
done
[ -x e2e/node_modules/.bin/agentsplayground ] || (cd e2e && npm ci --no-audit --no-fund --loglevel=error)
config="$PWD/.m365agentsplayground.yml"
mkdir -p data
if [ -n "$as" ]; then
  config="$PWD/data/playground-${as%%@*}.yml"
  "${PYTHON:-.venv/bin/python}" -m tests.e2e.mock_users "$as" >"$config"
fi
echo "Agents Playground for ${as:-the default user} -> bot $bot"
echo "open http://127.0.0.1:$port/ (if the port is taken the playground picks another: see 'Listening on')"
exec env TEAMSAPPTESTER_BROWSER=none LANG=ja_JP.UTF-8 TZ=Asia/Tokyo \
  M365_AGENTS_PLAYGROUND_CONFIG_PATH="$config" M365_AGENTS_PLAYGROUND_LOGFILE="$PWD/data/playground-$port.log" \
  e2e/node_modules/.bin/agentsplayground -e "$bot" -c msteams -p "$port" --disable-telemetry
