#!/usr/bin/env bash
# scripts/leindeps.sh — install (idempotently) Leiningen, which the real
# `sparse submit` runs to build the jar it uploads, and print lein's path as
# the last line of stdout:
#
#   export SQUALL_LEIN="$(scripts/leindeps.sh | tail -n 1)"
#   go test -race ./nodecmd/ -run Sparse
#
# - Debian's leiningen (/usr/bin/lein, with a JRE), by apt-get when it is
#   missing (sudo only when not root). Clojars is not needed: the tests'
#   project.clj says `:dependencies []`, so `lein jar` builds offline.
# - lein's first run unpacks its own jar into ~/.lein (self-install); it is
#   done here, once, so a test's first `sparse submit` does not time out on it.
#
# SQUALL_LEIN, when set, names a lein to use instead (nothing is installed
# for it).
set -euo pipefail

say() { printf 'leindeps.sh: %s\n' "$*" >&2; }

lein="${SQUALL_LEIN:-}"
if [[ -z "$lein" ]]; then
	lein="$(command -v lein || true)"
fi
if [[ -z "$lein" || ! -x "$lein" ]]; then
	if [[ -n "${SQUALL_LEIN:-}" ]]; then
		say "error: SQUALL_LEIN=$SQUALL_LEIN is not an executable"
		exit 1
	fi
	sudo=()
	[[ "$(id -u)" == 0 ]] || sudo=(sudo)
	say "installing Debian's leiningen (apt-get)"
	"${sudo[@]}" apt-get update -qq >&2
	DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends leiningen >&2
	lein=/usr/bin/lein
	[[ -x "$lein" ]] || { say "error: apt-get installed leiningen but $lein is missing"; exit 1; }
fi

# sparse refuses to run lein as root unless LEIN_ROOT is set; lein warns too.
export LEIN_ROOT="${LEIN_ROOT:-1}"
version="$("$lein" version 2>/dev/null | head -n 1)" || { say "error: $lein version failed"; "$lein" version >&2 || true; exit 1; }
say "ok: $version"
echo "$lein"
