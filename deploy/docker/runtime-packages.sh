#!/usr/bin/env bash
# Prints the Debian packages that hold the shared libraries the given
# executables load (one name a line), so a runtime image installs exactly
# those. Runs in the build stage of the Dockerfiles beside it.
#
#   runtime-packages.sh /out/usr/bin/causeway > runtime-packages.txt
set -euo pipefail
[ $# -ge 1 ] || { echo "usage: $0 EXECUTABLE..." >&2; exit 2; }

libs=$(for exe in "$@"; do
  ldd "$exe" | awk '$2 == "=>" && $3 ~ /^\// { print $3 }'
done | sort -u)

for lib in $libs; do
  # Debian 12 is merged-/usr: the package lists /usr/lib/... or /lib/...
  real=$(readlink -f "$lib")
  pkg=""
  for candidate in "$lib" "$real" "/usr$lib" "/usr$real" "${lib#/usr}" "${real#/usr}"; do
    if pkg=$(dpkg-query -S "$candidate" 2>/dev/null); then break; fi
    pkg=""
  done
  if [ -z "$pkg" ]; then
    echo "runtime-packages: no package owns $lib" >&2
    exit 1
  fi
  # "libfoo1:amd64: /usr/lib/..." -> "libfoo1"
  echo "${pkg%%: *}" | tr ',' '\n' | sed 's/^ *//; s/:.*$//'
done | sort -u
