import type { EngineVersion } from "../types.ts";
import { engineAt } from "./engine-client.ts";

function withDeadline<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, deadline]).finally(() => clearTimeout(timer));
}

/**
 * Asks a Docker-compatible API on a Unix socket for its version, within `timeoutMs`; rejects
 * when it does not answer. A probe of any socket, before wm has chosen an engine (`wm doctor`).
 */
export async function probeEngineVersion(
  socketPath: string,
  timeoutMs: number,
): Promise<EngineVersion> {
  const docker = engineAt(socketPath, { timeout: timeoutMs });
  const v = await withDeadline(docker.version(), timeoutMs, `the API at ${socketPath}`);
  const server = v.Components?.find((c) => /engine/i.test(c.Name)) ?? v.Components?.[0];
  return {
    name: server?.Name ?? "Engine",
    version: server?.Version ?? (v as { Version?: string }).Version ?? "unknown",
    apiVersion: v.ApiVersion,
  };
}
