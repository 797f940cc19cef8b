#!/bin/bash
# Builds the test VM's boot files into OUT_DIR: kernel (Debian's kernel, uncompressed to an ELF
# vmlinux when possible: qemu boots that directly through PVH, which skips the BIOS and the
# kernel's self-decompression, 10 s under TCG on a loaded machine), initrd.gz (busybox,
# dmsetup and nvme-cli with their shared libraries, the kernel modules the tests need, and the
# guest scripts in tools/qemu/guest), kernel-version. Rebuilds only when an input changed: the
# kernel, the packages, this script or the guest scripts (their digest is kept in OUT_DIR/stamp).
# The build goes to a temporary directory renamed into place, so a concurrent build never
# leaves a half-written image.
#   usage: build-initramfs.sh OUT_DIR      (env KVER picks a kernel version; default the newest)
set -euo pipefail

OUT=${1:?usage: build-initramfs.sh OUT_DIR}
HERE=$(cd "$(dirname "$0")" && pwd)
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin

die() { echo "build-initramfs: $*" >&2; exit 1; }

# The newest kernel that has both an image in /boot and its modules.
if [ -z "${KVER:-}" ]; then
  for k in $(ls /lib/modules 2>/dev/null | sort -V -r); do
    if [ -r "/boot/vmlinuz-$k" ]; then KVER=$k; break; fi
  done
fi
[ -n "${KVER:-}" ] || die "no kernel: need /boot/vmlinuz-<ver> and /lib/modules/<ver> (tools/qemu/install-deps.sh)"
[ -r "/boot/vmlinuz-$KVER" ] || die "/boot/vmlinuz-$KVER is missing or unreadable"
for tool in busybox dmsetup nvme cpio gzip xz modprobe depmod ldd; do
  command -v "$tool" >/dev/null || die "$tool not found (tools/qemu/install-deps.sh)"
done

# Modules copied into the image, each with its dependencies. The boot loads a subset
# (guest/rcS); the others are there for the kernel's on-demand loads (dm targets, raid levels).
MODULES="configfs crc32c_generic crc32c-intel libcrc32c
  nvmet nvmet-tcp nvme-fabrics nvme-tcp nvme-core
  dm-mod dm-mirror dm-log dm-region-hash dm-raid raid0 raid1 raid10
  dm-thin-pool dm-snapshot dm-flakey dm-delay dm-zero
  null_blk virtio_pci virtio_net"
BINARIES="$(command -v dmsetup) $(command -v nvme)"

stamp=$( {
  echo "kernel $KVER $(stat -c '%s %Y' "/boot/vmlinuz-$KVER")"
  dpkg-query -W busybox-static dmsetup nvme-cli "linux-image-$KVER" 2>/dev/null || true
  echo "$MODULES"
  sha256sum "$HERE/build-initramfs.sh" "$HERE"/guest/*
} | sha256sum | cut -d' ' -f1)

if [ -f "$OUT/stamp" ] && [ "$(cat "$OUT/stamp")" = "$stamp" ] && [ -f "$OUT/initrd.gz" ] && [ -f "$OUT/kernel" ]; then
  echo "build-initramfs: up to date in $OUT ($KVER)"
  exit 0
fi

mkdir -p "$(dirname "$OUT")"
WORK=$(mktemp -d "$(dirname "$OUT")/.vm-build.XXXXXX")
chmod 755 "$WORK"
trap 'rm -rf "$WORK"' EXIT
ROOT=$WORK/root
mkdir -p "$ROOT"/{bin,sbin,usr/bin,usr/sbin,etc/nvme,proc,sys,dev,run,tmp,root,lib/modules/"$KVER"}

# busybox (static) and its applets.
cp /bin/busybox "$ROOT/bin/busybox"
for a in $("$ROOT/bin/busybox" --list); do
  [ -e "$ROOT/bin/$a" ] || ln -s busybox "$ROOT/bin/$a"
done
# The kernel loads modules on demand (a dm target type, a raid level) by running /sbin/modprobe.
for a in modprobe insmod rmmod lsmod modinfo depmod poweroff reboot halt; do
  ln -s ../bin/busybox "$ROOT/sbin/$a"
done
ln -sf bin/busybox "$ROOT/init"          # busybox init as PID 1, configured by /etc/inittab

# dmsetup and nvme with every shared library ldd resolves, at the same paths.
copy_path() { mkdir -p "$ROOT$(dirname "$1")"; cp -L "$1" "$ROOT$1"; }
for b in $BINARIES; do
  copy_path "$b"
  for lib in $(ldd "$b" | grep -o '/[^ ]*'); do
    [ -e "$ROOT$lib" ] || copy_path "$lib"
  done
done

# Kernel modules with their dependencies (modprobe resolves them against the host's depmod data).
MODROOT=/lib/modules/$KVER
for m in $MODULES; do
  deps=$(modprobe -S "$KVER" --show-depends "$m" 2>&1) || die "module $m: $deps"
  for f in $(echo "$deps" | awk '$1 == "insmod" { print $2 }'); do
    [ -e "$ROOT$f" ] || copy_path "$f"
  done
done
cp "$MODROOT"/modules.order "$MODROOT"/modules.builtin* "$ROOT$MODROOT/" 2>/dev/null || true
depmod -b "$ROOT" "$KVER"

# Guest scripts and configuration.
cp "$HERE/guest/inittab" "$ROOT/etc/inittab"
cp "$HERE/guest/rcS" "$ROOT/etc/rcS"
cp "$HERE/guest/toma-channel" "$HERE/guest/toma-exec" "$ROOT/bin/"
chmod 755 "$ROOT/etc/rcS" "$ROOT/bin/toma-channel" "$ROOT/bin/toma-exec"
# nvme-cli reads a default host identity from here; tests pass their own --hostnqn.
echo "nqn.2014-08.org.nvmexpress:uuid:00000000-0000-4000-8000-00000000700a" >"$ROOT/etc/nvme/hostnqn"
echo "00000000-0000-4000-8000-00000000700a" >"$ROOT/etc/nvme/hostid"
echo "root:x:0:0:root:/root:/bin/sh" >"$ROOT/etc/passwd"
echo "root:x:0:" >"$ROOT/etc/group"

(cd "$ROOT" && find . | cpio -o -H newc --quiet) | gzip -1 >"$WORK/initrd.gz"
# The uncompressed kernel: the xz stream inside the bzImage (Debian's compression). Anything
# unexpected falls back to the bzImage, which boots too, only slower.
vmlinuz=/boot/vmlinuz-$KVER
offset=$( (LC_ALL=C grep -obUaP '\xfd7zXZ\x00' "$vmlinuz" || true) | head -n 1 | cut -d: -f1)
if [ -n "$offset" ] && tail -c +$((offset + 1)) "$vmlinuz" >"$WORK/kernel.xz" \
   && xz -dc --single-stream "$WORK/kernel.xz" >"$WORK/kernel" 2>/dev/null \
   && [ "$(head -c 4 "$WORK/kernel" | od -An -c | tr -d ' ')" = '177ELF' ]; then
  echo pvh-elf >"$WORK/kernel-format"
else
  echo "build-initramfs: cannot uncompress $vmlinuz, booting the bzImage (slower)" >&2
  cp "$vmlinuz" "$WORK/kernel"
  echo bzimage >"$WORK/kernel-format"
fi
rm -f "$WORK/kernel.xz"
echo "$KVER" >"$WORK/kernel-version"
echo "$stamp" >"$WORK/stamp"
rm -rf "$ROOT"

# Swap into place: the old image (if any) is moved aside first, then removed.
if [ -d "$OUT" ]; then mv "$OUT" "$WORK.old"; fi
mv "$WORK" "$OUT"
rm -rf "$WORK.old"
trap - EXIT
echo "build-initramfs: built $OUT ($KVER $(cat "$OUT/kernel-format"), $(du -k "$OUT/initrd.gz" | cut -f1) KiB initrd)"
