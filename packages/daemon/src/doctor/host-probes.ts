import { constants, promises as fs } from "node:fs";
import path from "node:path";
import Docker from "dockerode";
import type { EngineProbe, PathExists, Which } from "./types.ts";

const SYSTEM_DIRS = ["/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin"];

async function isExecutableFile(file: string): Promise<boolean> {
  try {
    await fs.access(file, constants.X_OK);
    return (await fs.stat(file)).isFile();
  } catch {
    return false;
  }
}

/** Looks `command` up on PATH, then in the usual system directories (sbin included). */
export function createWhich(env: Readonly<Record<string, string | undefined>>): Which {
  const dirs = [...(env.PATH ?? "").split(path.delimiter), ...SYSTEM_DIRS].filter((d) =>
    path.isAbsolute(d),
  );
  const unique = [...new Set(dirs)];
  return async (command) => {
    if (command.includes("/")) return (await isExecutableFile(command)) ? command : undefined;
    for (const dir of unique) {
      const candidate = path.join(dir, command);
      if (await isExecutableFile(candidate)) return candidate;
    }
    return undefined;
  };
}

export const pathExists: PathExists = async (p) => {
  try {
    await fs.stat(p);
    return true;
  } catch {
    return false;
  }
};

function withDeadline<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, deadline]).finally(() => clearTimeout(timer));
}

export const dockerodeEngineVersion: EngineProbe = async (socketPath, timeoutMs) => {
  const docker = new Docker({ socketPath, host: undefined, timeout: timeoutMs });
  const v = await withDeadline(docker.version(), timeoutMs, `the API at ${socketPath}`);
  const server = v.Components?.find((c) => /engine/i.test(c.Name)) ?? v.Components?.[0];
  return {
    name: server?.Name ?? "Engine",
    version: server?.Version ?? (v as { Version?: string }).Version ?? "unknown",
    apiVersion: v.ApiVersion,
  };
};
