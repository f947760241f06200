#!/usr/bin/env bash
# The Debian packages the test tiers need, from one place (the Makefile's test targets and .ci/run call this):
#   scripts/system-packages.sh test          chromium (the connection-form browser test of tests/deployment)
#   scripts/system-packages.sh distributed   postgresql and redis-server (tests/distributed starts its own servers)
#   scripts/system-packages.sh all           all three
# What is already there is left alone. What is missing is installed with apt-get when running as root on a machine
# with apt-get; otherwise the script prints exactly which packages are missing, what needs them and the command
# that installs them. Then it exits 1 where the tier cannot run without them (distributed) or under CI=true
# (CI must run every test), and 0 for `make test` on a developer's machine, whose run reports the test it skips
# by name at the end (pytest -rs).
set -euo pipefail

tier=${1:-test}
case "$tier" in
    test) wanted=(chromium) ;;
    distributed) wanted=(postgresql redis-server) ;;
    all) wanted=(chromium postgresql redis-server) ;;
    *) echo "usage: $0 test|distributed|all" >&2; exit 2 ;;
esac

# Whether a package's program is there (the same paths the tests look at).
present() {
    case "$1" in
        chromium) [ -x /usr/bin/chromium ] ;;
        postgresql) compgen -G "/usr/lib/postgresql/*/bin/postgres" >/dev/null ;;
        redis-server) command -v redis-server >/dev/null ;;
    esac
}

needed_by() {
    case "$1" in
        chromium) echo "tests/deployment/test_connection_form_browser.py (make test)" ;;
        postgresql | redis-server) echo "tests/distributed (make test-distributed)" ;;
    esac
}

missing() {
    local package
    for package in "${wanted[@]}"; do
        present "$package" || echo "$package"
    done
}

mapfile -t absent < <(missing)
[ ${#absent[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null; then
    echo "system-packages: installing ${absent[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${absent[@]}"
    mapfile -t absent < <(missing)
    [ ${#absent[@]} -eq 0 ] && exit 0
fi

echo "system-packages: missing Debian packages (could not install them here):" >&2
for package in "${absent[@]}"; do
    echo "  $package: needed by $(needed_by "$package")" >&2
done
echo "  install them as root with: apt-get install -y --no-install-recommends ${absent[*]}" >&2
if [ "$tier" = test ] && [ -z "${CI:-}" ]; then
    echo "  make test goes on without them; the tests that need them are skipped and named at the end" >&2
    exit 0
fi
exit 1
