/**
 * The two scripts the VM boots through. The initramfs `/init` (busybox) loads the modules,
 * mounts the root disk and switches root to `/sbin/wm-init` (dash, on the root disk), which
 * mounts the 9p shares named on the kernel command line, runs the guest command and powers off.
 *
 * Kernel command line words they read (values are base64 where they may hold spaces):
 *   wm.probe                 initramfs prints WM-PROBE-OK and powers off (accelerator probe)
 *   wm.net                   initramfs configures eth0 for QEMU's user-mode network
 *   wm.share=TAG,ro|rw,B64   mount 9p export TAG at the decoded guest path
 *   wm.cmd=B64               shell script to run; wm.cwd=B64 its working directory
 * Serial console markers: `WM-READY <seconds since kernel start>` once shares are mounted,
 * `WM-EXIT <code>` when the command ends, `WM-ERROR <what>` on a setup failure.
 */
/** A static busybox on the root disk (from Debian's busybox-static, as in the initramfs). */
export const GUEST_BUSYBOX = "/usr/lib/wm/busybox";

export const INITRAMFS_INIT = `#!/bin/sh
export PATH=/bin
mount -t proc proc /proc
case " $(cat /proc/cmdline) " in
  *" wm.probe "*) printf '\\nWM-PROBE-OK\\n'; poweroff -f ;;
esac
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
for m in $(cat /etc/wm-modules); do
  insmod "/lib/modules/$m.ko" || echo "WM-ERROR insmod $m"
done
i=0
while [ ! -b /dev/vda ]; do
  i=$((i + 1))
  if [ "$i" -gt 1000 ]; then echo "WM-ERROR no root disk /dev/vda"; poweroff -f; fi
  sleep 0.01
done
ip link set lo up
case " $(cat /proc/cmdline) " in
  *" wm.net "*)
    # QEMU's user-mode network (slirp) has fixed addresses; no DHCP client is needed.
    ip link set eth0 up && ip addr add 10.0.2.15/24 dev eth0 && ip route add default via 10.0.2.2 ||
      echo "WM-ERROR network setup"
    ;;
esac
mount -t ext4 -o rw /dev/vda /root || { echo "WM-ERROR mount root disk"; poweroff -f; }
mount --move /dev /root/dev
umount /sys /proc
exec switch_root /root /sbin/wm-init
`;

export const GUEST_INIT = `#!/bin/sh
# wm guest init: mounts the shares named on the kernel command line, runs the command, powers off.
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8
set -f
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mkdir -p /dev/pts /dev/shm
mount -t devpts devpts /dev/pts
mount -t tmpfs tmpfs /run
mount -t tmpfs tmpfs /tmp
# Shell built-ins where they do: every process start costs under emulation.
read -r host < /etc/hostname && echo "$host" > /proc/sys/kernel/hostname

power_off() {
  sync
  mount -o remount,ro / 2>/dev/null
  echo o > /proc/sysrq-trigger
  while :; do :; done
}
fail() {
  printf '\\nWM-ERROR %s\\n' "$*"
  echo "WM-EXIT 125"
  power_off
}
b64() { printf '%s' "$1" | base64 -d; }

cmd=""
cwd=/
read -r cmdline < /proc/cmdline
for word in $cmdline; do
  case "$word" in
    wm.share=*)
      v=\${word#wm.share=}
      tag=\${v%%,*}
      rest=\${v#*,}
      mode=\${rest%%,*}
      dir=$(b64 "\${rest#*,}") || fail "share $tag: bad path"
      case "$mode" in ro | rw) ;; *) fail "share $tag: mode $mode" ;; esac
      mkdir -p "$dir" || fail "share $tag: mkdir $dir"
      mount -t 9p -o "trans=virtio,version=9p2000.L,msize=524288,cache=none,$mode" "$tag" "$dir" ||
        fail "share $tag: mount at $dir"
      ;;
    wm.cmd=*) cmd=$(b64 "\${word#wm.cmd=}") || fail "bad wm.cmd" ;;
    wm.cwd=*) cwd=$(b64 "\${word#wm.cwd=}") || fail "bad wm.cwd" ;;
  esac
done
set +f
[ -n "$cmd" ] || fail "no wm.cmd on the kernel command line"
printf '%s\\n' "$cmd" > /run/wm-cmd

# The ACPI power button (QMP system_powerdown) ends the command, then the guest powers off as
# usual. Its device is opened before WM-READY, so no press after the marker is lost.
button=""
for d in /sys/class/input/event*; do
  name=""
  { read -r name < "$d/device/name"; } 2>/dev/null
  if [ "$name" = "Power Button" ]; then button="/dev/input/\${d##*/}"; fi
done
if [ -n "$button" ]; then exec 3< "$button"; fi

cd "$cwd" || fail "cd $cwd"
# Markers start on a fresh line: the firmware leaves escape sequences on the serial console.
read -r up _ < /proc/uptime
printf '\\nWM-READY %s\\n' "$up"
setsid sh /run/wm-cmd < /dev/null 3<&- &
pid=$!
if [ -n "$button" ]; then
  # evdev hands out whole 24-byte events only.
  ( dd of=/dev/null bs=24 count=1 <&3 2>/dev/null && printf '\\nWM-POWERDOWN\\n' && kill -TERM "-$pid" ) &
  watcher=$!
  exec 3<&-
fi

wait "$pid"
code=$?
[ -n "\${watcher:-}" ] && kill "$watcher" 2>/dev/null
printf '\\nWM-EXIT %s\\n' "$code"
power_off
`;
