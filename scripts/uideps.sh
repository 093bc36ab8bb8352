#!/usr/bin/env bash
# scripts/uideps.sh — install (idempotently) what the web UI's end-to-end
# test needs and print Chromium's path as the last line of stdout:
#
#   export SQUALL_CHROMIUM="$(scripts/uideps.sh | tail -n 1)"
#   go test -race ./ui/...
#
# - Debian's chromium (/usr/bin/chromium), by apt-get when it is missing
#   (sudo only when not root). Playwright's own browser download
#   (`npx playwright install`) cannot work here: the browser must come from
#   the distribution.
# - ui/e2e's node_modules (playwright-core only), by `npm ci` from the
#   committed package-lock.json, with npm's cache in $REPO/.cache/npm.
#   Reinstalled only when package-lock.json changes (a stamp records it).
#
# SQUALL_CHROMIUM, when set, names a Chromium to use instead (nothing is
# installed for it).
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$SCRIPT_DIR/.." && pwd)"
E2E="$REPO/ui/e2e"

say() { printf 'uideps.sh: %s\n' "$*" >&2; }

chromium="${SQUALL_CHROMIUM:-/usr/bin/chromium}"
if [[ ! -x "$chromium" ]]; then
	if [[ -n "${SQUALL_CHROMIUM:-}" ]]; then
		say "error: SQUALL_CHROMIUM=$chromium is not an executable"
		exit 1
	fi
	sudo=()
	[[ "$(id -u)" == 0 ]] || sudo=(sudo)
	say "installing Debian's chromium (apt-get)"
	"${sudo[@]}" apt-get update -qq >&2
	DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq chromium >&2
	[[ -x "$chromium" ]] || { say "error: apt-get installed chromium but $chromium is missing"; exit 1; }
fi

command -v npm >/dev/null || { say "error: npm is not on PATH (install Node.js >= 20)"; exit 1; }
stamp="$E2E/node_modules/.squall-stamp"
want="$(sha256sum "$E2E/package-lock.json" | cut -d' ' -f1)"
if [[ ! -f "$stamp" || "$(cat "$stamp")" != "$want" || ! -f "$E2E/node_modules/playwright-core/package.json" ]]; then
	say "npm ci in ui/e2e"
	(cd "$E2E" && npm ci --cache "$REPO/.cache/npm" --no-audit --no-fund --loglevel=error >&2)
	printf '%s' "$want" >"$stamp"
fi

say "ok: $("$chromium" --version 2>/dev/null || echo "$chromium"), playwright-core $(node -p 'require(process.argv[1]).version' "$E2E/node_modules/playwright-core/package.json")"
echo "$chromium"
