import { existsSync } from "node:fs";
import { mkdir, readdir, readFile, rm, stat } from "node:fs/promises";
import path from "node:path";
import { atomicWrite } from "../../fs/atomic-write.ts";
import {
  buildVmBase,
  createOverlay,
  type VmBase,
  type VmDiskProgress,
} from "../../images/vm-disk.ts";
import { execTool } from "../../images/vm-exec.ts";
import { AcceleratorChoice, probeAccelerator } from "../qemu/accel.ts";
import { GuestLink } from "../qemu/guest-link.ts";
import {
  AGENT_PORT,
  type AgentRuntime,
  agentCommand,
  guestfwdSocket,
  prepareAgentRuntime,
} from "../qemu/guest-link-runtime.ts";
import { adoptVm, startVm, type VmHandle } from "../qemu/qemu.ts";
import { vmPaths } from "../qemu/qemu-args.ts";
import { missingExports, sharesOf, type VmExport } from "./vm-shares.ts";

type Env = Readonly<Record<string, string | undefined>>;
type Log = {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
};

/** What a VM is made of; written to `<dir>/vm.json` when it is first created. */
export interface VmDefinition {
  name: string;
  /** What the VM serves: a project's git dir, or "shared". */
  scope: string;
  exports: VmExport[];
  cpus: number;
  memoryMiB: number;
  /** The overlay's size limit in bytes (the guest's root disk). */
  diskBytes?: number | undefined;
  /** `sandbox.lima.provision`: run once, as the worktree owner, when the VM is created. */
  provision?: string | undefined;
  provisionUser?: { uid: number; gid: number } | undefined;
  skipDefaultProvision?: boolean | undefined;
}

interface VmState extends VmDefinition {
  createdAt: string;
  provisioned: boolean;
}

export interface VmSummary {
  name: string;
  scope: string;
  state: "running" | "stopped";
  /** Bytes the VM's own disk (its overlay) takes on the host. */
  diskBytes: number;
  /** Seconds since QEMU started, when running. */
  uptimeSeconds: number | null;
  sessions: number;
  cpus: number;
  memoryMiB: number;
}

/** A booted VM with its agent connected. */
export interface RunningVm {
  name: string;
  dir: string;
  vm: VmHandle;
  link: GuestLink;
  state: VmState;
  /** Sandboxes using it; when the last one ends the idle timer starts. */
  sessions: Set<string>;
  idle: NodeJS.Timeout | undefined;
}

export interface VmPoolOptions {
  /** `<stateDir>/vms`: one directory per VM. */
  dir: string;
  stateDir: string;
  env: Env;
  log: Log;
  shimBundle: () => string;
  /** A VM with no sandbox stops after this long (0: never). */
  idleMs: number;
  onProgress?: ((p: VmDiskProgress) => void) | undefined;
}

/** The guest agent has this long to connect after QEMU starts (software emulation is slow). */
const AGENT_DEADLINE_MS = 240_000;

/**
 * Default provisioning, as root (nothing the offline base lacks is fetched): the root file
 * system grown to the disk's size, and the agent's home given to the worktree's owner.
 */
function defaultProvision(user: { uid: number; gid: number }): string {
  return [
    "resize2fs /dev/vda >/dev/null 2>&1 || true",
    "mkdir -p /home/agent",
    `chown ${user.uid}:${user.gid} /home/agent`,
    "chmod 0755 /home/agent",
  ].join(" && ");
}

/**
 * The daemon's VMs: created on first use from the offline base, kept running between sandboxes,
 * stopped when idle, found again after a daemon restart. One lock per VM name orders every
 * start, stop and removal of it.
 */
export class VmPool {
  readonly #o: VmPoolOptions;
  readonly #running = new Map<string, RunningVm>();
  readonly #locks = new Map<string, Promise<unknown>>();
  readonly #accel: AcceleratorChoice;
  #base: Promise<VmBase> | undefined;
  #runtime: Promise<AgentRuntime> | undefined;

  constructor(opts: VmPoolOptions) {
    this.#o = opts;
    this.#accel = new AcceleratorChoice(async () => {
      const base = await this.base();
      return probeAccelerator({ kernel: base.kernel, initrd: base.initrd, env: opts.env });
    });
  }

  /** The offline base (built on first use, then cached). */
  base(): Promise<VmBase> {
    this.#base ??= buildVmBase({ env: this.#o.env, onProgress: this.#o.onProgress }).catch(
      (err) => {
        this.#base = undefined;
        throw err;
      },
    );
    return this.#base;
  }

  #agentRuntime(): Promise<AgentRuntime> {
    this.#runtime ??= prepareAgentRuntime({
      stateDir: this.#o.stateDir,
      shimBundle: this.#o.shimBundle(),
    });
    return this.#runtime;
  }

  #locked<T>(name: string, fn: () => Promise<T>): Promise<T> {
    const prev = this.#locks.get(name) ?? Promise.resolve();
    const next = prev.then(fn, fn);
    this.#locks.set(
      name,
      next.catch(() => undefined),
    );
    return next;
  }

  /**
   * The VM `def` names, running with its agent connected, for sandbox `sandbox`. A VM that
   * lacks an export `def` needs is restarted with it when no sandbox uses it, else refused.
   */
  acquire(def: VmDefinition, sandbox: string): Promise<RunningVm> {
    return this.#locked(def.name, async () => {
      let vm = this.#running.get(def.name) ?? (await this.#adopt(def.name));
      if (vm) {
        const missing = missingExports(vm.state.exports, def.exports);
        if (missing.length > 0) {
          if (vm.sessions.size > 0) {
            throw new VmBusyError(
              `VM ${def.name} was started without ${missing.map((m) => m.hostPath).join(", ")}, which this sandbox needs, and ${vm.sessions.size} sandbox(es) still use it; stop them (wm sandbox stop) and run again, or stop the VM (wm sandbox stop --vm ${def.name})`,
            );
          }
          this.#o.log.info(
            { vm: def.name, missing: missing.map((m) => m.hostPath) },
            "restarting the VM with more exports",
          );
          await this.#stopRunning(vm);
          vm = undefined;
        }
      }
      vm ??= await this.#boot(def);
      if (!vm.state.provisioned) {
        try {
          await this.#provision(vm, def);
        } catch (err) {
          // Kept running for inspection; the next sandbox of this VM provisions it again.
          throw new ProvisionError(
            `provisioning VM ${def.name} failed: ${(err as Error).message}; the VM is kept for inspection (see ${path.join(vm.dir, "provision.log")}; wm sandbox stop --vm ${def.name} --rm to start over)`,
          );
        }
        vm.state.provisioned = true;
        await this.#writeState(def.name, vm.state);
      }
      if (vm.idle) clearTimeout(vm.idle);
      vm.idle = undefined;
      vm.sessions.add(sandbox);
      return vm;
    });
  }

  /** Sandbox `sandbox` no longer uses VM `name`. */
  release(name: string, sandbox: string): void {
    const vm = this.#running.get(name);
    if (!vm?.sessions.delete(sandbox) || vm.sessions.size > 0) return;
    this.#armIdle(vm);
  }

  /** With no sandbox in it, the VM stops after the idle time (a new sandbox disarms it). */
  #armIdle(vm: RunningVm): void {
    if (this.#o.idleMs <= 0 || vm.idle) return;
    vm.idle = setTimeout(() => {
      vm.idle = undefined;
      if (vm.sessions.size === 0)
        void this.stop(vm.name).then(
          () => this.#o.log.info({ vm: vm.name }, "stopped an idle VM"),
          (err) => this.#o.log.warn({ err, vm: vm.name }, "could not stop an idle VM"),
        );
    }, this.#o.idleMs);
    vm.idle.unref();
  }

  /** The directory holding one directory per VM. */
  get dir(): string {
    return this.#o.dir;
  }

  /** A running VM this daemon knows (started or adopted). */
  get(name: string): RunningVm | undefined {
    return this.#running.get(name);
  }

  /** After a restart: every VM whose QEMU still runs is adopted. */
  async adoptAll(): Promise<string[]> {
    const adopted: string[] = [];
    for (const name of await this.#names()) {
      const vm = await this.#locked(name, () => this.#adopt(name)).catch(() => undefined);
      if (vm) adopted.push(name);
    }
    return adopted;
  }

  async list(): Promise<VmSummary[]> {
    const out: VmSummary[] = [];
    for (const name of await this.#names()) {
      const state = await this.#readState(name);
      if (!state) continue;
      const dir = this.#dir(name);
      const running = this.#running.get(name);
      const disk = await stat(path.join(dir, "root.qcow2")).catch(() => undefined);
      let uptime: number | null = null;
      if (running) {
        const pid = await stat(vmPaths(dir).pidfile).catch(() => undefined);
        uptime = pid ? Math.max(0, Math.round((Date.now() - pid.mtimeMs) / 1000)) : null;
      }
      out.push({
        name,
        scope: state.scope,
        state: running ? "running" : "stopped",
        diskBytes: disk ? disk.blocks * 512 : 0,
        uptimeSeconds: uptime,
        sessions: running?.sessions.size ?? 0,
        cpus: state.cpus,
        memoryMiB: state.memoryMiB,
      });
    }
    return out;
  }

  /** Stops VM `name` (its sandboxes end with it); its disk is kept. False when not running. */
  stop(name: string): Promise<boolean> {
    return this.#locked(name, async () => {
      const vm = this.#running.get(name) ?? (await this.#adopt(name));
      if (!vm) return false;
      await this.#stopRunning(vm);
      return true;
    });
  }

  /** Stops and deletes VM `name`, disk and all. False when there was none. */
  remove(name: string): Promise<boolean> {
    return this.#locked(name, async () => {
      const dir = this.#dir(name);
      if (!existsSync(dir)) return false;
      const vm = this.#running.get(name) ?? (await this.#adopt(name));
      if (vm) await this.#stopRunning(vm);
      await rm(dir, { recursive: true, force: true });
      return true;
    });
  }

  /** The daemon is going away: VMs keep running and are adopted by the next one. */
  async close(): Promise<void> {
    for (const vm of this.#running.values()) {
      if (vm.idle) clearTimeout(vm.idle);
      vm.vm.detach();
      await vm.link.close().catch(() => undefined);
    }
    this.#running.clear();
  }

  #dir(name: string): string {
    return path.join(this.#o.dir, name);
  }

  async #names(): Promise<string[]> {
    const names = await readdir(this.#o.dir).catch(() => [] as string[]);
    return names.filter((n) => /^wm-[A-Za-z0-9_.-]+$/.test(n)).sort();
  }

  async #readState(name: string): Promise<VmState | undefined> {
    try {
      return JSON.parse(await readFile(path.join(this.#dir(name), "vm.json"), "utf8")) as VmState;
    } catch {
      return undefined;
    }
  }

  async #writeState(name: string, state: VmState): Promise<void> {
    await atomicWrite(
      path.join(this.#dir(name), "vm.json"),
      `${JSON.stringify(state, null, 2)}\n`,
      0o600,
    );
  }

  async #stopRunning(vm: RunningVm): Promise<void> {
    if (vm.idle) clearTimeout(vm.idle);
    this.#running.delete(vm.name);
    await vm.vm.stop(20_000);
    await vm.link.close().catch(() => undefined);
  }

  /** A VM whose QEMU outlived the daemon: its link is served again and its agent reconnects. */
  async #adopt(name: string): Promise<RunningVm | undefined> {
    const dir = this.#dir(name);
    const state = await this.#readState(name);
    if (!state) return undefined;
    const found = await adoptVm(dir);
    if (found.state !== "running") return undefined;
    const link = await GuestLink.listen(path.join(dir, "agent.sock"));
    try {
      await link.waitForAgent(30_000);
    } catch (err) {
      await link.close();
      found.vm.detach();
      this.#o.log.warn({ err, vm: name }, "a running VM's agent did not come back; stopping it");
      await adoptVm(dir).then((again) =>
        again.state === "running" ? again.vm.stop(10_000) : undefined,
      );
      return undefined;
    }
    const vm: RunningVm = {
      name,
      dir,
      vm: found.vm,
      link,
      state,
      sessions: new Set(),
      idle: undefined,
    };
    this.#watch(vm);
    this.#running.set(name, vm);
    this.#o.log.info({ vm: name, pid: found.vm.pid }, "adopted a running VM");
    // Sandboxes do not outlive a daemon: an adopted VM starts out idle.
    this.#armIdle(vm);
    return vm;
  }

  async #boot(def: VmDefinition): Promise<RunningVm> {
    const dir = this.#dir(def.name);
    await mkdir(dir, { recursive: true, mode: 0o700 });
    const previous = await this.#readState(def.name);
    const state: VmState = {
      ...def,
      createdAt: previous?.createdAt ?? new Date().toISOString(),
      provisioned: previous?.provisioned ?? false,
    };
    const [base, runtime, accel] = await Promise.all([
      this.base(),
      this.#agentRuntime(),
      this.#accel.get(),
    ]);
    const disk = path.join(dir, "root.qcow2");
    if (!existsSync(disk)) {
      await createOverlay(base, disk, this.#o.env);
      if (def.diskBytes)
        await execTool("qemu-img", ["resize", "-q", disk, String(def.diskBytes)], {
          env: this.#o.env,
        });
    }
    await this.#writeState(def.name, state);
    const link = await GuestLink.listen(path.join(dir, "agent.sock"));
    let handle: VmHandle | undefined;
    try {
      handle = await startVm(
        {
          dir,
          name: def.name,
          cpus: def.cpus,
          memoryMiB: def.memoryMiB,
          kernel: base.kernel,
          initrd: base.initrd,
          disk,
          shares: [
            runtime.share,
            ...sharesOf(def.exports, process.getuid?.() === 0 ? "passthrough" : "none"),
          ],
          command: agentCommand(),
          network: { guestfwd: { port: AGENT_PORT, socketPath: guestfwdSocket(link.socketPath) } },
        },
        accel.accel,
        this.#o.env,
      );
      this.#o.log.info({ vm: def.name, accel: accel.accel, pid: handle.pid }, "VM started");
      const agent = await Promise.race([
        link.waitForAgent(AGENT_DEADLINE_MS),
        handle.exited.then(async () => {
          const serial = await readFile(handle?.serialLog ?? "", "utf8").catch(() => "");
          throw new Error(
            `the VM powered off before its agent connected: ${serial.trim().split("\n").slice(-5).join(" / ")}`,
          );
        }),
      ]);
      if (!agent.pty) this.#o.log.warn({ vm: def.name }, "the VM's agent has no terminals");
    } catch (err) {
      await link.close();
      if (handle) await handle.stop(5_000).catch(() => undefined);
      throw err;
    }
    const vm: RunningVm = {
      name: def.name,
      dir,
      vm: handle,
      link,
      state,
      sessions: new Set(),
      idle: undefined,
    };
    this.#watch(vm);
    this.#running.set(def.name, vm);
    return vm;
  }

  /** QEMU gone (powered off, killed): forget it. */
  #watch(vm: RunningVm): void {
    void vm.vm.exited.then(() => {
      if (this.#running.get(vm.name) === vm) {
        this.#running.delete(vm.name);
        if (vm.idle) clearTimeout(vm.idle);
        void vm.link.close().catch(() => undefined);
        this.#o.log.warn({ vm: vm.name }, "VM exited");
      }
    });
  }

  async #provision(vm: RunningVm, def: VmDefinition): Promise<void> {
    const logFile = path.join(vm.dir, "provision.log");
    let log = "";
    const run = async (what: string, argv: string[], env?: Record<string, string>) => {
      const p = vm.link.exec(argv, { cwd: "/", env });
      const take = (d: Buffer) => {
        log += d.toString("utf8");
        for (const line of d.toString("utf8").split("\n").filter(Boolean))
          this.#o.onProgress?.({ phase: "done", message: `provision ${what}: ${line}` });
      };
      p.stdout.on("data", take);
      p.stderr.on("data", take);
      p.stdin.end();
      const code = await p.exited;
      await atomicWrite(logFile, log, 0o600);
      if (code !== 0)
        throw new Error(
          `the ${what} script exited with ${code}${p.error ? ` (${p.error})` : ""}: ${log.trim().split("\n").slice(-3).join(" / ")}`,
        );
    };
    const u = def.provisionUser ?? { uid: 0, gid: 0 };
    if (!def.skipDefaultProvision) await run("default", ["/bin/sh", "-c", defaultProvision(u)]);
    if (def.provision) {
      await run(
        "sandbox.lima.provision",
        [
          "setpriv",
          `--reuid=${u.uid}`,
          `--regid=${u.gid}`,
          "--clear-groups",
          "/bin/sh",
          "-c",
          def.provision,
        ],
        { HOME: "/home/agent" },
      );
    }
  }
}

/** How long a VM with no sandbox keeps running: `WM_VM_IDLE_SECONDS` (0: until stopped), 30 min. */
export function vmIdleMs(env: Env): number {
  const n = Number(env.WM_VM_IDLE_SECONDS);
  return (Number.isFinite(n) && n >= 0 && env.WM_VM_IDLE_SECONDS !== "" ? n : 1800) * 1000;
}

export class VmBusyError extends Error {}
export class ProvisionError extends Error {}
