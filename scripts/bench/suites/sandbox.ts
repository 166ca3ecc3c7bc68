import { execFileSync } from "node:child_process";
import { promises as fs } from "node:fs";
import path from "node:path";
import { makeRepo, WM_BIN } from "../../../packages/testing/src/index.ts";
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
    const subject = summarize(
      await sample(
        n,
        () =>
          run(
            process.execPath,
            [WM_BIN, "sandbox", "run", "--worktree", wt, "--", "true"],
            home.env,
          ).then(() => undefined),
        1,
      ),
    );
    const baseline = summarize(
      await sample(
        n,
        () => run("docker", ["run", "--rm", image, "true"], home.env).then(() => undefined),
        1,
      ),
    );
    const rows: BenchRow[] = [
      {
        suite: "sandbox",
        name: "`wm sandbox run -- true` wall time",
        subject,
        baselineName: `\`docker run --rm ${image} true\``,
        baseline,
        ratio: subject.p50 / baseline.p50,
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
