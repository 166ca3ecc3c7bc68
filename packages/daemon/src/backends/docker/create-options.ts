import { stat } from "node:fs/promises";
import path from "node:path";
import type Docker from "dockerode";
import type { ContainerSpec } from "../types.ts";

const ALWAYS_SECURITY_OPT = "no-new-privileges";

function unique(values: readonly string[]): string[] {
  return [...new Set(values)];
}

function isWithin(child: string, parent: string): boolean {
  const rel = path.relative(parent, child);
  return rel === "" || (!rel.startsWith("..") && !path.isAbsolute(rel));
}

/** Throws when the spec asks for something a sandbox must never get. */
export function checkSpec(spec: ContainerSpec, engineSockets: readonly string[]): void {
  for (const m of spec.mounts) {
    if (!path.isAbsolute(m.source) || !path.isAbsolute(m.target)) {
      throw new Error(`mount ${m.source} -> ${m.target}: both paths must be absolute`);
    }
    const exposed = engineSockets.find((s) => isWithin(s, m.source));
    if (exposed) throw new Error(`mount ${m.source} would expose the engine socket ${exposed}`);
  }
  const net = spec.networkMode;
  if (net?.startsWith("container:")) {
    throw new Error(`network mode ${net} would share another container's network`);
  }
  if (spec.joinNetworkOf !== undefined && spec.networkMode !== undefined) {
    throw new Error("a container joins another's network or has a network mode, not both");
  }
  if (!/^\d+:\d+$/.test(spec.user)) {
    throw new Error(`user must be "uid:gid" in numbers, not ${JSON.stringify(spec.user)}`);
  }
}

/** Podman's compat API would create a missing bind source on the host; refuse it first. */
export async function checkSources(spec: ContainerSpec): Promise<void> {
  for (const m of spec.mounts) {
    await stat(m.source).catch((err: NodeJS.ErrnoException) => {
      const why =
        err.code === "ENOENT" ? "does not exist" : `is not usable (${err.code ?? err.message})`;
      throw new Error(`mount source ${m.source} ${why}`);
    });
  }
}

/** The Engine API body for `POST /containers/create` (Docker and Podman's compat API). */
export function toCreateOptions(spec: ContainerSpec): Docker.ContainerCreateOptions {
  const interactive = spec.openStdin;
  return {
    name: spec.name,
    Image: spec.image,
    User: spec.user,
    WorkingDir: spec.workdir,
    Cmd: [...spec.cmd],
    Env: Object.entries(spec.env).map(([k, v]) => `${k}=${v}`),
    Labels: { ...spec.labels },
    Tty: spec.tty,
    OpenStdin: interactive,
    // Without a terminal, closing stdin must reach the program as EOF.
    StdinOnce: interactive && !spec.tty,
    AttachStdin: interactive,
    AttachStdout: true,
    AttachStderr: true,
    HostConfig: {
      Mounts: spec.mounts.map((m) => ({
        Type: "bind",
        Source: m.source,
        Target: m.target,
        ReadOnly: m.readOnly,
        BindOptions: { Propagation: "rprivate" },
      })),
      CapDrop: ["ALL"],
      CapAdd: unique(spec.capAdd ?? []),
      SecurityOpt: unique([ALWAYS_SECURITY_OPT, ...(spec.securityOpt ?? [])]),
      Privileged: false,
      PidsLimit: spec.pidsLimit,
      ...(spec.memoryBytes !== undefined ? { Memory: spec.memoryBytes } : {}),
      ...(spec.cpus !== undefined ? { NanoCpus: Math.round(spec.cpus * 1e9) } : {}),
      ExtraHosts: [...(spec.extraHosts ?? [])],
      ...(spec.joinNetworkOf !== undefined
        ? { NetworkMode: `container:${spec.joinNetworkOf}` }
        : spec.networkMode !== undefined
          ? { NetworkMode: spec.networkMode }
          : {}),
      ...(spec.sysctls !== undefined ? { Sysctls: { ...spec.sysctls } } : {}),
      ...(spec.ociRuntime !== undefined ? { Runtime: spec.ociRuntime } : {}),
      Init: true,
    },
  };
}
