import type Docker from "dockerode";
import type { ContainerInfo, ContainerState } from "../types.ts";

const STATES: readonly ContainerState[] = [
  "created",
  "running",
  "paused",
  "restarting",
  "exited",
  "dead",
  "removing",
];

function toState(raw: string | undefined): ContainerState {
  const s = (raw ?? "").toLowerCase();
  if ((STATES as readonly string[]).includes(s)) return s as ContainerState;
  // Podman reports "stopped"/"configured" where Docker says "exited"/"created".
  if (s === "stopped") return "exited";
  return s === "configured" || s === "initialized" ? "created" : "dead";
}

function orUndefined(s: string | undefined | null): string | undefined {
  return s ? s : undefined;
}

interface NetworkLike {
  IPAddress?: string;
  Gateway?: string;
}

function addresses(
  top: NetworkLike | undefined,
  networks: Record<string, NetworkLike> | undefined,
): Pick<ContainerInfo, "ipAddress" | "gateway"> {
  const first = Object.values(networks ?? {}).find((n) => n.IPAddress);
  return {
    ipAddress: orUndefined(top?.IPAddress) ?? orUndefined(first?.IPAddress),
    gateway: orUndefined(top?.Gateway) ?? orUndefined(first?.Gateway),
  };
}

export function fromInspect(c: Docker.ContainerInspectInfo): ContainerInfo {
  const state = toState(c.State?.Status);
  const ended = state === "exited" || state === "dead";
  return {
    id: c.Id,
    name: c.Name.replace(/^\//, ""),
    image: c.Config?.Image ?? c.Image,
    state,
    exitCode: ended ? c.State.ExitCode : undefined,
    labels: { ...(c.Config?.Labels ?? {}) },
    ...addresses(c.NetworkSettings as NetworkLike | undefined, c.NetworkSettings?.Networks),
  };
}

/** `docker ps` rows carry the exit code only inside the status text: "Exited (3) 2 s ago". */
export function fromListing(c: Docker.ContainerInfo): ContainerInfo {
  const state = toState(c.State);
  const code = /^exited \((-?\d+)\)/i.exec(c.Status ?? "")?.[1];
  return {
    id: c.Id,
    name: (c.Names?.[0] ?? "").replace(/^\//, ""),
    image: c.Image,
    state,
    exitCode: code !== undefined && state !== "running" ? Number(code) : undefined,
    labels: { ...(c.Labels ?? {}) },
    ...addresses(undefined, c.NetworkSettings?.Networks),
  };
}

export function labelFilters(labels: Readonly<Record<string, string>>): string[] {
  return Object.entries(labels).map(([k, v]) => `${k}=${v}`);
}
