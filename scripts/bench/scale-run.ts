// wm with many live sandboxes on one machine: how fast they start, what the daemon holds for
// them, how listings slow down, and whether every sandbox's status calls are answered while all
// of them call at once and while one floods. Used by the `scale` bench suite and its test.
import type { ChildProcess } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import { WsRpc } from "../../packages/cli/src/client/ws-rpc.ts";
import { GUEST_RATE_LIMIT } from "../../packages/daemon/src/guest/guest-app.ts";
import { SANDBOX_EXIT_NOTIFICATION } from "../../packages/protocol/src/streams.ts";
import { runCommand, type TempHome, WM_BIN } from "../../packages/testing/src/index.ts";
import { type CleanupReport, type CleanupTarget, cleanUp } from "./scale-cleanup.ts";
import {
  containersLabelled,
  inPool,
  removeContainers,
  startPlainContainers,
} from "./scale-engine.ts";
import {
  callTogether,
  type GuestCaller,
  type GuestCalls,
  mergeCalls,
  startGuestCaller,
} from "./scale-guest-calls.ts";
import { cpuSince, type DaemonCpu, memoryOf, schedOf } from "./scale-proc.ts";
import { sample } from "./stats.ts";

/**
 * Paced `status.set` calls per second from each sandbox: 50 at most, and 80% of what one
 * sandbox's endpoint accepts on average (GUEST_RATE_LIMIT; beyond it calls are refused), so a
 * refusal or a failure in the paced runs is the daemon's doing, not the pace's.
 */
export function pacedRate(): number {
  return Math.min(50, Math.floor(GUEST_RATE_LIMIT.perSecond * 0.8));
}

export interface ScaleOptions {
  home: TempHome;
  /** The repository's main worktree (`wm list` runs there). */
  repo: string;
  /** One linked worktree per sandbox; at least two. */
  worktrees: readonly string[];
  /** Image of the engine-alone baseline (the agent's sandbox image). */
  image: string;
  /** `sandbox.run` calls in flight at once while creating. */
  concurrency: number;
  /** Paced `status.set` calls per second from each sandbox. */
  rate: number;
  /** How long every sandbox calls at once. */
  floodSeconds: number;
  /** How long the victim is measured, alone and beside the flooder. */
  victimSeconds: number;
  /** Processes in the flooding sandbox calling back to back. */
  flooders: number;
  /** Calls of each listing per measurement. */
  listCalls: number;
  /** More environment for the daemon only (NODE_OPTIONS=--cpu-prof, say). */
  daemonEnv?: NodeJS.ProcessEnv;
  log(line: string): void;
}

export type { CleanupReport } from "./scale-cleanup.ts";
export type { DaemonCpu } from "./scale-proc.ts";

export interface ScaleResult {
  n: number;
  daemonPid: number;
  /** The same daemon answered from the first measurement to the last. */
  sameDaemon: boolean;
  create: { ms: number[]; wallMs: number };
  /** The same number of plain containers started through the engine alone. */
  engine: { ms: number[]; wallMs: number };
  /** Sandboxes `wm sandbox list` showed running once every `sandbox.run` had answered. */
  listedRunning: number;
  /** Daemon RSS in MB (10^6 bytes): idle with no sandbox, and with all N running. */
  rss: { idle: number[]; atN: number[]; afterFloods: number; peak: number };
  sandboxList: { idle: number[]; atN: number[] };
  wmList: { idle: number[]; atN: number[] };
  /** Every sandbox calling at once, paced. */
  paced: GuestCalls;
  victimQuiet: GuestCalls;
  victimLoud: GuestCalls;
  flooder: GuestCalls;
  /** The daemon's CPU while the victim called alone, while all called, and beside the flood. */
  daemonCpu: { quiet: DaemonCpu; paced: DaemonCpu; loud: DaemonCpu };
  /** Sandboxes whose agent ended while measured (there should be none). */
  exited: string[];
}

/** The label value that marks this daemon's containers (daemon.ts: sha256 of its state dir). */
export function homeLabel(home: TempHome): string {
  return createHash("sha256").update(home.stateDir).digest("hex").slice(0, 12);
}

/** A sandbox not running this long after its `sandbox.run` was sent fails the run. */
const CREATE_TIMEOUT_MS = 300_000;

/** `promise`, or an error naming `what` once `ms` have passed without it settling. */
function within<T>(ms: number, what: string, promise: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer in ${ms / 1000} s`)), ms);
  });
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}

/**
 * One measurement run. `measure()` once, then `cleanup()` (also on failure or a signal; it may
 * be called more than once and does its work once).
 */
export class ScaleRun {
  readonly #rpcs: WsRpc[] = [];
  readonly #children = new Set<ChildProcess>();
  /** Labels this run's engine-alone containers (`wm.bench.scale=<id>`). */
  readonly #runLabel = { "wm.bench.scale": randomBytes(6).toString("hex") };
  readonly #exited: string[] = [];
  #pid: number | undefined;
  #cleanup: Promise<CleanupReport> | undefined;

  constructor(private readonly o: ScaleOptions) {
    if (o.worktrees.length < 2) throw new Error("the scale run needs at least two worktrees");
  }

  /** `wm.bench.scale=<id>`: the label on this run's engine-alone containers. */
  get runLabel(): string {
    return `wm.bench.scale=${this.#runLabel["wm.bench.scale"]}`;
  }

  get env(): NodeJS.ProcessEnv {
    return this.o.home.env;
  }

  async #wm(args: string[], opts: { cwd?: string; timeoutMs?: number } = {}): Promise<string> {
    const res = await runCommand(process.execPath, [WM_BIN, ...args], {
      env: this.env,
      cwd: opts.cwd,
      timeoutMs: opts.timeoutMs ?? 60_000,
    });
    if (res.code !== 0) throw new Error(`wm ${args.join(" ")} exited ${res.code}: ${res.stderr}`);
    return res.stdout;
  }

  async #daemonPid(): Promise<number> {
    return JSON.parse(await this.#wm(["daemon", "status", "--json"])).pid as number;
  }

  async #rssSamples(pid: number, count = 5): Promise<number[]> {
    const out: number[] = [];
    for (let i = 0; i < count; i++) {
      if (i > 0) await sleep(200);
      out.push((await memoryOf(pid)).rss);
    }
    return out;
  }

  /** Wall time of `listCalls` of each listing, after two unmeasured ones. */
  async #listings(): Promise<{ sandboxList: number[]; wmList: number[] }> {
    const timed = (args: string[], cwd?: string) =>
      sample(this.o.listCalls, () => this.#wm(args, { cwd }).then(() => undefined), 2);
    const sandboxList = await timed(["sandbox", "list"]);
    return { sandboxList, wmList: await timed(["list"], this.o.repo) };
  }

  /** `sandbox.run` of `sleep infinity` for every worktree, each on its own connection. */
  async #createAll(): Promise<{ ms: number[]; wallMs: number; ids: string[] }> {
    const t0 = performance.now();
    const made = await inPool(this.o.worktrees.length, this.o.concurrency, async (i) => {
      const t = performance.now();
      const worktree = this.o.worktrees[i] as string;
      const rpc = await WsRpc.open(this.o.home.socketPath, {
        onNotification: (method, params) => {
          if (method === SANDBOX_EXIT_NOTIFICATION)
            this.#exited.push(`${worktree}: ${JSON.stringify(params)}`);
        },
        onBinary: () => undefined,
        onClose: () => undefined,
      });
      this.#rpcs.push(rpc);
      const { sandbox } = await within(
        CREATE_TIMEOUT_MS,
        `sandbox.run for ${worktree}`,
        rpc.call("sandbox.run", {
          worktree,
          command: ["sleep", "infinity"],
          tty: false,
          interactive: false,
          env: {},
        }),
      );
      if (sandbox.state !== "running" || !sandbox.containerId)
        throw new Error(`${worktree}: sandbox.run answered ${sandbox.state}`);
      return { ms: performance.now() - t, id: sandbox.containerId };
    });
    return {
      ms: made.map((m) => m.ms),
      wallMs: performance.now() - t0,
      ids: made.map((m) => m.id),
    };
  }

  #track = (c: ChildProcess) => {
    this.#children.add(c);
    c.once("close", () => this.#children.delete(c));
  };

  async measure(): Promise<ScaleResult> {
    const { o } = this;
    const n = o.worktrees.length;
    // A fresh daemon (one that built the image, say, holds what that left behind).
    await this.#wm(["daemon", "stop"]);
    const started = await runCommand(process.execPath, [WM_BIN, "daemon", "start"], {
      env: { ...this.env, ...o.daemonEnv },
      timeoutMs: 60_000,
    });
    if (started.code !== 0) throw new Error(`wm daemon start failed: ${started.stderr}`);
    const pid = await this.#daemonPid();
    this.#pid = pid;

    o.log(`daemon ${pid} idle: RSS and listings with no sandbox`);
    const rssIdle = await this.#rssSamples(pid);
    const idle = await this.#listings();

    o.log(`the engine alone: ${n} plain containers of ${o.image}`);
    const engine = await startPlainContainers({
      n,
      concurrency: o.concurrency,
      image: o.image,
      cmd: ["sleep", "infinity"],
      label: this.#runLabel,
    });
    await removeContainers(await containersLabelled(this.#runLabel));

    o.log(`creating ${n} sandboxes, ${o.concurrency} at a time`);
    const create = await this.#createAll();
    const listed = JSON.parse(await this.#wm(["sandbox", "list", "--json"])).sandboxes as {
      state: string;
      containerId: string | null;
    }[];
    const ours = new Set(create.ids);
    const listedRunning = listed.filter(
      (s) => s.state === "running" && s.containerId && ours.has(s.containerId),
    ).length;

    o.log(`${n} sandboxes running: RSS and listings`);
    const rssAtN = await this.#rssSamples(pid);
    const atN = await this.#listings();

    const [flooderBox, victimBox] = create.ids as [string, string];
    const metered = async (callers: () => GuestCaller[]): Promise<[GuestCalls[], DaemonCpu]> => {
      const started = callers();
      const before = await schedOf(pid);
      const calls = await callTogether(started, this.#track);
      return [calls, cpuSince(before, await schedOf(pid))];
    };
    o.log(`victim alone: ${o.rate} calls/s for ${o.victimSeconds} s`);
    const [[victimQuiet], quietCpu] = await metered(() => [
      startGuestCaller(victimBox, "paced", o.victimSeconds, o.rate),
    ]);

    o.log(`every sandbox: ${o.rate} status.set/s for ${o.floodSeconds} s`);
    const [all, pacedCpu] = await metered(() =>
      create.ids.map((id) => startGuestCaller(id, "paced", o.floodSeconds, o.rate)),
    );
    const paced = mergeCalls(all);

    o.log(`victim beside a flooder (${o.flooders} processes) for ${o.victimSeconds} s`);
    const [[flooder, victimLoud], loudCpu] = await metered(() => [
      startGuestCaller(flooderBox, "flood", o.victimSeconds, o.flooders),
      startGuestCaller(victimBox, "paced", o.victimSeconds, o.rate),
    ]);
    const after = await memoryOf(pid);
    const samePid = await this.#daemonPid();
    return {
      n,
      daemonPid: pid,
      sameDaemon: samePid === pid,
      create: { ms: create.ms, wallMs: create.wallMs },
      engine,
      listedRunning,
      rss: { idle: rssIdle, atN: rssAtN, afterFloods: after.rss, peak: after.peak },
      sandboxList: { idle: idle.sandboxList, atN: atN.sandboxList },
      wmList: { idle: idle.wmList, atN: atN.wmList },
      paced,
      victimQuiet: victimQuiet as GuestCalls,
      victimLoud: victimLoud as GuestCalls,
      flooder: flooder as GuestCalls,
      daemonCpu: { quiet: quietCpu, paced: pacedCpu, loud: loudCpu },
      exited: [...this.#exited],
    };
  }

  /** What a clean-up of this run needs, also in another process (scale-cleanup.ts). */
  get cleanupTarget(): CleanupTarget {
    return {
      env: this.env,
      stateDir: this.o.home.stateDir,
      labels: [{ "wm.home": homeLabel(this.o.home) }, this.#runLabel],
      daemonPid: this.#pid,
      sandboxes: this.o.worktrees.length,
    };
  }

  /** Ends the callers in the containers and closes the sandboxes' connections, at once. */
  stopCallers(): void {
    for (const c of this.#children) c.kill("SIGKILL");
    for (const rpc of this.#rpcs.splice(0)) rpc.close();
  }

  /** Another process cleans up (scale-cleanup.ts, detached): `cleanup()` will never settle. */
  handOverCleanup(): void {
    this.stopCallers();
    this.#cleanup ??= new Promise<CleanupReport>(() => undefined);
  }

  cleanup(): Promise<CleanupReport> {
    this.stopCallers();
    this.#cleanup ??= cleanUp(this.cleanupTarget);
    return this.#cleanup;
  }
}
