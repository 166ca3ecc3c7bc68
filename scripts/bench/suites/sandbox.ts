import { execFileSync } from "node:child_process";
import { promises as fs } from "node:fs";
import path from "node:path";
import {
  type EngineEvent,
  makeRepo,
  WM_BIN,
  watchEngineEvents,
} from "../../../packages/testing/src/index.ts";
import { fromNanos, run } from "../container-loop.ts";
import { sample, summarize } from "../stats.ts";
import type { BenchRow, BenchSuite } from "../types.ts";

/**
 * `n` rounds that each time every command once, measured where they run (nanoseconds), one line
 * per run tagged with the command's index: a busy moment of the machine falls on all of them.
 */
function alternating(n: number, cmds: readonly string[]): string {
  const round = cmds
    .map((c, i) => `s=$(date +%s%N); ${c} >/dev/null; e=$(date +%s%N); echo "${i} $((e - s))"`)
    .join("; ");
  return `i=0; while [ $i -lt ${n} ]; do ${round}; i=$((i + 1)); done`;
}

export const sandboxSuite: BenchSuite = {
  name: "sandbox",
  async run(ctx) {
    const { home } = ctx;
    await fs.mkdir(home.configDir, { recursive: true });
    await fs.writeFile(path.join(home.configDir, "config.yaml"), "agent: demo\n");
    const repo = await makeRepo(path.join(home.root, "src"), ["bench"]);
    const wt = repo.worktrees.bench as string;
    await run(process.execPath, [WM_BIN, "sandbox", "build", "--agent", "demo"], home.env);
    const n = ctx.quick ? 5 : 20;
    const image = "wm-sandbox:demo";
    const runTrue = (env: NodeJS.ProcessEnv) =>
      run(process.execPath, [WM_BIN, "sandbox", "run", "--worktree", wt, "--", "true"], env).then(
        () => undefined,
      );
    // A new sandbox each time: the daemon prepares nothing ahead.
    const fresh = { ...home.env, WM_SANDBOX_PREPARE: "0" };
    const subject = summarize(await sample(n, () => runTrue(fresh), 1));
    execFileSync(process.execPath, [WM_BIN, "daemon", "stop"], { env: fresh });
    const baseline = summarize(
      await sample(
        n,
        () => run("docker", ["run", "--rm", image, "true"], home.env).then(() => undefined),
        1,
      ),
    );
    // The same run again, its sandbox prepared when the last one ended: each is timed once the
    // engine reported the prepared container started (it waits at its gate).
    const events = watchEngineEvents("docker", `wm.worktree=${wt}`);
    const isSandbox = (e: EngineEvent) =>
      e.action === "start" && e.attributes["wm.netns.helper-of"] === undefined;
    /** Waits until the engine has reported `k` sandbox containers of the worktree started. */
    const started = async (k: number) => {
      while (events.seen().filter(isSandbox).length < k) {
        const have = events.seen().filter(isSandbox).length;
        await events.next(
          (e) => isSandbox(e) && events.seen().filter(isSandbox).length > have,
          "a sandbox started",
        );
      }
    };
    const prepared: number[] = [];
    try {
      await runTrue(home.env);
      for (let i = 0; i < n; i++) {
        // The first run started one, and each end so far started the next (claims start none).
        await started(i + 2);
        const t0 = process.hrtime.bigint();
        await runTrue(home.env);
        prepared.push(Number(process.hrtime.bigint() - t0) / 1e6);
      }
    } finally {
      events.close();
    }
    const ready = summarize(prepared);
    const rows: BenchRow[] = [
      {
        suite: "sandbox",
        name: "`wm sandbox run -- true` wall time, a new sandbox",
        subject,
        baselineName: `\`docker run --rm ${image} true\``,
        baseline,
        ratio: subject.p50 / baseline.p50,
        target: { text: "≤ 1.10×", met: subject.p50 / baseline.p50 <= 1.1 },
      },
      {
        suite: "sandbox",
        name: "`wm sandbox run -- true` again, its sandbox prepared when the last one ended",
        subject: ready,
        baselineName: `\`docker run --rm ${image} true\``,
        baseline,
        ratio: ready.p50 / baseline.p50,
        target: { text: "≤ 0.3×", met: ready.p50 / baseline.p50 <= 0.3 },
      },
    ];
    const m = ctx.quick ? 10 : 50;
    const inside = await run(
      process.execPath,
      [
        WM_BIN,
        "sandbox",
        "run",
        "--worktree",
        wt,
        "--",
        "sh",
        "-c",
        alternating(m, [
          "wm status set working",
          "/opt/wm/lib/ld-linux-x86-64.so.2 --library-path /opt/wm/lib /opt/wm/node -e 0",
        ]),
      ],
      home.env,
    );
    const of = (i: number) =>
      inside
        .split("\n")
        .filter((l) => l.startsWith(`${i} `))
        .map((l) => l.slice(2))
        .join("\n");
    const shimSummary = fromNanos(of(0));
    const nodeSummary = fromNanos(of(1));
    rows.push({
      suite: "sandbox",
      name: "shim `wm status set working` round trip, inside a container",
      subject: shimSummary,
      baselineName: "`node -e 0` with the same runtime, same container",
      baseline: nodeSummary,
      ratio: shimSummary.p50 / nodeSummary.p50,
      target: { text: "≤ 50 ms (p50)", met: shimSummary.p50 <= 50 },
    });
    execFileSync(process.execPath, [WM_BIN, "daemon", "stop"], { env: home.env });
    return rows;
  },
};
