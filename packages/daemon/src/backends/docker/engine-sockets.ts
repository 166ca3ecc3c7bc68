import { realpath } from "node:fs/promises";

export const DEFAULT_DOCKER_SOCKET = "/var/run/docker.sock";
export const ROOTFUL_PODMAN_SOCKET = "/run/podman/podman.sock";

const WELL_KNOWN = [DEFAULT_DOCKER_SOCKET, "/run/docker.sock", ROOTFUL_PODMAN_SOCKET];

/** The engine sockets no mount may expose: the one in use and the usual ones, resolved. */
export async function engineSockets(inUse: string): Promise<string[]> {
  const all = [inUse, ...WELL_KNOWN];
  const resolved = await Promise.all(all.map((p) => realpath(p).catch(() => p)));
  return [...new Set([...all, ...resolved])];
}
