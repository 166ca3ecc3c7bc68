import { promises as fs } from "node:fs";
import path from "node:path";
import type { MountSpec } from "../backends/types.ts";
import type { DaemonContext } from "../context.ts";
import { atomicWrite } from "../fs/atomic-write.ts";
import { ensureOwnerOnlyDir } from "../fs/secure-dir.ts";
import { type GuestServer, startGuestServer } from "../guest/guest-app.ts";
import { guestHandlers } from "../guest/handlers.ts";

/** Where a sandbox finds its endpoint (read-only). */
export const GUEST_MOUNT = "/run/wm";

export interface GuestEndpoint {
  dir: string;
  mount: MountSpec;
  port: number | null;
  /** TCP: serve only these addresses (the container's own), or "any" where none is known. */
  admitPeers(peers: readonly string[] | "any"): void;
  close(): Promise<void>;
}

export type EndpointPlan =
  | { transport: "socket" }
  | { transport: "tcp"; host: string; port: number; tokenHash: string; token?: string };

/**
 * The per-sandbox directory mounted at /run/wm: either the sandbox's own Unix socket, or the
 * TCP address and (in a file, never in the environment) the sandbox's token. The directory is
 * mounted rather than the socket so that a restarted daemon's new socket is seen inside.
 */
export async function openGuestEndpoint(
  daemon: DaemonContext,
  sandbox: { id: string; worktree: string },
  owner: { uid: number; gid: number },
  plan: EndpointPlan,
): Promise<GuestEndpoint> {
  const uid = process.getuid?.() ?? 0;
  await ensureOwnerOnlyDir(daemon.paths.sandboxSocketDir, { uid });
  const dir = path.join(daemon.paths.sandboxSocketDir, sandbox.id);
  await fs.mkdir(dir, { mode: 0o700 }).catch((err: NodeJS.ErrnoException) => {
    if (err.code !== "EEXIST") throw err;
  });
  await fs.chown(dir, owner.uid, owner.gid);
  let server: GuestServer;
  if (plan.transport === "socket") {
    server = await startGuestServer(daemon, sandbox, guestHandlers, {
      transport: "socket",
      socketPath: path.join(dir, "guest.sock"),
      owner,
    });
    await atomicWrite(
      path.join(dir, "endpoint.json"),
      `${JSON.stringify({ transport: "socket", socket: "guest.sock" })}\n`,
      0o644,
    );
  } else {
    server = await startGuestServer(daemon, sandbox, guestHandlers, {
      transport: "tcp",
      host: plan.host,
      port: plan.port,
      tokenHash: plan.tokenHash,
    });
    if (plan.token !== undefined) {
      await atomicWrite(path.join(dir, "token"), `${plan.token}\n`, 0o400);
      await fs.chown(path.join(dir, "token"), owner.uid, owner.gid);
    }
    await atomicWrite(
      path.join(dir, "endpoint.json"),
      `${JSON.stringify({ transport: "tcp", host: plan.host, port: server.port })}\n`,
      0o644,
    );
  }
  return {
    dir,
    port: server.port,
    mount: { source: dir, target: GUEST_MOUNT, readOnly: true },
    admitPeers: (peers) => server.admitPeers(peers),
    close: () => server.close(),
  };
}

/** Close the endpoint and revoke it: the socket, token and directory are removed. */
export async function removeGuestEndpoint(daemon: DaemonContext, id: string): Promise<void> {
  await fs.rm(path.join(daemon.paths.sandboxSocketDir, id), { recursive: true, force: true });
}
