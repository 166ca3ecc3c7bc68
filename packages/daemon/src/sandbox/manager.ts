import { randomBytes } from "node:crypto";
import { promises as fs } from "node:fs";
import type { FileHandle } from "node:fs/promises";
import path from "node:path";
import {
  type AgentStatus,
  RpcError,
  type SandboxSummary,
  StreamChannel,
  type VmSummary,
} from "@wm/protocol";
import type { Backends } from "../backends/backend-set.ts";
import type {
  SandboxBackend,
  SandboxInfo,
  SandboxLaunch,
  SandboxRuntime,
} from "../backends/sandbox-backend.ts";
import type { MountSpec, RuntimeName } from "../backends/types.ts";
import type { VmLaunch } from "../backends/vm/vm-sandbox.ts";
import { ConfigError, type LoadedConfig, loadConfig } from "../config/index.ts";
import { loadGlobalConfig } from "../config/load.ts";
import { globalConfigDirs } from "../config/locate.ts";
import type { DaemonContext } from "../context.ts";
import { EgressService } from "../egress/service.ts";
import { hashToken, newToken } from "../guest/token.ts";
import { AgentConfigDirError } from "./credentials.ts";
import { MountRefusedError } from "./extra-mounts.ts";
import { GitLayoutError, type WorktreeRecord } from "./git-layout.ts";
import { GitShadows } from "./git-shadows.ts";
import {
  type EndpointPlan,
  GUEST_MOUNT,
  type GuestEndpoint,
  openGuestEndpoint,
  removeGuestEndpoint,
} from "./guest-endpoint.ts";
import { resolveLaunch, worktreeOwner } from "./launch.ts";
import { launchPlan, ownLabels } from "./launch-plan.ts";
import { egressRelay, metadataGuard, PROXY_ENV } from "./netns.ts";
import { removeOrphans, type Unrecorded, unrecordedSandboxes } from "./orphans.ts";
import {
  gatedCommand,
  makeGate,
  openGate,
  PREPARED_LABEL,
  PreparedSandboxes,
  releaseGate,
  requestKey,
  waitsAtGate,
} from "./prepared.ts";
import { type SandboxRecord, summarize } from "./record.ts";
import { recordFromLabels } from "./record-labels.ts";
import { SandboxRegistry } from "./registry.ts";
import { assertSandboxHonoured } from "./settings-check.ts";
import { ShimRuntimes } from "./shim-runtime.ts";
import { type SessionClient, TerminalSession } from "./terminal-session.ts";
import {
  detectToolchainFiles,
  ToolchainError,
  toolchainCommand,
  toolchainPreflight,
} from "./toolchain.ts";
import { sandboxTarget, usesVm, vmLaunchFor } from "./vm-launch.ts";
import type { WorktreeStore } from "./worktree-store.ts";

export interface RunRequest {
  worktree: string;
  agent?: string | undefined;
  command: string[];
  tty: boolean;
  interactive: boolean;
  size?: { rows: number; cols: number } | undefined;
  env: Readonly<Record<string, string>>;
}

const LIVE = new Set(["creating", "running"]);

/** What a run resolves before anything is made: where, with what config, on which engine. */
interface RunTarget {
  worktree: WorktreeRecord;
  config: LoadedConfig["config"];
  vm: VmLaunch | undefined;
  runtime: SandboxRuntime;
  image: string;
  backend: SandboxBackend;
  command: string[];
  owner: { uid: number; gid: number };
}

/** A sandbox made up to its created container, not yet started. */
interface Made {
  record: SandboxRecord;
  /** The launch it was created with (JSON), to tell whether a later run would create the same. */
  launch: string;
  /** The image's id when it was created. */
  imageId: string | undefined;
  /**
   * Files mounted one by one and their inodes when it started: a file replaced since (written
   * anew by renaming, as editors and agents do) is not what the sandbox sees.
   */
  files: string;
  endpoint: GuestEndpoint | undefined;
  /** A claimed prepared sandbox's gate, open for writing: the line that lets its command run. */
  gate?: FileHandle | undefined;
}

/** Sandboxes adopted at once after a restart (each is a few engine calls). */
const RECONCILE_BATCH = 16;

/**
 * Owns every sandbox: creates, attaches, watches, stops, and reconciles after a restart. It
 * reaches sandboxes through a {@link SandboxBackend} only, never an engine's own API.
 */
export class SandboxManager {
  readonly registry: SandboxRegistry;
  readonly #worktrees: WorktreeStore;
  readonly #sessions = new Map<string, TerminalSession>();
  readonly #endpoints = new Map<string, GuestEndpoint>();
  readonly #backends: Backends;
  readonly gitShadows: GitShadows;
  readonly #shimRuntimes = new ShimRuntimes();
  /** The request each running container sandbox was started for, to prepare its next run. */
  readonly #requests = new Map<string, RunRequest>();
  /** Each worktree's next sandbox, made ahead (prepared.ts). */
  readonly #prepared = new PreparedSandboxes<Made>((made) => this.#dropPrepared(made));
  #closing = false;
  /** Per worktree: the request of the last run that ended by itself. */
  readonly #lastEnded = new Map<string, string>();
  /** Worktrees whose last prepared sandbox was not taken by the run that came. */
  readonly #missed = new Set<string>();
  /** Engines swept on first use ({@link #sweepOnFirstUse}). */
  readonly #swept = new Map<SandboxRuntime, Promise<void>>();
  #egress: EgressService | undefined;

  /**
   * The egress proxy and resolvers of sandboxes under `network.policy: deny`, made when first
   * needed (most daemons never run such a sandbox).
   */
  get egress(): EgressService {
    if (this.#egress) return this.#egress;
    const { env, homedir, paths, log } = this.daemon;
    this.#egress = new EgressService({
      dir: path.join(paths.runtimeDir, "egress"),
      log,
      configDirs: globalConfigDirs(env, homedir),
      readPolicy: async () => {
        const network = (await loadGlobalConfig({ env, homedir })).config.sandbox.network;
        return {
          allowed_domains: network?.allowed_domains ?? [],
          allow_private_ips: network?.allow_private_ips ?? [],
        };
      },
      nameServers: env.WM_EGRESS_DNS_SERVERS?.split(",").filter(Boolean),
    });
    return this.#egress;
  }
  /** Settles when {@link reconcile} has run; calls that need the registry wait for it. */
  #markReconciled: () => void = () => undefined;
  readonly #reconciled = new Promise<void>((resolve) => {
    this.#markReconciled = resolve;
  });

  /** Resolves once the records of a previous daemon have been reconciled. */
  ready(): Promise<void> {
    return this.#reconciled;
  }

  constructor(
    private readonly daemon: DaemonContext,
    backends: Backends,
  ) {
    this.registry = new SandboxRegistry(daemon.paths.stateDir, daemon.log);
    this.#worktrees = daemon.worktreeRecords;
    this.gitShadows = new GitShadows(daemon.paths.stateDir, daemon.env, daemon.log);
    this.#backends = backends;
  }

  backend(runtime: SandboxRuntime): SandboxBackend {
    return this.#backends.sandbox(runtime);
  }

  #ownLabels(): Record<string, string> {
    return ownLabels({ uid: process.getuid?.() ?? 0, homeId: this.daemon.homeId });
  }

  get(id: string): SandboxRecord | undefined {
    return this.registry.get(id);
  }

  liveCount(): number {
    return this.registry.all().filter((r) => LIVE.has(r.state)).length;
  }

  list(): SandboxSummary[] {
    return this.registry
      .all()
      .map((r) =>
        summarize(r, this.#sessions.get(r.id)?.clientCount ?? 0, this.#egress?.counts(r.id)),
      );
  }

  /**
   * Records a sandbox's agent status and announces it. A status the record already holds (an
   * agent's hook reports `working` on every tool call) is not written again: each write is two
   * fsyncs on the caller's path. It is still announced, so the worktree's activity moves.
   */
  async setAgentStatus(id: string, status: AgentStatus | null): Promise<void> {
    const current = this.registry.get(id);
    const r =
      current?.agentStatus === status
        ? current
        : await this.registry.update(id, { agentStatus: status });
    if (r)
      this.daemon.events.emit("status", "changed", { sandbox: id, worktree: r.worktree, status });
  }

  /** The git facts of the worktree a sandbox is asked for, as first met. */
  async #worktreeOf(asked: string): Promise<WorktreeRecord> {
    try {
      return await this.#worktrees.get(asked, async (real) => {
        const entry = (await this.daemon.worktrees.state.all()).find((e) => e.path === real);
        return entry
          ? {
              worktreePath: entry.path,
              commonDir: entry.commonDir,
              adminDir: entry.adminDir,
              branch: entry.branch,
            }
          : undefined;
      });
    } catch (err) {
      if (err instanceof GitLayoutError || (err as NodeJS.ErrnoException).code === "ENOENT") {
        throw new RpcError(
          "InvalidParams",
          `${asked}: ${(err as Error).message}; wm sandboxes linked git worktrees (git worktree add / wm add)`,
        );
      }
      throw err;
    }
  }

  async #configAt(worktree: WorktreeRecord): Promise<LoadedConfig> {
    try {
      return await loadConfig({
        cwd: worktree.worktreePath,
        env: this.daemon.env,
        homedir: this.daemon.homedir,
      });
    } catch (err) {
      if (err instanceof ConfigError)
        throw new RpcError("ConfigInvalid", err.message, { diagnostics: err.diagnostics });
      throw err;
    }
  }

  async run(req: RunRequest, client: SessionClient): Promise<SandboxSummary> {
    const target = await this.#target(req);
    const prepared = await this.#claimPrepared(target, req);
    const made = prepared ?? (await this.#make(target, req, { recorded: true }));
    if (target.vm === undefined) this.#requests.set(made.record.id, req);
    return this.#begin(target, made, req, client);
  }

  /** Where a run goes and with what: the worktree, its config, the engine and image, the owner. */
  async #target(req: RunRequest): Promise<RunTarget> {
    const worktree = await this.#worktreeOf(req.worktree);
    const loaded = await this.#configAt(worktree);
    await assertSandboxHonoured(loaded, (r) => this.#backends.engine(r));
    const config = loaded.config;
    const vm = usesVm(config)
      ? vmLaunchFor(config, worktree, {
          stateDir: this.daemon.paths.stateDir,
          homedir: this.daemon.homedir,
        })
      : undefined;
    const { runtime, image } = sandboxTarget(config, req.agent);
    const backend = this.backend(runtime);
    await this.#sweepOnFirstUse(runtime);
    const toolchain = vm ? await this.#toolchain(config, worktree, req.command) : undefined;
    if (vm && toolchain) vm.preflight = toolchain.preflight || undefined;
    await backend.requireImage(image);
    const owner = await worktreeOwner(worktree.worktreePath);
    return {
      worktree,
      config,
      vm,
      runtime,
      image,
      backend,
      command: toolchain?.command ?? req.command,
      owner,
    };
  }

  /**
   * Everything of a sandbox up to its created container: the record (kept in the registry when
   * `recorded`, else only returned: a prepared sandbox), the guest endpoint, the git shadow, the
   * mounts, and the container joined to its network helper.
   */
  async #make(target: RunTarget, req: RunRequest, opts: { recorded: boolean }): Promise<Made> {
    const { daemon } = this;
    const { worktree, config, vm, runtime, image, backend, command, owner } = target;
    const id = `sb-${randomBytes(6).toString("hex")}`;
    const name = this.#uniqueName(path.basename(worktree.worktreePath));
    // A VM's sandboxes reach the daemon through its agent link: a socket in the guest.
    const transport = vm ? "socket" : config.sandbox.rpc_transport;
    const token = transport === "tcp" ? newToken() : undefined;
    // With rpc_transport: tcp refused by assertSandboxHonoured: no route to the daemon.
    const deny = config.sandbox.network?.policy === "deny";
    const record: SandboxRecord = {
      id,
      name,
      worktree: worktree.worktreePath,
      git: {
        commonDir: worktree.commonDir,
        adminDir: worktree.adminDir,
        branch: worktree.branch ?? null,
      },
      runtime,
      image,
      containerName: `wm-${name}-${id.slice(3, 9)}`,
      containerId: null,
      state: "creating",
      exitCode: null,
      createdAt: new Date().toISOString(),
      command,
      tty: req.tty,
      user: `${owner.uid}:${owner.gid}`,
      transport,
      tokenHash: token ? hashToken(token) : null,
      tcpHost: null,
      tcpPort: null,
      agentStatus: null,
      ...(deny ? { egress: true } : {}),
    };
    if (opts.recorded) await this.registry.put(record);
    try {
      const plan: EndpointPlan =
        token && record.tokenHash
          ? {
              transport: "tcp",
              host: await this.#gateway(backend),
              port: 0,
              tokenHash: record.tokenHash,
              token,
            }
          : { transport: "socket" };
      const endpoint = await openGuestEndpoint(daemon, record, owner, plan);
      this.#endpoints.set(id, endpoint);
      if (plan.transport === "tcp") {
        record.tcpHost = plan.host;
        record.tcpPort = endpoint.port;
        if (opts.recorded)
          await this.registry.update(id, { tcpHost: plan.host, tcpPort: endpoint.port });
      }
      const imageId = vm ? undefined : await backend.imageId?.(image);
      const resolved = await this.#resolve(target, req, record, endpoint);
      // Taken before the engine mounts them: a file replaced after this is never taken for it.
      const files = opts.recorded ? "" : await mountedFiles(resolved.mounts);
      // A prepared sandbox starts now and waits at its gate until a run claims it.
      if (!opts.recorded) await makeGate(endpoint.dir, owner);
      const launch: SandboxLaunch = opts.recorded
        ? resolved
        : {
            ...resolved,
            command: gatedCommand(GUEST_MOUNT, resolved.command),
            labels: { ...resolved.labels, [PREPARED_LABEL]: "1" },
          };
      const containerId = await backend.create(
        vm
          ? { ...launch, vm }
          : deny
            ? {
                ...launch,
                env: { ...launch.env, ...PROXY_ENV },
                netns: egressRelay(await this.egress.open(id), launch.mounts, owner),
              }
            : { ...launch, netns: metadataGuard(launch.mounts, this.#ownLabels()) },
      );
      record.containerId = containerId;
      if (opts.recorded) await this.registry.update(id, { containerId });
      else await backend.start(containerId);
      return { record, launch: JSON.stringify(resolved), imageId, files, endpoint };
    } catch (err) {
      if (opts.recorded) return this.#failed(id, err);
      await this.#dropPrepared({
        record,
        launch: "",
        imageId: undefined,
        files: "",
        endpoint: undefined,
      });
      throw err;
    }
  }

  /** The launch of sandbox `record` for `req`: the plan made real on disk (launch.ts). */
  async #resolve(
    target: RunTarget,
    req: RunRequest,
    record: SandboxRecord,
    endpoint: GuestEndpoint,
  ): Promise<SandboxLaunch> {
    const { worktree, config, backend, command, owner } = target;
    const { id, tcpHost, tcpPort, tokenHash } = record;
    const launch = launchPlan(
      config,
      worktree,
      {
        id,
        name: record.name,
        engineName: record.containerName,
        agent: req.agent,
        owner,
        command,
        tty: req.tty,
        interactive: req.interactive,
        size: req.size,
        clientEnv: req.env,
        tcp:
          tcpHost !== null && tcpPort !== null && tokenHash !== null
            ? { host: tcpHost, port: tcpPort, tokenHash }
            : undefined,
      },
      { env: this.daemon.env, ownLabels: this.#ownLabels() },
    );
    return resolveLaunch(this.daemon, launch, {
      worktree,
      endpointMount: endpoint.mount,
      shimRuntimes: this.#shimRuntimes,
      backend,
      gitShadow: await this.gitShadows.prepare(id, worktree, owner, () =>
        this.registry
          .all()
          .some((r) => r.id !== id && r.worktree === worktree.worktreePath && LIVE.has(r.state)),
      ),
    });
  }

  /**
   * The sandbox prepared for this worktree, when it was made for this very run: the same
   * request, and a launch equal to the one this run would create now (config, image, mounts,
   * credentials, environment all unchanged), its container still there and never started. Its
   * git shadow is brought up to date like any new sandbox's. Anything else is dropped.
   */
  async #claimPrepared(target: RunTarget, req: RunRequest): Promise<Made | undefined> {
    if (target.vm) return undefined;
    const worktree = target.worktree.worktreePath;
    const waiting = this.#prepared.has(worktree);
    const made = await this.#prepared.take(worktree, requestKey(req));
    if (waiting && !made) this.#missed.add(worktree);
    if (!made?.endpoint) return undefined;
    const { record, endpoint } = made;
    const fits = await (async () => {
      if (record.runtime !== target.runtime || record.image !== target.image) return false;
      // Its name was free when it was made; another sandbox may have taken it since.
      if (this.registry.all().some((r) => r.name === record.name)) return false;
      const imageId = await target.backend.imageId?.(target.image);
      if (imageId === undefined || imageId !== made.imageId) return false;
      const info = record.containerId
        ? await target.backend.inspect(record.containerId)
        : undefined;
      if (!info?.running) return false;
      const now = await this.#resolve(target, req, record, endpoint);
      if (JSON.stringify(now) !== made.launch) return false;
      if ((await mountedFiles(now.mounts)) !== made.files) return false;
      // Only a sandbox still waiting at its gate is taken.
      return openGate(endpoint.dir);
    })().catch(() => undefined);
    if (!fits) {
      this.#missed.add(worktree);
      void this.#dropPrepared(made);
      return undefined;
    }
    const claimed = { ...record, createdAt: new Date().toISOString() };
    await this.registry.put(claimed);
    return { ...made, record: claimed, gate: fits };
  }

  /** Removes a prepared sandbox that was not claimed: its container, endpoint and state. */
  async #dropPrepared(made: Made): Promise<void> {
    const { record } = made;
    if (this.registry.get(record.id)) return;
    await this.#endpoints
      .get(record.id)
      ?.close()
      .catch(() => undefined);
    this.#endpoints.delete(record.id);
    await removeGuestEndpoint(this.daemon, record.id);
    if (record.containerId)
      await this.backend(record.runtime)
        .remove(record.containerId)
        .catch((err) =>
          this.daemon.log.warn({ err, sandbox: record.id }, "could not remove a prepared sandbox"),
        );
    await this.#egress?.close(record.id).catch(() => undefined);
    this.gitShadows.forget(record.id);
  }

  /**
   * After a sandbox's command ended by itself: the same run is prepared for the worktree's next
   * `wm sandbox run` (container backends only).
   */
  #prepareNext(worktree: string, req: RunRequest): void {
    if (this.#closing || this.daemon.env.WM_SANDBOX_PREPARE === "0") return;
    // A worktree whose last prepared sandbox went unused gets the next one only once a run
    // repeats (one-off commands, scripts running a different command each time).
    const key = requestKey(req);
    const repeated = this.#lastEnded.get(worktree) === key;
    this.#lastEnded.set(worktree, key);
    if (this.#missed.has(worktree) && !repeated) return;
    this.#missed.delete(worktree);
    this.#prepared.add(worktree, key, async () => {
      const target = await this.#target(req);
      // A worktree moved or a VM backend configured since: nothing to prepare.
      if (target.vm || target.worktree.worktreePath !== worktree) return undefined;
      return this.#make(target, req, { recorded: false });
    });
  }

  /** Starts a made sandbox with the client attached; it runs until its command ends. */
  async #begin(
    target: RunTarget,
    made: Made,
    req: RunRequest,
    client: SessionClient,
  ): Promise<SandboxSummary> {
    const { daemon } = this;
    const { backend, runtime, image } = target;
    const { record, endpoint } = made;
    const { id, name } = record;
    const containerId = record.containerId as string;
    try {
      const session = new TerminalSession(id);
      this.#sessions.set(id, session);
      session.attach(client);
      const watch = await this.#connectStreams(backend, id, containerId, req.tty, req.interactive);
      if (made.gate && endpoint) {
        // Prepared: it runs already; the terminal gets its size before the command looks.
        if (req.size && req.tty) await backend.resize(containerId, req.size).catch(() => undefined);
        await releaseGate(endpoint.dir, made.gate);
      } else await backend.start(containerId);
      watch();
      if (record.transport === "tcp" && endpoint)
        admitContainer(endpoint, await backend.inspect(containerId));
      this.gitShadows.running(id);
      if (req.size && req.tty) await backend.resize(containerId, req.size).catch(() => undefined);
      const running = await this.registry.update(id, { state: "running" });
      daemon.log.info(
        { sandbox: id, worktree: record.worktree, runtime, image, prepared: !!made.gate },
        "sandbox started",
      );
      daemon.events.emit("sandbox", "started", { id, name, worktree: record.worktree });
      return summarize(running ?? record, session.clientCount, this.#egress?.counts(id));
    } catch (err) {
      return this.#failed(id, err);
    }
  }

  /** A sandbox that could not start: everything of it is removed and the cause told. */
  async #failed(id: string, err: unknown): Promise<never> {
    this.daemon.log.error({ err, sandbox: id }, "sandbox failed to start");
    this.#requests.delete(id);
    await this.#cleanup(id, { removeRecord: true });
    if (err instanceof MountRefusedError) throw new RpcError("Refused", err.message);
    if (err instanceof AgentConfigDirError) throw new RpcError("ConfigInvalid", err.message);
    if (err instanceof RpcError) throw err;
    throw new RpcError("Unavailable", `could not start the sandbox: ${(err as Error).message}`);
  }

  async attach(
    id: string,
    client: SessionClient,
    size?: { rows: number; cols: number },
  ): Promise<SandboxSummary> {
    const record = this.registry.find(id);
    if (!record)
      throw new RpcError("NotFound", `no sandbox named "${id}"; see \`wm sandbox list\``);
    const session = this.#sessions.get(record.id) ?? new TerminalSession(record.id);
    if (record.state === "exited") session.finish(record.exitCode ?? 1);
    session.attach(client);
    if (size && record.tty && record.containerId && record.state === "running") {
      await this.backend(record.runtime)
        .resize(record.containerId, size)
        .catch(() => undefined);
    }
    if (record.state === "exited") await this.registry.delete(record.id);
    return summarize(record, session.clientCount, this.#egress?.counts(record.id));
  }

  async resize(id: string, size: { rows: number; cols: number }): Promise<void> {
    const r = this.#live(id);
    if (r.tty && r.containerId) await this.backend(r.runtime).resize(r.containerId, size);
  }

  async signal(id: string, signal: string): Promise<void> {
    const r = this.#live(id);
    if (r.containerId) await this.backend(r.runtime).signal(r.containerId, signal);
  }

  input(id: string, frame: Buffer): void {
    this.#sessions.get(id)?.input(frame);
  }

  async stop(
    names: readonly string[],
    all: boolean,
  ): Promise<{ stopped: string[]; notFound: string[] }> {
    const targets = all ? this.registry.all() : [];
    const notFound: string[] = [];
    for (const n of names) {
      const r = this.registry.find(n);
      if (r) targets.push(r);
      else notFound.push(n);
    }
    const stopped: string[] = [];
    for (const r of targets) {
      if (r.containerId && LIVE.has(r.state)) {
        await this.backend(r.runtime)
          .stop(r.containerId, 5)
          .catch(() => undefined);
      }
      await this.#cleanup(r.id, { removeRecord: true, exitCode: 143, reason: "stopped" });
      stopped.push(r.name);
    }
    return { stopped, notFound };
  }

  /** Stop every live sandbox of a worktree (its window was closed or it is being removed). */
  async stopWorktree(worktree: string): Promise<string[]> {
    await this.ready();
    this.#prepared.discard(worktree);
    this.#lastEnded.delete(worktree);
    this.#missed.delete(worktree);
    const names = this.registry
      .all()
      .filter((r) => r.worktree === worktree && LIVE.has(r.state))
      .map((r) => r.id);
    return names.length > 0 ? (await this.stop(names, false)).stopped : [];
  }

  /** The daemon's VMs (none until the VM backend is first used or a VM directory exists). */
  async vms(): Promise<VmSummary[]> {
    return this.#backends.vm().pool.list();
  }

  async stopVms(
    names: readonly string[],
    remove: boolean,
  ): Promise<{ stopped: string[]; removed: string[]; notFound: string[] }> {
    const pool = this.#backends.vm().pool;
    const known = new Set((await pool.list()).map((v) => v.name));
    const out = { stopped: [] as string[], removed: [] as string[], notFound: [] as string[] };
    for (const name of names) {
      if (!known.has(name)) {
        out.notFound.push(name);
        continue;
      }
      // Its sandboxes end with it: their records go first, so nothing waits on a dead link.
      const inside = this.registry
        .all()
        .filter((r) => r.runtime === "vm" && LIVE.has(r.state) && r.containerId?.startsWith(""))
        .filter((r) => pool.get(name)?.sessions.has(r.containerId ?? ""));
      if (inside.length > 0)
        await this.stop(
          inside.map((r) => r.id),
          false,
        );
      if (await pool.stop(name)) out.stopped.push(name);
      if (remove && (await pool.remove(name))) out.removed.push(name);
    }
    return out;
  }

  async prune(): Promise<{
    removedRecords: string[];
    removedContainers: string[];
    removedVms: string[];
  }> {
    const removedRecords: string[] = [];
    for (const r of this.registry.all()) {
      if (!LIVE.has(r.state)) {
        await this.registry.delete(r.id);
        removedRecords.push(r.name);
      }
    }
    const removedContainers = await this.#removeOrphans({ keepRunning: false });
    const removedVms: string[] = [];
    const pool = this.#backends.vm().pool;
    for (const vm of await pool.list()) {
      if (vm.state === "stopped" && (await pool.remove(vm.name))) removedVms.push(vm.name);
    }
    return { removedRecords, removedContainers, removedVms };
  }

  /** After a restart: adopt running containers, clean dead ones and orphans. */
  reconcile(): Promise<void> {
    const done = this.#reconcileAll();
    done.then(this.#markReconciled, this.#markReconciled);
    return done;
  }

  async #reconcileAll(): Promise<void> {
    // Every client waits for this: sandboxes are adopted side by side, a batch at a time.
    const records = await this.registry.load(process.getuid?.() ?? 0);
    // VMs outlive the daemon: take back those still running before anything else.
    await this.#backends
      .vm()
      .pool.adoptAll()
      .catch((err) => this.daemon.log.warn({ err }, "adopting running VMs failed"));
    for (let i = 0; i < records.length; i += RECONCILE_BATCH) {
      await Promise.all(
        records
          .slice(i, i + RECONCILE_BATCH)
          .map((r) =>
            this.#reconcileOne(r).catch((err) =>
              this.daemon.log.error({ err, sandbox: r.id }, "could not reconcile sandbox"),
            ),
          ),
      );
    }
    await this.#adoptUnrecorded().catch((err) =>
      this.daemon.log.warn({ err }, "adopting unrecorded sandboxes failed"),
    );
    await this.#removeOrphans({ keepRunning: true }).catch((err) =>
      this.daemon.log.warn({ err }, "orphan sweep failed"),
    );
  }

  /**
   * Running containers of ours that no record explains (a record lost or damaged while no
   * daemon ran): their record is rebuilt from the container's labels and they are adopted.
   * A live agent is never removed for want of a record.
   */
  async #adoptUnrecorded(): Promise<void> {
    for (const { runtime, sandboxes } of await this.#unrecorded()) {
      for (const c of sandboxes) {
        if (!c.running || (await this.#unclaimedPrepared(c))) continue;
        const record = recordFromLabels(c, runtime);
        if (!record || this.registry.get(record.id)) {
          this.daemon.log.warn(
            { container: c.name },
            "a running sandbox has no record and cannot be rebuilt from its labels; left running",
          );
          continue;
        }
        await this.registry.put(record);
        await this.#reconcileOne(record);
        this.daemon.log.info(
          { sandbox: record.id },
          "rebuilt a lost sandbox record from its container",
        );
      }
    }
  }

  /** Close endpoints only: containers keep running and are adopted by the next daemon. */
  async close(): Promise<void> {
    this.#closing = true;
    this.gitShadows.close();
    await this.#backends
      .vmIfUsed()
      ?.pool.close()
      .catch(() => undefined);
    await Promise.all([...this.#endpoints.values()].map((e) => e.close().catch(() => undefined)));
    this.#endpoints.clear();
    await this.#egress?.closeAll().catch(() => undefined);
  }

  /**
   * Removes what the backends made ahead of need (network holders for the next sandbox). Last
   * in a daemon's stop, after its registration is gone, so a restart does not wait for it.
   */
  async removeSpares(): Promise<void> {
    this.#closing = true;
    await this.#prepared.clear();
    await Promise.all(
      this.#backends.connected().map((r) =>
        this.backend(r)
          .close?.()
          .catch(() => undefined),
      ),
    );
  }

  async #reconcileOne(r: SandboxRecord): Promise<void> {
    const backend = this.backend(r.runtime);
    const info = r.containerId ? await backend.inspect(r.containerId) : undefined;
    if (!info || r.state === "exited") {
      if (r.state !== "exited") await this.#cleanup(r.id, { removeRecord: true });
      return;
    }
    if (!info.running) {
      const exitCode = info.exitCode ?? (await backend.wait(info.handle));
      await backend.remove(info.handle).catch(() => undefined);
      await removeGuestEndpoint(this.daemon, r.id);
      await this.registry.update(r.id, { state: "exited", exitCode });
      return;
    }
    const [uid = 0, gid = 0] = r.user.split(":").map(Number);
    const plan: EndpointPlan =
      r.transport === "tcp" && r.tokenHash && r.tcpHost
        ? { transport: "tcp", host: r.tcpHost, port: r.tcpPort ?? 0, tokenHash: r.tokenHash }
        : { transport: "socket" };
    const endpoint = await openGuestEndpoint(this.daemon, r, { uid, gid }, plan);
    this.#endpoints.set(r.id, endpoint);
    if (r.egress) await this.egress.open(r.id);
    if (plan.transport === "tcp") admitContainer(endpoint, info);
    this.#sessions.set(r.id, new TerminalSession(r.id));
    this.gitShadows.running(r.id, { worktreePath: r.worktree, ...r.git });
    (await this.#connectStreams(backend, r.id, info.handle, r.tty, true))();
    await this.registry.update(r.id, { state: "running" });
    this.daemon.log.info({ sandbox: r.id }, "adopted running sandbox");
  }

  async #connectStreams(
    backend: SandboxBackend,
    id: string,
    containerId: string,
    tty: boolean,
    stdin: boolean,
  ): Promise<() => void> {
    const session = this.#sessions.get(id) as TerminalSession;
    const streams = await backend.attach(containerId, { tty, stdin });
    session.setStdin(streams.stdin);
    const ended = [streams.stdout, streams.stderr].map(
      (s, i) =>
        new Promise<void>((resolve) => {
          s.on("data", (chunk: Buffer) =>
            session.output(i === 0 ? StreamChannel.Stdout : StreamChannel.Stderr, chunk),
          );
          s.once("end", resolve);
          s.once("close", resolve);
          s.once("error", () => resolve());
        }),
    );
    // Waiting on a created-but-not-started container returns at once with 0, so the
    // watch begins only once the container runs.
    return () =>
      void backend.wait(containerId).then(
        async (exitCode) => {
          await Promise.race([Promise.all(ended), new Promise((r) => setTimeout(r, 1000))]);
          streams.close();
          await this.#cleanup(id, { removeRecord: false, exitCode });
        },
        (err) => this.daemon.log.warn({ err, sandbox: id }, "lost track of a sandbox's container"),
      );
  }

  async #cleanup(
    id: string,
    opts: { removeRecord: boolean; exitCode?: number; reason?: string },
  ): Promise<void> {
    const r = this.registry.get(id);
    const session = this.#sessions.get(id);
    const attached = session?.clientCount ?? 0;
    this.#sessions.delete(id);
    const request = this.#requests.get(id);
    this.#requests.delete(id);
    await this.#endpoints
      .get(id)
      ?.close()
      .catch(() => undefined);
    this.#endpoints.delete(id);
    await removeGuestEndpoint(this.daemon, id);
    if (r?.containerId)
      await this.backend(r.runtime)
        .remove(r.containerId)
        .catch(() => undefined);
    await this.#egress?.close(id).catch(() => undefined);
    await this.gitShadows.ended(id);
    if (!r) {
      session?.finish(opts.exitCode ?? 1, opts.reason);
      return;
    }
    if (opts.removeRecord || attached > 0) await this.registry.delete(id);
    else
      await this.registry.update(id, {
        state: "exited",
        exitCode: opts.exitCode ?? null,
        containerId: null,
      });
    // Clients hear of the exit only once the container is gone and the record settled.
    session?.finish(opts.exitCode ?? 1, opts.reason);
    // Its command ended by itself (not stopped, not failed): the next run is likely the same.
    if (request && !opts.removeRecord && opts.reason === undefined)
      this.#prepareNext(r.worktree, request);
    this.daemon.events.emit("sandbox", "exited", {
      id,
      name: r.name,
      worktree: r.worktree,
      exitCode: opts.exitCode ?? null,
    });
  }

  /**
   * An engine other than Docker is swept when the daemon first uses it (Docker's is swept at
   * start): what a killed daemon left there (prepared sandboxes, holders) goes before this
   * daemon creates anything on it, so nothing it makes can be taken for an orphan.
   */
  #sweepOnFirstUse(runtime: SandboxRuntime): Promise<void> {
    if (runtime === "docker" || runtime === "vm") return Promise.resolve();
    let swept = this.#swept.get(runtime);
    if (!swept) {
      swept = this.#removeOrphans({ keepRunning: true, runtime })
        .then(() => undefined)
        .catch((err) => this.daemon.log.warn({ err, runtime }, "orphan sweep failed"));
      this.#swept.set(runtime, swept);
    }
    return swept;
  }

  /**
   * Containers of ours that no record explains; `keepRunning` spares live ones (at start);
   * `runtime` limits it to one engine.
   */
  async #removeOrphans(opts: { keepRunning: boolean; runtime?: RuntimeName }): Promise<string[]> {
    const unrecorded = (await this.#unrecorded()).filter(
      (u) => opts.runtime === undefined || u.runtime === opts.runtime,
    );
    const removed: string[] = [];
    // A killed daemon's prepared sandboxes run (at their gate) but were never anybody's.
    for (const { runtime, sandboxes } of unrecorded) {
      for (const c of sandboxes) {
        if (!c.running || !(await this.#unclaimedPrepared(c))) continue;
        await this.backend(runtime)
          .remove(c.handle)
          .catch(() => undefined);
        removed.push(c.name);
      }
    }
    removed.push(
      ...(await removeOrphans(this.#backends, unrecorded, {
        keepRunning: opts.keepRunning,
        log: this.daemon.log,
      })),
    );
    // Relays whose sandbox is gone (removed behind the daemon's back).
    const runtimes = new Set(["docker" as const, ...this.#backends.connected()]);
    for (const runtime of opts.runtime ? [opts.runtime] : runtimes) {
      const strays = await this.backend(runtime)
        .removeStrays?.(this.#ownLabels())
        .catch(() => []);
      removed.push(...(strays ?? []));
    }
    return removed;
  }

  /**
   * A prepared sandbox no run claimed: its gate is still there, or its endpoint directory is
   * gone (a claimed one's directory holds no gate).
   */
  async #unclaimedPrepared(c: SandboxInfo): Promise<boolean> {
    const id = c.labels["wm.sandbox"];
    if (c.labels[PREPARED_LABEL] === undefined || !id) return false;
    const dir = path.join(this.daemon.paths.sandboxSocketDir, id);
    const exists = await fs.stat(dir).then(
      () => true,
      () => false,
    );
    return !exists || (await waitsAtGate(dir));
  }

  async #unrecorded(): Promise<Unrecorded[]> {
    // A prepared sandbox has no record until it is claimed; it is not an orphan.
    const prepared = this.#prepared.made().map((m) => m.record.containerId);
    const recorded = new Set([...this.registry.all().map((r) => r.containerId), ...prepared]);
    return unrecordedSandboxes(this.#backends, this.#ownLabels(), recorded);
  }

  #live(id: string): SandboxRecord {
    const r = this.registry.find(id);
    if (!r || !LIVE.has(r.state))
      throw new RpcError("NotFound", `no running sandbox named "${id}"`);
    return r;
  }

  #uniqueName(base: string): string {
    const clean = base.replace(/[^A-Za-z0-9_.-]/g, "-").slice(0, 48) || "sandbox";
    const taken = new Set(this.registry.all().map((r) => r.name));
    if (!taken.has(clean)) return clean;
    for (let i = 2; ; i++) if (!taken.has(`${clean}-${i}`)) return `${clean}-${i}`;
  }

  /** `sandbox.toolchain` (VM backend): the command inside devbox/nix, and the guest's check. */
  async #toolchain(
    config: LoadedConfig["config"],
    worktree: WorktreeRecord,
    command: readonly string[],
  ): Promise<{ command: string[]; preflight: string }> {
    try {
      const files = await detectToolchainFiles(worktree.worktreePath);
      const wrapped = toolchainCommand(config.sandbox.toolchain ?? "auto", files, command);
      return { command: wrapped.command, preflight: toolchainPreflight(wrapped.toolchain) };
    } catch (err) {
      if (err instanceof ToolchainError) throw new RpcError("ConfigInvalid", err.message);
      throw err;
    }
  }

  async #gateway(backend: SandboxBackend): Promise<string> {
    const gw = await backend.guestGateway();
    if (!gw)
      throw new RpcError(
        "Unavailable",
        `${backend.runtime} has no bridge network gateway for the TCP endpoint`,
      );
    return gw;
  }
}

/**
 * A TCP endpoint serves its own container's address only. An engine that reports none (a
 * rootless network where guests appear as the host) leaves the token as the only check.
 */
function admitContainer(endpoint: GuestEndpoint, info: SandboxInfo | undefined): void {
  endpoint.admitPeers(info?.address ? [info.address] : "any");
}

/** The regular files among `mounts`' sources, with their inodes (JSON). */
async function mountedFiles(mounts: readonly MountSpec[]): Promise<string> {
  const out: [string, number][] = [];
  for (const m of mounts) {
    const st = await fs.stat(m.source).catch(() => undefined);
    if (st?.isFile()) out.push([m.source, st.ino]);
  }
  return JSON.stringify(out);
}
