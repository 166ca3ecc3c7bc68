import path from "node:path";
import type { NetnsHelper } from "../backends/sandbox-backend.ts";
import type { MountSpec } from "../backends/types.ts";
import { SHIM_MOUNT } from "./shim-runtime.ts";

/**
 * Routed nowhere from every sandbox on an open network: all of link-local (AWS, GCP, Azure and
 * OpenStack metadata at 169.254.169.254, ECS task credentials at 169.254.170.2), Alibaba's
 * metadata, Azure's WireServer, and AWS's IPv6 metadata address.
 */
export const CLOUD_METADATA = [
  "169.254.0.0/16",
  "100.100.100.200/32",
  "168.63.129.16/32",
  "fd00:ec2::254/128",
] as const;

/** What a helper prints once the network namespace is ready for the sandbox to join. */
export const NETNS_READY = "wm netns ready";

/** Where the relay sees the daemon's egress sockets for its sandbox. */
const RELAY_MOUNT = "/run/wm-egress";

/** Under `network.policy: deny`: the relay's proxy, on the loopback the sandbox shares with it. */
const PROXY_URL = "http://127.0.0.1:3128";
export const PROXY_ENV: Readonly<Record<string, string>> = {
  HTTP_PROXY: PROXY_URL,
  HTTPS_PROXY: PROXY_URL,
  http_proxy: PROXY_URL,
  https_proxy: PROXY_URL,
  NO_PROXY: "localhost,127.0.0.1,::1",
  no_proxy: "localhost,127.0.0.1,::1",
};

function shimMounts(mounts: readonly MountSpec[]): MountSpec[] {
  return mounts.filter((m) => m.target === SHIM_MOUNT || m.target.startsWith(`${SHIM_MOUNT}/`));
}

/**
 * `network.policy: deny`: a relay with no network but loopback (nothing routed, no engine DNS),
 * running the shim's `relay` as the sandbox's user with no capabilities; it carries the
 * sandbox's proxy and DNS traffic to the daemon's sockets in `socketDir`, and nothing else.
 */
export function egressRelay(
  socketDir: string,
  launchMounts: readonly MountSpec[],
  user: { uid: number; gid: number },
): { helper: NetnsHelper; mounts: MountSpec[] } {
  return {
    helper: {
      role: "egress relay",
      command: [`${SHIM_MOUNT}/bin/wm`, "relay", RELAY_MOUNT],
      user,
      mounts: [
        ...shimMounts(launchMounts),
        { source: socketDir, target: RELAY_MOUNT, readOnly: true },
      ],
      capAdd: [],
      network: "none",
      // Port 53 without a capability: the setting belongs to the relay's own namespace.
      sysctls: { "net.ipv4.ip_unprivileged_port_start": "0" },
    },
    mounts: [
      { source: path.join(socketDir, "resolv.conf"), target: "/etc/resolv.conf", readOnly: true },
    ],
  };
}

/**
 * `network.policy: allow` (the engine's default network): a holder that owns the namespace and,
 * with NET_ADMIN the sandbox never has, routes the cloud metadata addresses nowhere before the
 * sandbox joins. The host's loopback is not routed to from a bridge network in the first place.
 */
export function metadataGuard(
  launchMounts: readonly MountSpec[],
  ownLabels: Readonly<Record<string, string>>,
): {
  helper: NetnsHelper;
  mounts: MountSpec[];
} {
  const ip = `${SHIM_MOUNT}/bin/ip`;
  const routes = CLOUD_METADATA.map((cidr) =>
    cidr.includes(":")
      ? // A namespace without IPv6 has no metadata address to reach there either.
        `if [ -e /proc/net/if_inet6 ]; then ${ip} -6 route add blackhole ${cidr} || exit 1; fi`
      : `${ip} route add blackhole ${cidr} || exit 1`,
  );
  return {
    helper: {
      role: "network holder",
      command: [
        "/bin/sh",
        "-c",
        [
          `[ -x ${ip} ] || { echo "the host has no ip (iproute2), which keeps cloud metadata unreachable from sandboxes; install iproute2 on the host" >&2; exit 1; }`,
          ...routes,
          `echo '${NETNS_READY}'`,
          // Holds the namespace until the sandbox is removed (the engine's init ends it on stop).
          "exec tail -f /dev/null",
        ].join("\n"),
      ],
      user: { uid: 0, gid: 0 },
      mounts: shimMounts(launchMounts),
      capAdd: ["NET_ADMIN"],
      network: "default",
      sysctls: {},
      // Nothing in it is the sandbox's: the next one can be started before it is asked for.
      ahead: { labels: ownLabels },
    },
    mounts: [],
  };
}
