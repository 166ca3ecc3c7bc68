import type { ContainerSpec } from "../types.ts";

type Explain = (status: number | undefined, message: string) => string | undefined;

function buildHint(image: string): string {
  const agent = /^wm-sandbox:([a-z0-9][a-z0-9_.-]*)$/.exec(image)?.[1];
  return agent ? `wm sandbox build --agent ${agent}` : "wm sandbox build";
}

/** Clearer reasons (with what to do) for the ways container creation fails. */
export function explainCreate(spec: ContainerSpec): Explain {
  return (status, message) => {
    if (status === 404) {
      return `image "${spec.image}" not found; build it with \`${buildHint(spec.image)}\``;
    }
    if (status === 409) return `a container named ${spec.name} already exists`;
    if (message.includes("container-init binary not found")) {
      return `${message}; install catatonit (apt-get install catatonit) or set init_path in containers.conf`;
    }
    return undefined;
  };
}

/** A bind mount on a read-only one needs its mount point to exist in the lower source. */
export const explainStart: Explain = (_status, message) => {
  const at = /to rootfs at "([^"]+)".*mkdir .*read-only file system/.exec(message)?.[1];
  if (!at) return undefined;
  return `mount point ${at} does not exist inside the read-only mount beneath it; create that directory on the host first (${message})`;
};

interface NetworkIpam {
  IPAM?: { Config?: Array<{ Gateway?: string; Subnet?: string }> };
}

/** A network's IPv4 gateway; the default bridge often lists only its subnet (gateway = .1). */
export function gatewayOf(net: NetworkIpam): string | undefined {
  const configs = net.IPAM?.Config ?? [];
  const explicit = configs.find((c) => c.Gateway)?.Gateway;
  if (explicit) return explicit;
  const v4 = configs.map((c) => /^(\d+\.\d+\.\d+)\.0\/(\d+)$/.exec(c.Subnet ?? "")).find(Boolean);
  return v4 ? `${v4[1]}.1` : undefined;
}
