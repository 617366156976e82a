/**
 * The script behind `curl -sL $URL/setup | bash -s -- --code ABC123`: installs Node.js when
 * missing (from the system's packages), installs the agent this server serves, pairs, and
 * installs a systemd service where systemd runs. Every step can run again.
 */
export function setupScript(endpoint: string): string {
  return `#!/usr/bin/env bash
# Plexus device setup — installs the plexus agent, pairs this device, starts it as a service.
# Usage: curl -sL ${endpoint}/setup | bash -s -- --code ABC123 [--name "Lab Pi"]
set -euo pipefail

ENDPOINT=${shellQuote(endpoint)}
CODE=""
NAME=""
while [ $# -gt 0 ]; do
  case "$1" in
    --code) CODE="\${2:-}"; shift 2 ;;
    --name) NAME="\${2:-}"; shift 2 ;;
    --endpoint) ENDPOINT="\${2:-}"; shift 2 ;;
    -h|--help) echo "usage: bash setup --code ABC123 [--name NAME] [--endpoint URL]"; exit 0 ;;
    *) echo "plexus setup: unknown option $1" >&2; exit 2 ;;
  esac
done
if [ -z "$CODE" ]; then
  echo "plexus setup: --code is required (get one from the dashboard: Pair device)" >&2
  exit 2
fi

SUDO=""
if [ "$(id -u)" -ne 0 ] && command -v sudo >/dev/null 2>&1; then SUDO="sudo"; fi

node_major() { node -e 'process.stdout.write(process.versions.node.split(".")[0])' 2>/dev/null || echo 0; }
if ! command -v node >/dev/null 2>&1 || [ "$(node_major)" -lt 18 ] || ! command -v npm >/dev/null 2>&1; then
  if command -v apt-get >/dev/null 2>&1; then
    echo "==> installing Node.js from the system packages"
    $SUDO apt-get update -qq
    $SUDO apt-get install -y -qq nodejs npm
  else
    echo "plexus setup: Node.js 18 or newer is needed; install it and run this again" >&2
    exit 1
  fi
fi

PREFIX="\${PLEXUS_AGENT_PREFIX:-$HOME/.plexus/agent}"
echo "==> installing the plexus agent into $PREFIX"
mkdir -p "$PREFIX"
npm install --global --prefix "$PREFIX" --no-audit --no-fund --loglevel=error "$ENDPOINT/agent/plexus-agent.tgz"
PLEXUS="$PREFIX/bin/plexus"

echo "==> pairing with $ENDPOINT"
if [ -n "$NAME" ]; then
  "$PLEXUS" pair --code "$CODE" --endpoint "$ENDPOINT" --name "$NAME"
else
  "$PLEXUS" pair --code "$CODE" --endpoint "$ENDPOINT"
fi

if command -v systemctl >/dev/null 2>&1 && [ -d /run/systemd/system ]; then
  echo "==> installing the plexus-agent service"
  UNIT="[Unit]
Description=Plexus device agent
After=network-online.target
Wants=network-online.target

[Service]
ExecStart=$(command -v node) $PREFIX/bin/plexus run
Restart=always
RestartSec=5
User=$(id -un)
Environment=HOME=$HOME

[Install]
WantedBy=multi-user.target"
  echo "$UNIT" | $SUDO tee /etc/systemd/system/plexus-agent.service >/dev/null
  $SUDO systemctl daemon-reload
  $SUDO systemctl enable plexus-agent >/dev/null
  $SUDO systemctl restart plexus-agent
  echo "==> done: the agent runs as the plexus-agent service (journalctl -u plexus-agent -f)"
else
  echo "==> done: no systemd here; start the agent with: $PLEXUS run"
fi
`;
}

function shellQuote(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}
