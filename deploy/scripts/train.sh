#!/usr/bin/env bash
# The quick start: trains on Fashion-MNIST with live progress. Installs the Debian package
# dataset-fashion-mnist first when it is missing (needs root or sudo). Extra arguments go to `dbp train`.
set -euo pipefail
cd "$(dirname "$0")/../.."

if [ ! -d /usr/share/datasets/fashion-mnist ]; then
  echo "Fashion-MNIST is missing: installing the Debian package dataset-fashion-mnist"
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO=sudo
  $SUDO apt-get update -qq && $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq dataset-fashion-mnist
fi

export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
dotnet run -c Release --project src/DistributedBackprop.Cli -- train "$@"
