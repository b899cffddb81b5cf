#!/usr/bin/env bash
# Installs what the test suite needs beyond the Go toolchain, only when it
# is missing, so `make test` works on a fresh machine.
set -euo pipefail

command -v go >/dev/null || { echo "tools.sh: Go is required (https://go.dev/dl)" >&2; exit 1; }
go mod download
