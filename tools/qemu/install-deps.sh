#!/bin/sh
# Installs what the real-kernel tests need (qemu, Debian's kernel and modules, busybox,
# dmsetup, nvme-cli, and the tools that build the initramfs). Idempotent: does nothing
# when everything is already there, runs `apt-get update` at most once.
# Needs root (or sudo) and Debian's package repositories. See docs/real-kernel.md.
set -eu

PACKAGES="qemu-system-x86 linux-image-amd64 busybox-static nvme-cli dmsetup cpio kmod gzip xz-utils grep"

missing=""
for p in $PACKAGES; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing="$missing $p"
  fi
done

if [ -z "$missing" ]; then
  echo "install-deps: all present ($PACKAGES)"
  exit 0
fi

SUDO=""
if [ "$(id -u)" != 0 ]; then
  if command -v sudo >/dev/null 2>&1; then SUDO="sudo -n"; else
    echo "install-deps: missing:$missing and not root (no sudo)" >&2; exit 1
  fi
fi

echo "install-deps: installing:$missing"
export DEBIAN_FRONTEND=noninteractive
# Another apt on this machine may hold the lock: wait for it rather than fail.
APT_OPTS="-o DPkg::Lock::Timeout=600 -o Acquire::Retries=3"
$SUDO apt-get $APT_OPTS update -qq
# --no-install-recommends keeps the qemu install small (no GUI, no firmware bundles).
$SUDO apt-get $APT_OPTS install -y -qq --no-install-recommends $missing
echo "install-deps: done"
