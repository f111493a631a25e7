#!/usr/bin/env bash
# Make .venv match the lock files: create it if missing, install only when a lock changed.
#   scripts/ensure_venv.sh runtime   # requirements/lock.txt + the project (editable)
#   scripts/ensure_venv.sh test      # also requirements/test-lock.txt and Debian's Chromium
# A stamp in the venv records the hash of the locks and pyproject.toml, so a second run
# with nothing changed returns at once.
set -euo pipefail
cd "$(dirname "$0")/.."

kind=${1:-runtime}
venv=${VENV:-.venv}
case "$kind" in
  runtime) lock=requirements/lock.txt ;;
  test) lock=requirements/test-lock.txt ;;
  *) echo "usage: $0 runtime|test" >&2; exit 2 ;;
esac

find_python() {
  local candidate
  for candidate in ${PYTHON:-} python3.11 python3.12 python3.13 python3; do
    if command -v "$candidate" >/dev/null 2>&1 &&
      "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
      command -v "$candidate"
      return 0
    fi
  done
  echo "CivicLoop needs Python 3.11 or newer; none found on PATH (set PYTHON=...)." >&2
  return 1
}

if [ ! -x "$venv/bin/python" ]; then
  python=$(find_python)
  echo "==> creating $venv with $python"
  "$python" -m venv "$venv"
fi

hash_of() { cat "$@" pyproject.toml | sha256sum | cut -d' ' -f1; }
runtime_hash=$(hash_of requirements/lock.txt)
test_hash=$(hash_of requirements/lock.txt requirements/test-lock.txt)
want=$runtime_hash
[ "$kind" = test ] && want=$test_hash
stamp="$venv/.civicloop-$kind.sha256"

if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  log="$venv/pip-install.log"
  echo "==> installing $lock into $venv (log: $log)"
  pip=("$venv/bin/python" -m pip --disable-pip-version-check)
  if ! { "${pip[@]}" install -r "$lock" && "${pip[@]}" install --no-deps -e .; } >"$log" 2>&1; then
    grep -v "is ignored: it is neither a file nor a directory" "$log" | tail -n 40 >&2
    echo "pip install failed; full log in $log" >&2
    exit 1
  fi
  echo "$runtime_hash" >"$venv/.civicloop-runtime.sha256"
  [ "$kind" = test ] && echo "$test_hash" >"$stamp"
fi

if [ "$kind" = test ] && [ ! -x /usr/bin/chromium ]; then
  echo "==> installing Debian's chromium and chromium-driver for the browser tests"
  sudo=()
  [ "$(id -u)" -ne 0 ] && sudo=(sudo)
  export DEBIAN_FRONTEND=noninteractive
  "${sudo[@]}" apt-get update -qq
  "${sudo[@]}" apt-get install -y -qq chromium chromium-driver >/dev/null
  if [ ! -x /usr/bin/chromium ]; then
    echo "/usr/bin/chromium is still missing: the browser tests cannot run." >&2
    exit 1
  fi
fi
exit 0
