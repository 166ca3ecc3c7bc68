import { createHash } from "node:crypto";
import { promises as fs } from "node:fs";
import type { Server, Socket } from "node:net";
import os from "node:os";
import path from "node:path";
import { PROTOCOL_VERSION, resolvePaths, WM_VERSION, type WmPaths } from "@wm/protocol";
import { buildApp } from "./app.ts";
import { Backends } from "./backends/backend-set.ts";
import { connectBackend } from "./backends/docker/connect.ts";
import { probeEngineVersion } from "./backends/docker/engine-probe.ts";
import { VmPool, vmIdleMs } from "./backends/vm/vm-pool.ts";
import { VmSandboxBackend } from "./backends/vm/vm-sandbox.ts";
import { ShownConfigWarnings } from "./config/shown-warnings.ts";
import type { DaemonContext, DaemonSettings } from "./context.ts";
import { EventBus } from "./events.ts";
import { ensureOwnerOnlyDir } from "./fs/secure-dir.ts";
import { hostHandlers } from "./handlers/index.ts";
import { withSbin } from "./images/vm-exec.ts";
import { IdleMonitor } from "./lifecycle/idle-monitor.ts";
import {
  readRegistration,
  removeOwnRegistration,
  writeRegistration,
} from "./lifecycle/registration.ts";
import { inheritedListenFd } from "./lifecycle/socket-activation.ts";
import { probeSocket } from "./lifecycle/socket-probe.ts";
import { acquireStartLock } from "./lifecycle/start-lock.ts";
import type { Logger } from "./log.ts";
import { SandboxManager } from "./sandbox/manager.ts";
import { findShimBundle } from "./sandbox/shim-runtime.ts";
import { WorktreeStore } from "./sandbox/worktree-store.ts";
import { startWorktreeService, type WorktreeService } from "./worktrees/service.ts";

/** How long in-flight calls may take to finish once the daemon is asked to stop. */
const SHUTDOWN_GRACE_MS = 5000;

export class DaemonAlreadyRunningError extends Error {
  constructor(readonly socketPath: string) {
    super(`a wm daemon is already listening on ${socketPath}`);
    this.name = "DaemonAlreadyRunningError";
  }
}

export interface StartOptions {
  env: Readonly<Record<string, string | undefined>>;
  settings: DaemonSettings;
  log: Logger;
  paths?: WmPaths;
  homedir?: string;
  pid?: number;
}

export interface RunningDaemon {
  readonly context: DaemonContext;
  /** Resolves once the daemon has fully stopped (socket and registration removed). */
  readonly stopped: Promise<void>;
  stop(reason: string): Promise<void>;
}

function listen(server: Server, target: { path: string } | { fd: number }): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(target, () => {
      server.off("error", reject);
      resolve();
    });
  });
}

/**
 * Start the per-user daemon: verify the runtime directory, take the start lock, refuse if a
 * live daemon answers, clean a stale socket, listen (or adopt a socket-activated fd), write
 * the registration, then serve until stopped.
 */
export async function startDaemon(opts: StartOptions): Promise<RunningDaemon> {
  const { env, settings, log } = opts;
  const homedir = opts.homedir ?? os.homedir();
  const pid = opts.pid ?? process.pid;
  const uid = process.getuid?.() ?? 0;
  const paths =
    opts.paths ??
    resolvePaths({ env, platform: process.platform, uid, homedir, tmpdir: os.tmpdir() });
  const startedAt = new Date();
  const events = new EventBus();
  let shuttingDown = false;
  let stopPromise: Promise<void> | undefined;
  let resolveStopped!: () => void;
  const stopped = new Promise<void>((r) => {
    resolveStopped = r;
  });

  const context: DaemonContext = {
    paths,
    settings,
    log,
    events,
    pid,
    startedAt,
    env,
    homedir,
    socketActivated: false,
    homeId: createHash("sha256").update(paths.stateDir).digest("hex").slice(0, 12),
    backends: new Backends({
      connect: (runtime) => connectBackend(runtime, { env, uid }),
      probeEngineVersion,
      vm: () =>
        new VmSandboxBackend(
          new VmPool({
            dir: path.join(paths.stateDir, "vms"),
            stateDir: paths.stateDir,
            env: withSbin(env),
            log,
            shimBundle: () => findShimBundle(env),
            idleMs: vmIdleMs(env),
            onProgress: (p) => log.info({ phase: p.phase }, `VM disk: ${p.message}`),
          }),
        ),
    }),
    sandboxes: undefined as unknown as SandboxManager,
    worktrees: undefined as unknown as WorktreeService,
    worktreeRecords: new WorktreeStore(paths.stateDir, log),
    shownConfigWarnings: new ShownConfigWarnings(paths.stateDir, log),
    liveSandboxes: () => context.sandboxes.liveCount(),
    requestShutdown: (reason) => void stop(reason),
    get shuttingDown() {
      return shuttingDown;
    },
  };

  context.sandboxes = new SandboxManager(context, context.backends);
  // Mirrors sandboxed agents' status into their tmux windows from the start.
  context.worktrees = startWorktreeService(context);
  const inheritedFd = inheritedListenFd(env, pid);
  await ensureOwnerOnlyDir(paths.runtimeDir, { uid });
  await ensureOwnerOnlyDir(paths.stateDir, { uid, tightenMode: true });

  const { app, sockets } = await buildApp(context, hostHandlers);
  let inFlight = 0;
  app.addHook("onRequest", async () => {
    inFlight++;
  });
  app.addHook("onResponse", async () => {
    inFlight--;
    idle?.touch();
  });
  await app.ready();
  const rawSockets = new Set<Socket>();
  app.server.on("connection", (sock: Socket) => {
    rawSockets.add(sock);
    sock.once("close", () => rawSockets.delete(sock));
  });

  if (inheritedFd !== undefined) {
    // An inherited fd has no address; the unit listens on the path the clients resolve.
    // Check it before serving a single request.
    const st = await fs.lstat(paths.socketPath).catch(() => undefined);
    if (st?.isSocket()) {
      try {
        await ensureOwnerOnlyDir(path.dirname(paths.socketPath), { uid, create: false });
        await fs.chmod(paths.socketPath, 0o600);
      } catch (err) {
        await app.close();
        throw err;
      }
    }
    await listen(app.server, { fd: inheritedFd });
    context.socketActivated = true;
  } else {
    const lock = await acquireStartLock(paths.lockFile);
    try {
      const state = await probeSocket(paths.socketPath);
      if (state === "live") throw new DaemonAlreadyRunningError(paths.socketPath);
      if (state === "stale") {
        log.info({ socket: paths.socketPath }, "removing stale socket left by a dead daemon");
        await fs.rm(paths.socketPath, { force: true });
      }
      const previousUmask = process.umask(0o077);
      try {
        await listen(app.server, { path: paths.socketPath });
      } finally {
        process.umask(previousUmask);
      }
      await fs.chmod(paths.socketPath, 0o600);
      await writeRegistration(paths.registrationFile, {
        pid,
        socketPath: paths.socketPath,
        version: WM_VERSION,
        protocolVersion: PROTOCOL_VERSION,
        startedAt: startedAt.toISOString(),
      });
    } catch (err) {
      await app.close();
      throw err;
    } finally {
      await lock.release();
    }
  }

  let checkingRegistration = false;
  const idle: IdleMonitor | undefined = new IdleMonitor({
    idleTimeoutMs: settings.idleTimeoutMs,
    busy: () => inFlight > 0 || sockets.size > 0 || context.liveSandboxes() > 0,
    onIdle: () => void stop("idle timeout"),
    onTick: () => {
      if (context.socketActivated || checkingRegistration || shuttingDown) return;
      checkingRegistration = true;
      void readRegistration(paths.registrationFile)
        .then((reg) => {
          if (reg?.pid !== pid) void stop("registration names another process");
        })
        .finally(() => {
          checkingRegistration = false;
        });
    },
  });

  async function stop(reason: string): Promise<void> {
    if (stopPromise) return stopPromise;
    shuttingDown = true;
    stopPromise = (async () => {
      log.info({ reason }, "daemon stopping");
      events.emit("daemon", "stopping", { reason });
      idle?.stop();
      const closing = app.close();
      for (const ws of sockets) ws.close(1001, "daemon stopping");
      app.server.closeIdleConnections();
      // In-flight calls get a grace period; a peer that never finishes its request does not
      // hold the daemon up forever.
      const force = setTimeout(() => {
        log.warn("closing connections still open after the shutdown grace period");
        app.server.closeAllConnections();
        for (const ws of sockets) ws.terminate();
        for (const sock of rawSockets) sock.destroy();
      }, SHUTDOWN_GRACE_MS);
      await closing;
      clearTimeout(force);
      await context.sandboxes.close();
      if (!context.socketActivated) {
        const reg = await readRegistration(paths.registrationFile);
        if (reg?.pid === pid) await fs.rm(paths.socketPath, { force: true });
        await removeOwnRegistration(paths.registrationFile, pid);
      }
      await context.sandboxes.removeSpares();
      log.info("daemon stopped");
      resolveStopped();
    })();
    return stopPromise;
  }

  await context.sandboxes
    .reconcile()
    .catch((err) => log.error({ err }, "sandbox reconciliation failed"));

  log.info(
    {
      socket: paths.socketPath,
      version: WM_VERSION,
      idleTimeoutMs: settings.idleTimeoutMs,
      socketActivated: context.socketActivated,
    },
    "daemon listening",
  );
  events.emit("daemon", "started", { pid });
  return { context, stopped, stop };
}
