#!/usr/bin/env bash
# Install what winnow needs to build and test, from Debian's packages (.ci/packages).
# Runs apt-get directly as root, through sudo otherwise.
set -euo pipefail
cd "$(dirname "$0")/.."
SUDO=
[ "$(id -u)" -eq 0 ] || SUDO=sudo
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# shellcheck disable=SC2046
$SUDO apt-get install -y -qq --no-install-recommends $(cat .ci/packages) >/dev/null
