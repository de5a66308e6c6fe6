#!/usr/bin/env bash
# Tools for `make bench`: wrk, the HTTP load generator (Debian package `wrk`).
# Optional: without it bench/load.py falls back to a slower Python client.
set -u
if command -v wrk >/dev/null 2>&1; then
    exit 0
fi
SUDO=""
if [ "$(id -u)" != 0 ]; then
    if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
        SUDO="sudo -n"
    else
        echo "install-bench-tools: wrk is missing and apt-get needs root: the load bench will use its Python client" >&2
        exit 0
    fi
fi
if command -v apt-get >/dev/null 2>&1; then
    export DEBIAN_FRONTEND=noninteractive
    $SUDO apt-get install -y -qq wrk >/dev/null 2>&1 \
        || { $SUDO apt-get update -qq >/dev/null 2>&1 && $SUDO apt-get install -y -qq wrk >/dev/null 2>&1; } \
        || true
fi
if command -v wrk >/dev/null 2>&1; then
    echo "install-bench-tools: installed $(wrk --version 2>&1 | head -n 1)"
else
    echo "install-bench-tools: could not install wrk: the load bench will use its Python client" >&2
fi
exit 0
