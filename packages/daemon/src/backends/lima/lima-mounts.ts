import { createHash } from "node:crypto";
import { stat } from "node:fs/promises";
import path from "node:path";
import { RpcError } from "@wm/protocol";
import type { MountSpec } from "../types.ts";
import type { LimaMount } from "./lima-config.ts";

/*
 * What of a launch's mounts Lima can express, and the instance a launch runs in.
 *
 * Lima shares host *directories* (one 9p share each); it has no file mounts. And the guest user
 * has passwordless sudo (Lima's default), so anything inside the VM — a bind mount, a mount
 * stacked on another — can be undone by the agent: only what QEMU enforces on the host side
 * holds. Hence two refusals, each with the mount named:
 * - a mount whose source is not a directory (the worktree's `.git` pointer, a credentials file);
 * - a read-only mount whose host source lies inside a writable mount's source: guest root can
 *   unmount the read-only layer and write the same files through the writable share.
 */

function refused(why: string): RpcError {
  return new RpcError(
    "Refused",
    `sandbox.lima.driver: limactl cannot give this sandbox its mounts as asked: ${why}; no sandbox was started (set sandbox.lima.driver: qemu, or sandbox.backend: container)`,
  );
}

function inside(child: string, parent: string): boolean {
  const rel = path.relative(parent, child);
  return rel === "" || (!rel.startsWith("..") && !path.isAbsolute(rel));
}

/** A launch's mounts as Lima shares, or a refusal naming the first one Lima cannot express. */
export async function limaMountsOf(mounts: readonly MountSpec[]): Promise<LimaMount[]> {
  for (const m of mounts) {
    const st = await stat(m.source).catch(() => undefined);
    if (!st) throw refused(`${m.source} (for ${m.target}) does not exist`);
    if (!st.isDirectory()) {
      throw refused(
        `${m.source} (for ${m.target}, ${m.readOnly ? "read-only" : "writable"}) is not a directory, and Lima shares directories only`,
      );
    }
  }
  for (const ro of mounts.filter((m) => m.readOnly)) {
    const over = mounts.find((rw) => !rw.readOnly && inside(ro.source, rw.source));
    if (over) {
      throw refused(
        `${ro.source} is to be read-only but lies inside the writable ${over.source}, and root in the VM can unmount the read-only layer`,
      );
    }
  }
  return mounts.map((m) => ({ hostPath: m.source, guestPath: m.target, writable: !m.readOnly }));
}

/** Whether Lima reports exactly the shares wm asked for, in order. */
export function sameMounts(a: readonly LimaMount[], b: readonly LimaMount[]): boolean {
  return (
    a.length === b.length &&
    a.every(
      (m, i) =>
        m.hostPath === b[i]?.hostPath &&
        m.guestPath === b[i]?.guestPath &&
        m.writable === b[i]?.writable,
    )
  );
}

/** The label naming a sandbox's repository (its git common dir). */
export const PROJECT_LABEL = "wm.git.common";

/**
 * The Lima instance of a repository: `wm-<project>-<hash>`, the project being the repository's
 * directory name and the hash the first 8 hex digits of sha256(common git dir), within Lima's
 * identifier rules (letters and digits, single `.`/`_`/`-` between them).
 */
export function limaInstanceName(commonDir: string): string {
  const repo =
    path.basename(commonDir) === ".git"
      ? path.basename(path.dirname(commonDir))
      : path.basename(commonDir).replace(/\.git$/, "");
  const slug =
    repo
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, "-")
      .replace(/^-+|-+$/g, "")
      .slice(0, 32)
      .replace(/-+$/, "") || "project";
  const hash = createHash("sha256").update(commonDir).digest("hex").slice(0, 8);
  return `wm-${slug}-${hash}`;
}
