#!/usr/bin/env bash
# Makes this machine able to build and run RLWorkbench. Safe to run again: it does nothing where
# everything is already in place. Called by ./rlw before every command.
set -euo pipefail

need_glibcxx="GLIBCXX_3.4.32"   # TorchSharp 0.107's libLibTorchSharp.so is built against GCC 13's runtime

fail() { echo "setup: $*" >&2; exit 1; }

command -v dotnet >/dev/null 2>&1 || fail "the .NET SDK 10 is not installed; install it (https://dot.net) and run again."

find_libstdcxx() {
  local candidates=(/usr/lib/x86_64-linux-gnu/libstdc++.so.6 /usr/lib64/libstdc++.so.6 /usr/lib/libstdc++.so.6)
  local c
  for c in "${candidates[@]}"; do [ -e "$c" ] && { echo "$c"; return; }; done
  ldconfig -p 2>/dev/null | awk '/libstdc\+\+\.so\.6 .*x86-64/ {print $NF; exit}'
}

has_glibcxx() {
  local lib; lib=$(find_libstdcxx)
  [ -n "$lib" ] && grep -aq "$need_glibcxx" "$lib"
}

if [ "$(uname -s)-$(uname -m)" = "Linux-x86_64" ] && ! has_glibcxx; then
  . /etc/os-release 2>/dev/null || true
  if [ "${ID:-}" = "debian" ] && [ "${VERSION_ID:-}" = "12" ] && [ "$(id -u)" = "0" ]; then
    echo "setup: the system C++ runtime lacks $need_glibcxx (TorchSharp needs it); installing libstdc++6 from Debian 13 (trixie) at low pin priority..." >&2
    if [ ! -f /etc/apt/sources.list.d/rlworkbench-trixie.sources ]; then
      cat > /etc/apt/sources.list.d/rlworkbench-trixie.sources <<'SRC'
Types: deb
URIs: http://deb.debian.org/debian
Suites: trixie
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
      # Low priority: nothing else is upgraded to trixie unless asked for by name with -t trixie.
      cat > /etc/apt/preferences.d/rlworkbench-trixie <<'PIN'
Package: *
Pin: release n=trixie
Pin-Priority: 100
PIN
    fi
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >/dev/null
    apt-get install -y -qq -t trixie libstdc++6 >/dev/null
    has_glibcxx || fail "installed libstdc++6 from trixie but $need_glibcxx is still missing; check apt's output above."
    echo "setup: done, the C++ runtime now provides $need_glibcxx." >&2
  else
    fail "TorchSharp needs a C++ runtime with $need_glibcxx (libstdc++6 from GCC 13 or newer, e.g. Debian 13 or Ubuntu 24.04); install it (on Debian 12 as root: add the trixie suite at low pin priority and run 'apt-get install -t trixie libstdc++6') and run again."
  fi
fi
