#!/usr/bin/env bash
# The SDK as a business gets it: `pnpm pack` (which turns workspace: ranges into versions), publint on the package,
# then a project outside the workspace installs the tarball from npm's side and type-checks an ES module and a
# CommonJS module that use it under strict settings, library declarations included (.ci/sdk-consumer/).
# Needs the SDK built (`pnpm build`).
set -euo pipefail
cd "$(dirname "$0")/.."
PNPM="${PNPM:-npx -y pnpm@9.15.9}"

work=$(mktemp -d "${TMPDIR:-/tmp}/maskline-sdk-package.XXXXXX")
trap 'rm -rf "$work"' EXIT

(cd sdk && $PNPM pack --pack-destination "$work" >/dev/null)
tarball=$(ls "$work"/maskline-sdk-*.tgz)
echo "[sdk-package] packed $(basename "$tarball") ($(du -k "$tarball" | cut -f1) KiB)" >&2
npx publint --strict "$tarball" # the tarball itself: what a business installs, and no package manager needed

mkdir "$work/consumer"
cp .ci/sdk-consumer/* "$work/consumer/"
cd "$work/consumer"
printf '{ "name": "sdk-consumer", "private": true }\n' > package.json
npm install --no-audit --no-fund --loglevel=error "$tarball" typescript@~5.9 @types/node@20 >/dev/null
npx tsc -p tsconfig.json
echo "[sdk-package] a strict ESM and CJS consumer type-checks against the tarball" >&2
