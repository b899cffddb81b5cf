#!/usr/bin/env bash
# Installs what the test suite needs beyond the Go toolchain, only when it
# is missing, so `make test` works on a fresh machine:
#   - Go modules (go mod download)
#   - newman (npm), for the Postman collection, into .tools/ (git-ignored)
#   - openid-client (npm), the certified relying party of the OpenID
#     Connect test (e2e/openid_client_test.go), into .tools/ too
#   - @modelcontextprotocol/sdk (npm), MCP's official TypeScript SDK, for
#     the agent test (e2e/mcp_ts_test.go), into .tools/ too
#   - chromium (Debian), for the headless browser test
#   - redis-server (Debian), which the Redis store's tests start themselves
#   - docker-compose (Debian), for the compose test, unless the docker
#     compose plugin is there
set -euo pipefail
cd "$(dirname "$0")/.."

log() { printf 'tools: %s\n' "$*" >&2; }

command -v go >/dev/null || { log "Go is required (https://go.dev/dl)"; exit 1; }
go mod download

apt_install() {
  local sudo=""
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null || { log "need root or sudo to apt-get install $*"; exit 1; }
    sudo="sudo"
  fi
  log "installing $* (apt)"
  $sudo apt-get update -q >/dev/null
  DEBIAN_FRONTEND=noninteractive $sudo apt-get -o DPkg::Lock::Timeout=300 install -y -q --no-install-recommends "$@" >/dev/null
}

# newman, pinned, installed locally so no global npm state is needed.
NEWMAN_VERSION=6.2.2
if [ ! -x .tools/node_modules/.bin/newman ] || [ "$(.tools/node_modules/.bin/newman --version 2>/dev/null)" != "$NEWMAN_VERSION" ]; then
  command -v npm >/dev/null || apt_install nodejs npm
  log "installing newman $NEWMAN_VERSION (npm)"
  mkdir -p .tools
  npm install --prefix .tools --no-audit --no-fund --loglevel=error "newman@$NEWMAN_VERSION" >/dev/null
fi

# openid-client, pinned, into the same .tools prefix, for the relying-party
# test; node runs it from there (e2e/testdata/openid-client/rp.mjs).
OPENID_CLIENT_VERSION=6.9.0
if [ "$(node -p 'require("./.tools/node_modules/openid-client/package.json").version' 2>/dev/null)" != "$OPENID_CLIENT_VERSION" ]; then
  command -v npm >/dev/null || apt_install nodejs npm
  log "installing openid-client $OPENID_CLIENT_VERSION (npm)"
  mkdir -p .tools
  npm install --prefix .tools --save-exact --no-audit --no-fund --loglevel=error "openid-client@$OPENID_CLIENT_VERSION" >/dev/null
fi

# MCP's TypeScript SDK, pinned, into the same .tools prefix, for the agent
# test; node loads it from there (e2e/testdata/mcp-ts/agent.mjs).
MCP_SDK_VERSION=1.32.2
if [ "$(node -p 'require("./.tools/node_modules/@modelcontextprotocol/sdk/package.json").version' 2>/dev/null)" != "$MCP_SDK_VERSION" ]; then
  command -v npm >/dev/null || apt_install nodejs npm
  log "installing @modelcontextprotocol/sdk $MCP_SDK_VERSION (npm)"
  mkdir -p .tools
  npm install --prefix .tools --save-exact --no-audit --no-fund --loglevel=error "@modelcontextprotocol/sdk@$MCP_SDK_VERSION" >/dev/null
fi

# Chromium for the browser test (chromedp drives it headless).
if ! command -v chromium >/dev/null; then
  apt_install chromium
fi

# redis-server for store/redis and the Redis end-to-end tests; the tests
# start their own servers on free loopback ports, so none need be running.
if ! command -v redis-server >/dev/null; then
  apt_install redis-server
fi

# docker-compose (Debian's, v1.29) for the compose test (deploy/), which
# uses the docker compose plugin when it is installed. `config` validates
# the compose files without a Docker engine, so none is installed.
if ! command -v docker-compose >/dev/null && ! docker compose version >/dev/null 2>&1; then
  apt_install docker-compose
fi
