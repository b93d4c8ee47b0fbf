#!/usr/bin/env bash
# Runs every test of the solution. Installs what the tests need when it is missing (as root: the Debian
# packages dataset-fashion-mnist; redis-server for the multi-process cluster test, which starts its own;
# prometheus (with promtool), docker-compose and nodejs/npm for the deployment tests; then the deployment
# checks' node packages with `npm ci`), then builds in Release and runs each test project.
# The last line is the total over all projects: "N passed, N failed, N skipped".
set -uo pipefail
cd "$(dirname "$0")/.."

need_packages=()
[ -d /usr/share/datasets/fashion-mnist ] || need_packages+=(dataset-fashion-mnist)
command -v redis-server >/dev/null || need_packages+=(redis-server)
command -v prometheus >/dev/null && command -v promtool >/dev/null || need_packages+=(prometheus)
command -v docker-compose >/dev/null || need_packages+=(docker-compose)
command -v npm >/dev/null || need_packages+=(nodejs npm)
if [ ${#need_packages[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then
    echo "Installing missing Debian packages: ${need_packages[*]}"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
      "${need_packages[@]}" >/dev/null
  else
    echo "Missing Debian packages: ${need_packages[*]} (run as root or: sudo apt-get install -y ${need_packages[*]})"
  fi
fi

# The deployment checks' node packages, pinned by the committed package-lock.json; again only when it changed.
checks=tests/deployment-checks
if command -v npm >/dev/null && { [ ! -d "$checks/node_modules" ] \
    || [ "$checks/package-lock.json" -nt "$checks/node_modules/.package-lock.json" ]; }; then
  echo "Installing the deployment checks' node packages (npm ci)"
  (cd "$checks" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
fi

export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
dotnet build DistributedBackprop.sln -c Release -nologo -v quiet || { echo "0 passed, 1 failed, 0 skipped"; exit 1; }

log=$(mktemp)
status=0
for project in tests/*.Tests/*.csproj; do
  echo "== $project"
  dotnet test "$project" -c Release --no-build --nologo --logger "console;verbosity=minimal" 2>&1 \
    | tee -a "$log" | grep -E '^\s*(Failed|Skipped) |Passed!|Failed!|error|Error Message|^\s+at |Assert' || true
  [ "${PIPESTATUS[0]}" = 0 ] || status=1
done

# dotnet test prints one summary per project: "Passed!  - Failed: 0, Passed: 12, Skipped: 0, Total: 12, ..."
read -r passed failed skipped < <(grep -E '(Passed|Failed)!' "$log" | sed -E \
  's/.*Failed: *([0-9]+), Passed: *([0-9]+), Skipped: *([0-9]+).*/\2 \1 \3/' \
  | awk '{p+=$1; f+=$2; s+=$3} END {print p+0, f+0, s+0}')
rm -f "$log"
if [ "$status" != 0 ] && [ "$failed" = 0 ]; then failed=1; fi
echo "$passed passed, $failed failed, $skipped skipped"
exit $status
