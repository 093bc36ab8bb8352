#!/usr/bin/env bash
# scripts/pyenv.sh — make (idempotently) the Python virtualenv that squall's
# multilang tests run real pystorm / streamparse components in, and print
# the path of its python as the last line of stdout:
#
#   export SQUALL_PYTHON="$(scripts/pyenv.sh)"
#   go test -race ./multilang/... ./flux/... ./cmd/node/...
#
# The venv lives in $REPO/.cache/venv (git-ignored). It is rebuilt only when
# the pinned requirements below change (a stamp file records them) or the
# venv is broken. PYTHON picks the interpreter (default: python3; CPython
# 3.11 is what the pins were checked with).
#
# Why the odd install: pystorm 3.1.4 (its last release, 2018) declares
# msgpack-python, whose last release (0.5.6) has no wheel for current
# Pythons and unpacks msgpack strings as bytes on Python 3, so pystorm's
# `-s msgpack` mode cannot read a command. pystorm and streamparse are
# therefore installed with --no-deps and their dependencies listed here by
# hand, with msgpack>=1.0 instead of msgpack-python. Users installing
# pystorm for squall should do the same.
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$SCRIPT_DIR/.." && pwd)"
VENV="${SQUALL_VENV:-$REPO/.cache/venv}"
PYTHON="${PYTHON:-python3}"

# Installed without their declared dependencies.
NODEPS=(
	"pystorm==3.1.4"
	"streamparse==5.0.1"
)
# pystorm's and streamparse's real dependencies (what `streamparse_run`
# imports), pinned; msgpack>=1.0 replaces pystorm's msgpack-python.
DEPS=(
	"six==1.17.0"
	"simplejson==4.3.0"
	"msgpack==1.2.4"
	"jinja2==3.1.6"
	"Fabric39==1.15.3.post2"
	"requests==2.34.2"
	"ruamel.yaml==0.19.1"
	"texttable==1.7.2"
	"thriftpy2==0.7.1"
	"setuptools<81"
)

say() { printf 'pyenv.sh: %s\n' "$*" >&2; }

want="$("$PYTHON" -c 'import sys; print("%d.%d" % sys.version_info[:2])') ${NODEPS[*]} ${DEPS[*]}"
stamp="$VENV/.squall-stamp"

check() {
	[[ -x "$VENV/bin/python" && -x "$VENV/bin/streamparse_run" && -f "$stamp" ]] || return 1
	[[ "$(cat "$stamp")" == "$want" ]] || return 1
	"$VENV/bin/python" - <<'PY' >/dev/null 2>&1
import msgpack, pystorm, streamparse.run
assert msgpack.version >= (1, 0), msgpack.version
PY
}

if ! check; then
	say "creating $VENV with $("$PYTHON" --version 2>&1)"
	rm -rf "$VENV"
	mkdir -p "$(dirname "$VENV")"
	"$PYTHON" -m venv "$VENV"
	pip=("$VENV/bin/python" -m pip --disable-pip-version-check --no-input -q)
	"${pip[@]}" install --no-deps "${NODEPS[@]}" >&2
	"${pip[@]}" install "${DEPS[@]}" >&2
	printf '%s' "$want" >"$stamp"
	check || { say "error: the venv does not import pystorm, streamparse.run and msgpack>=1.0"; exit 1; }
	say "ok: $("$VENV/bin/python" -m pip list --disable-pip-version-check 2>/dev/null | grep -iE '^(pystorm|streamparse|msgpack|simplejson) ' | tr -s ' ' | paste -sd, -)"
fi
echo "$VENV/bin/python"
