import { promises as fs } from "node:fs";
import path from "node:path";
import type { MountSpec } from "../backends/types.ts";
import { inside, locationReason, type MountContext, resolveRefusals } from "./mount-refusals.ts";

export type { MountContext } from "./mount-refusals.ts";

export class MountRefusedError extends Error {}

export interface ExtraMount {
  host_path: string;
  guest_path?: string | undefined;
  writable: boolean;
  /** The user's explicit override of every refusal except the worktree's own. */
  force?: boolean | undefined;
}

function expandHome(p: string, homedir: string): string {
  return p === "~" ? homedir : p.startsWith("~/") ? path.join(homedir, p.slice(2)) : p;
}

/** A socket by file type (so a hard link to the engine's socket is one), or one at the top of a directory. */
async function socketReason(source: string): Promise<string | undefined> {
  const st = await fs.stat(source);
  const why =
    "a socket lets the sandbox drive a host service, and a container engine's or wm's is full control of the host";
  if (st.isSocket()) return `is a Unix socket; ${why}`;
  if (!st.isDirectory()) return undefined;
  const entries = await fs.readdir(source, { withFileTypes: true }).catch(() => []);
  const socket = entries.find((e) => e.isSocket());
  return socket ? `holds the Unix socket ${path.join(source, socket.name)}; ${why}` : undefined;
}

async function isGitDir(dir: string): Promise<boolean> {
  const [head, objects, refs] = await Promise.all(
    ["HEAD", "objects", "refs"].map((n) => fs.stat(path.join(dir, n)).catch(() => undefined)),
  );
  return !!head?.isFile() && !!objects?.isDirectory() && !!refs?.isDirectory();
}

/** A `.git` (or bare repository: HEAD, objects, refs) that is `source` or holds it. */
async function gitReason(source: string, writable: boolean): Promise<string | undefined> {
  for (let dir = source; ; dir = path.dirname(dir)) {
    if (path.basename(dir) === ".git" || (await isGitDir(dir))) {
      const where = `${dir === source ? "is" : "is inside"} the git directory ${dir}`;
      return writable
        ? `${where}; written from a sandbox, its hooks and config make git on the host run commands`
        : `${where}; its config can hold credentials`;
    }
    if (path.dirname(dir) === dir) return undefined;
  }
}

/**
 * `sandbox.extra_mounts` from the global config: resolved with realpath at launch, read-only
 * unless `writable: true`. Anything inside the sandbox's own worktree (which the agent
 * controls) is always refused; sockets, secret locations, git directories, the daemon's
 * directories and parents of the repository are refused unless the mount has `force: true`.
 */
export async function resolveExtraMounts(
  mounts: ReadonlyArray<ExtraMount>,
  ctx: MountContext,
): Promise<MountSpec[]> {
  if (mounts.length === 0) return [];
  const refusals = await resolveRefusals(ctx);
  const out: MountSpec[] = [];
  for (const m of mounts) {
    const wanted = expandHome(m.host_path, ctx.homedir);
    let source: string;
    try {
      source = await fs.realpath(wanted);
    } catch {
      throw new MountRefusedError(`sandbox.extra_mounts: ${m.host_path} does not exist`);
    }
    const name = source === wanted ? m.host_path : `${m.host_path} (${source})`;
    if (inside(source, ctx.worktree.worktreePath)) {
      throw new MountRefusedError(
        `sandbox.extra_mounts: ${name} is inside the worktree, which the agent can write`,
      );
    }
    const why = m.force
      ? undefined
      : ((await socketReason(source)) ??
        locationReason(source, m.writable, refusals) ??
        (await gitReason(source, m.writable)));
    if (why) {
      throw new MountRefusedError(
        `sandbox.extra_mounts: ${name} ${why}; refused unless this mount sets \`force: true\` in the global config`,
      );
    }
    const target = m.guest_path ? expandHome(m.guest_path, "/home/agent") : source;
    out.push({ source, target, readOnly: !m.writable });
  }
  return out;
}
