import { promises as fs } from "node:fs";
import path from "node:path";
import type { MountSpec } from "../backends/types.ts";

/** Host locations that hold secrets; never mounted into a sandbox from config. */
const SECRET_DIRS = [
  ".ssh",
  ".aws",
  ".gnupg",
  ".config/gcloud",
  ".kube",
  ".docker",
  ".netrc",
  ".config/gh",
];
const ENGINE_SOCKETS = ["/var/run/docker.sock", "/run/docker.sock", "/run/podman/podman.sock"];

export class MountRefusedError extends Error {}

function expandHome(p: string, homedir: string): string {
  return p === "~" ? homedir : p.startsWith("~/") ? path.join(homedir, p.slice(2)) : p;
}

function inside(child: string, parent: string): boolean {
  const rel = path.relative(parent, child);
  return rel === "" || (!rel.startsWith("..") && !path.isAbsolute(rel));
}

/**
 * `sandbox.extra_mounts` from the global config: resolved with realpath at launch, read-only
 * unless `writable: true`; secret locations, container-engine sockets and anything inside the
 * worktree (which the agent controls) are refused.
 */
export async function resolveExtraMounts(
  mounts: ReadonlyArray<{ host_path: string; guest_path?: string | undefined; writable: boolean }>,
  ctx: { homedir: string; worktree: string },
): Promise<MountSpec[]> {
  const out: MountSpec[] = [];
  for (const m of mounts) {
    const wanted = expandHome(m.host_path, ctx.homedir);
    let source: string;
    try {
      source = await fs.realpath(wanted);
    } catch {
      throw new MountRefusedError(`sandbox.extra_mounts: ${m.host_path} does not exist`);
    }
    const secret = SECRET_DIRS.map((d) => path.join(ctx.homedir, d)).find(
      (d) => inside(source, d) || inside(d, source),
    );
    if (secret)
      throw new MountRefusedError(
        `sandbox.extra_mounts: ${m.host_path} is or contains ${secret}, which holds secrets`,
      );
    if (ENGINE_SOCKETS.includes(source)) {
      throw new MountRefusedError(
        `sandbox.extra_mounts: ${m.host_path} is a container engine socket`,
      );
    }
    if (inside(source, ctx.worktree)) {
      throw new MountRefusedError(
        `sandbox.extra_mounts: ${m.host_path} is inside the worktree, which the agent can write`,
      );
    }
    const target = m.guest_path ? expandHome(m.guest_path, "/home/agent") : source;
    out.push({ source, target, readOnly: !m.writable });
  }
  return out;
}
