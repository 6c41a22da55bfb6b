#!/usr/bin/env bash
# Azurite (Azure Blob + Queue emulator) for the azure_storage / azure_containers tests,
# installed with npm into tests/.node (gitignored). Pinned: 3.36+ needs Node >= 21.
# Idempotent: does nothing when the pinned version is already there.
set -euo pipefail
cd "$(dirname "$0")/../.."
VERSION=3.35.0
PREFIX=tests/.node
installed=$(node -p "require('./$PREFIX/node_modules/azurite/package.json').version" 2>/dev/null || true)
if [ "$installed" = "$VERSION" ]; then
  echo "azurite $VERSION already installed in $PREFIX"
  exit 0
fi
if ! command -v npm >/dev/null 2>&1; then
  apt-get update -qq && apt-get install -y -qq nodejs npm
fi
mkdir -p "$PREFIX"
npm install --prefix "$PREFIX" --no-audit --no-fund --loglevel=error "azurite@$VERSION"
echo "azurite $VERSION installed in $PREFIX"
