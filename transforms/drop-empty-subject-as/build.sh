#!/bin/sh
# Builds build/drop-empty-subject-as.wasm from assembly/index.ts with the
# AssemblyScript compiler pinned in package-lock.json; needs node and npm.
# Arguments go to asc: ./build.sh --outFile /tmp/x.wasm builds elsewhere.
#
# The built module is committed, so that ferry's own build and tests need no
# node: rebuild and commit it after changing the source (the Go test fails
# when the committed module differs from a fresh build).
set -eu
cd "$(dirname "$0")"
npm ci --no-audit --no-fund
npm run --silent build -- "$@"
