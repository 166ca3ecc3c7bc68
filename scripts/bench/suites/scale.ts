// N live sandboxes on one daemon (100; --quick 10; WM_BENCH_SCALE_N): how fast they start,
// the daemon's memory, listings, and status calls from all of them at once and beside a flood.
// The measuring is in ../scale-run.ts, which packages/cli/test/bench-scale.test.ts also runs.
import { spawn } from "node:child_process";
import { promises as fs } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { GUEST_RATE_LIMIT } from "../../../packages/daemon/src/guest/guest-app.ts";
import { makeRepo, WM_BIN } from "../../../packages/testing/src/index.ts";
import { run } from "../container-loop.ts";
import { failedCount, type GuestCalls } from "../scale-guest-calls.ts";
import {
  type CleanupReport,
  type DaemonCpu,
  pacedRate,
  type ScaleOptions,
  type ScaleResult,
  ScaleRun,
} from "../scale-run.ts";
import { type Summary, summarize } from "../stats.ts";
import type { BenchRow, BenchSuite } from "../types.ts";

const IMAGE = "wm-sandbox:demo";
/**
 * `sandbox.run` calls (and the baseline's creates) in flight at once. Docker 20.10 deadlocked
 * here in libnetwork with 100 container starts in flight while other containers exited.
 */
const CONCURRENCY = 16;
/** Run detached to clean up when the suite is interrupted. */
const CLEANUP = fileURLToPath(new URL("../scale-cleanup.ts", import.meta.url));
/** With WM_BENCH_SCALE_PROFILE=DIR the daemon runs under the CPU profiler (see that file). */
const PROFILED_DAEMON = fileURLToPath(new URL("../profiled-daemon.mjs", import.meta.url));

/** A whole number from the environment, at least `min`; `fallback` when unset. */
function count(name: string, fallback: number, min: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === "") return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min)
    throw new Error(`${name} must be a whole number ≥ ${min}, got "${raw}"`);
  return n;
}

const lost = (c: GuestCalls) => c.refused + failedCount(c);

const left = (c: CleanupReport) =>
  c.leftover.length > 0
    ? `LEFT BEHIND: containers ${c.leftover.join(" ")}`
    : `no container of the run left; ${c.recordsLeft} records left`;

function describe(c: GuestCalls): string {
  const failed = Object.entries(c.failed).map(([k, v]) => `${k} ${v}`);
  const made = c.ok + c.refused + failedCount(c);
  return `${c.ok} answered, ${c.refused} refused, ${failedCount(c)} failed${failed.length ? ` (${failed.join(", ")})` : ""}; ${made} calls in ${c.seconds.toFixed(1)} s (${(made / c.seconds).toFixed(0)}/s), the pace fell behind by at most ${c.maxLagMs.toFixed(0)} ms`;
}

/** The daemon's CPU per call over a phase, and how long its main thread waited for a CPU. */
function cpu(d: DaemonCpu, c: GuestCalls): string {
  const calls = c.ok + c.refused + failedCount(c);
  const us = (ms: number) => `${((ms * 1000) / calls).toFixed(0)} µs`;
  return `${us(d.cpuMs)} of CPU per call (main thread ${us(d.mainCpuMs)}); its main thread waited ${(d.mainWaitMs / 1000).toFixed(1)} s for a CPU in ${c.seconds.toFixed(1)} s`;
}

function rows(r: ScaleResult, rate: number): BenchRow[] {
  const row = (
    name: string,
    subject: Summary,
    baselineName: string,
    baseline: Summary,
    rest: Partial<BenchRow> = {},
  ): BenchRow => ({
    suite: "scale",
    name,
    subject,
    baselineName,
    baseline,
    ratio: subject.p50 / baseline.p50,
    ...rest,
  });
  const perSecond = (ms: number[], wallMs: number) => ({
    ...summarize(ms),
    perSecond: (ms.length * 1000) / wallMs,
  });
  const created = perSecond(r.create.ms, r.create.wallMs);
  const rssAtN = summarize(r.rss.atN);
  const rssAfter = summarize([r.rss.afterFloods]);
  const paced = summarize(r.paced.latencies);
  const loud = summarize(r.victimLoud.latencies);
  const pacedLost = lost(r.paced);
  const victimLost = lost(r.victimLoud);
  return [
    row(
      `${r.n} sandboxes created through the daemon (\`sandbox.run\`, each on its own connection), first request to all running; ms = each call`,
      created,
      `${r.n} plain containers created and started over the Engine API, same image and concurrency`,
      perSecond(r.engine.ms, r.engine.wallMs),
      {
        unit: { kind: "rate", name: "sandboxes/s" },
        target: { text: "≥ 5 sandboxes/s", met: created.perSecond >= 5 },
      },
    ),
    row(
      `daemon RSS with ${r.n} sandboxes running`,
      rssAtN,
      "the same daemon idle with no sandbox, before any was created",
      summarize(r.rss.idle),
      {
        unit: { kind: "value", name: "MB" },
        target: { text: "≤ 150 MB", met: rssAtN.p99 <= 150 },
      },
    ),
    row(
      `daemon RSS with ${r.n} sandboxes, after the status floods below`,
      rssAfter,
      "the same daemon idle with no sandbox, before any was created",
      summarize(r.rss.idle),
      {
        unit: { kind: "value", name: "MB" },
        target: { text: "≤ 150 MB", met: rssAfter.p99 <= 150 },
      },
    ),
    row(
      `\`wm sandbox list\` wall time with ${r.n} sandboxes`,
      summarize(r.sandboxList.atN),
      "the same with no sandbox, same daemon",
      summarize(r.sandboxList.idle),
    ),
    row(
      `\`wm list\` wall time with ${r.n} sandboxes (${r.n} worktrees either way)`,
      summarize(r.wmList.atN),
      "the same with no sandbox, same daemon",
      summarize(r.wmList.idle),
    ),
    row(
      `guest \`status.set\` round trip, all ${r.n} sandboxes at ${rate}/s each (measured inside)`,
      paced,
      `one sandbox alone at ${rate}/s, the others idle`,
      summarize(r.victimQuiet.latencies),
      { target: { text: "p99 ≤ 20 ms, 0 lost", met: paced.p99 <= 20 && pacedLost === 0 } },
    ),
    row(
      `guest \`status.set\` round trip at ${rate}/s while a neighbour floods its own endpoint`,
      loud,
      `the same sandbox alone at ${rate}/s, the others idle`,
      summarize(r.victimQuiet.latencies),
      { target: { text: "p99 ≤ 20 ms, 0 lost", met: loud.p99 <= 20 && victimLost === 0 } },
    ),
  ];
}

function report(r: ScaleResult, c: CleanupReport, o: ScaleOptions): string {
  const { rate, floodSeconds } = o;
  const mb = (v: number) => `${v.toFixed(1)} MB`;
  const max = (v: number[]) => Math.max(...v);
  const s = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
  const accepted = r.flooder.ok / r.flooder.seconds;
  return [
    `scale: ${r.n} sandboxes (${r.n * 2} containers: each sandbox and its network helper) running after ${s(r.create.wallMs)}; \`wm sandbox list\` showed ${r.listedRunning}/${r.n} running; the engine alone took ${s(r.engine.wallMs)}`,
    `scale: daemon ${r.daemonPid} RSS idle ${mb(max(r.rss.idle))}, with ${r.n} sandboxes ${mb(max(r.rss.atN))}, after the floods ${mb(r.rss.afterFloods)}, peak ${mb(r.rss.peak)}; same daemon throughout: ${r.sameDaemon ? "yes" : "NO"}`,
    `scale: status flood, ${r.n} × ${rate}/s for ${floodSeconds} s: ${describe(r.paced)} — ${lost(r.paced)} lost`,
    `scale: daemon while every sandbox called: ${cpu(r.daemonCpu.paced, r.paced)}`,
    `scale: victim alone: ${describe(r.victimQuiet)}`,
    `scale: daemon while the victim called alone: ${cpu(r.daemonCpu.quiet, r.victimQuiet)}`,
    `scale: victim beside the flood: ${describe(r.victimLoud)} — ${lost(r.victimLoud)} lost`,
    `scale: flooder: ${r.flooder.ok} answered (~${accepted.toFixed(1)}/s; the limit is ${GUEST_RATE_LIMIT.perSecond}/s, bursts of ${GUEST_RATE_LIMIT.burst}), ${r.flooder.refused} refused by its rate limit, ${failedCount(r.flooder)} failed otherwise`,
    `scale: agents that ended while measured: ${r.exited.length}`,
    `scale: cleanup: \`wm sandbox stop --all\` took ${s(c.stopAllMs)} (exit ${c.stopAllCode}); ${c.removedByLabel} containers removed by label after it; left: ${c.leftover.length} containers, ${c.recordsLeft} records; daemon stopped: ${c.daemonStopped ? "yes" : "NO"}`,
    "",
  ].join("\n");
}

export const scaleSuite: BenchSuite = {
  name: "scale",
  async run(ctx) {
    const { home } = ctx;
    const n = count("WM_BENCH_SCALE_N", ctx.quick ? 10 : 100, 2);
    await fs.chmod(home.root, 0o755);
    await fs.mkdir(home.configDir, { recursive: true });
    await fs.writeFile(path.join(home.configDir, "config.yaml"), "agent: demo\n");
    const branches = Array.from({ length: n }, (_, i) => `scale-${String(i + 1).padStart(3, "0")}`);
    const repo = await makeRepo(path.join(home.root, "src"), branches, { uid: 1000, gid: 1000 });
    await run(process.execPath, [WM_BIN, "sandbox", "build", "--agent", "demo"], home.env);
    const profile = process.env.WM_BENCH_SCALE_PROFILE;
    const options: ScaleOptions = {
      home,
      repo: repo.main,
      worktrees: branches.map((b) => repo.worktrees[b] as string),
      image: IMAGE,
      concurrency: count("WM_BENCH_SCALE_CONCURRENCY", Math.min(n, CONCURRENCY), 1),
      rate: count("WM_BENCH_SCALE_RATE", pacedRate(), 1),
      floodSeconds: ctx.quick ? 10 : 60,
      victimSeconds: ctx.quick ? 5 : 10,
      flooders: 4,
      listCalls: ctx.quick ? 10 : 20,
      daemonEnv: profile
        ? { WM_DAEMON_ENTRY: PROFILED_DAEMON, WM_BENCH_PROFILE_DIR: path.resolve(profile) }
        : undefined,
      log: (line) => process.stdout.write(`scale: ${line}\n`),
    };
    const scale = new ScaleRun(options);
    // On SIGINT or SIGTERM a detached process cleans up (and removes the home), so it finishes
    // even if this one is killed meanwhile; this one exits when it is done. More signals while
    // it works are only noted.
    let signalled: NodeJS.Signals | undefined;
    const onSignal = (signal: NodeJS.Signals) => {
      if (signalled) {
        process.stdout.write(`scale: ${signal}: still cleaning up after ${signalled}\n`);
        return;
      }
      signalled = signal;
      process.stdout.write(`scale: ${signal}: cleaning up\n`);
      scale.handOverCleanup();
      const target = JSON.stringify(scale.cleanupTarget);
      const exit = () => process.exit(signal === "SIGINT" ? 130 : 143);
      spawn(process.execPath, [...process.execArgv, CLEANUP, target, home.root], {
        detached: true,
        stdio: "inherit",
      })
        .once("exit", exit)
        .once("error", exit);
    };
    process.on("SIGINT", onSignal);
    process.on("SIGTERM", onSignal);
    let result: ScaleResult;
    try {
      result = await scale.measure();
    } finally {
      const cleaned = await scale.cleanup();
      process.off("SIGINT", onSignal);
      process.off("SIGTERM", onSignal);
      if (cleaned.leftover.length > 0) process.stdout.write(`scale: ${left(cleaned)}\n`);
    }
    process.stdout.write(report(result, await scale.cleanup(), options));
    return rows(result, options.rate);
  },
};
