import { execFileSync, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { once } from "node:events";
import { createWriteStream, promises as fs } from "node:fs";
import path from "node:path";
import { bwrapArgs } from "../../../packages/daemon/src/host-exec/fence.ts";
import { makeRepo, WM_BIN, waitForRunningSandbox } from "../../../packages/testing/src/index.ts";
import { fromNanos, run, timingLoop } from "../container-loop.ts";
import { type Summary, sample, summarize } from "../stats.ts";
import type { BenchRow, BenchSuite } from "../types.ts";

const GIB = 1024 * 1024 * 1024;

async function writeRandom(file: string, bytes: number): Promise<void> {
  const out = createWriteStream(file);
  const chunk = 16 * 1024 * 1024;
  for (let done = 0; done < bytes; done += chunk) {
    if (!out.write(randomBytes(chunk))) await once(out, "drain");
  }
  out.end();
  await once(out, "close");
}

/**
 * Host commands: what `wm host-exec` adds to starting a command and to moving its bytes.
 * Latency targets: within +15 ms of the direct start; throughput at least 0.7× a direct pipe.
 */
export const hostExecSuite: BenchSuite = {
  name: "host-exec",
  async run(ctx) {
    const { home } = ctx;
    await fs.mkdir(home.configDir, { recursive: true });
    await fs.writeFile(
      path.join(home.configDir, "config.yaml"),
      'agent: demo\nsandbox:\n  host_commands: [cat, "true"]\n',
    );
    // Owned by uid 1000, the user the sandbox then runs as and the commands below run as.
    const repo = await makeRepo(path.join(home.root, "src"), ["bench"], { uid: 1000, gid: 1000 });
    const wt = repo.worktrees.bench as string;
    await run(process.execPath, [WM_BIN, "sandbox", "build", "--agent", "demo"], home.env);
    const client = spawn(
      process.execPath,
      [WM_BIN, "sandbox", "run", "--worktree", wt, "--", "/bin/sleep", "3600"],
      { env: home.env, stdio: "ignore" },
    );
    const rows: BenchRow[] = [];
    try {
      const { containerId } = await waitForRunningSandbox(home.env, (s) => s.name === "bench");
      const inBox = (script: string) =>
        run("docker", ["exec", "-u", "1000:1000", "-w", wt, containerId, "/bin/sh", "-c", script]);

      // 1. Start to exit, inside the container: a host command against the shim's own RPC.
      const m = ctx.quick ? 10 : 50;
      const inside = await inBox(
        `{ ${timingLoop(3, "/opt/wm/bin/wm host-exec true", true)}; ${timingLoop(3, "/opt/wm/bin/wm status", true)}; } >/dev/null; ${timingLoop(m, "/opt/wm/bin/wm host-exec true", true)}; echo ---; ${timingLoop(m, "/opt/wm/bin/wm status", true)}`,
      );
      const [exec = "", status = ""] = inside.split("---");
      rows.push(
        latencyRow(
          "`wm host-exec true` start to exit, inside a container",
          fromNanos(exec),
          "`wm status` (the shim's start and one RPC), same container",
          fromNanos(status),
        ),
      );

      // 2. The daemon's side: spawning the fenced command against spawning it bare.
      const n = ctx.quick ? 50 : 200;
      const trueBin = execFileSync("sh", ["-c", "command -v true"], { encoding: "utf8" }).trim();
      const fenced = bwrapArgs(
        { home: home.root, worktree: wt, gitMounts: [], writable: [], hide: [], cwd: wt },
        [trueBin],
      );
      const bwrapRun = summarize(await sample(n, () => run("bwrap", fenced).then(() => undefined)));
      const bareRun = summarize(await sample(n, () => run(trueBin, []).then(() => undefined)));
      rows.push(
        latencyRow(
          "host spawn of `bwrap … true` (the fence)",
          bwrapRun,
          "host spawn of `true`",
          bareRun,
        ),
      );

      // 3. Throughput: 1 GiB from a host file, through host-exec, into /dev/null in the container.
      const big = path.join(wt, "bench-1g.bin");
      await writeRandom(big, GIB);
      try {
        const k = ctx.quick ? 1 : 3;
        const through = fromNanos(
          await inBox(timingLoop(k, `/opt/wm/bin/wm host-exec cat ${big}`, true)),
        );
        const direct = summarize(
          await sample(
            k,
            () => run("sh", ["-c", `cat '${big}' | cat > /dev/null`]).then(() => undefined),
            1,
          ),
        );
        const ratio = direct.p50 / through.p50;
        const mibs = (s: Summary) => (1024 / (s.p50 / 1000)).toFixed(0);
        rows.push({
          suite: "host-exec",
          name: `1 GiB through \`wm host-exec cat\` into /dev/null in the container (${mibs(through)} MiB/s)`,
          subject: through,
          baselineName: `\`cat FILE | cat > /dev/null\` on the host (${mibs(direct)} MiB/s)`,
          baseline: direct,
          ratio: through.p50 / direct.p50,
          target: {
            text: `throughput ≥ 0.70× the direct pipe: ${ratio.toFixed(2)}×`,
            met: ratio >= 0.7,
          },
        });
      } finally {
        await fs.rm(big, { force: true });
      }
    } finally {
      await run(process.execPath, [WM_BIN, "sandbox", "stop", "--all"], home.env).catch(() => "");
      client.kill("SIGKILL");
      execFileSync(process.execPath, [WM_BIN, "daemon", "stop"], { env: home.env });
    }
    return rows;
  },
};

function latencyRow(
  name: string,
  subject: Summary,
  baselineName: string,
  baseline: Summary,
): BenchRow {
  const extra = subject.p50 - baseline.p50;
  return {
    suite: "host-exec",
    name,
    subject,
    baselineName,
    baseline,
    ratio: subject.p50 / baseline.p50,
    target: {
      text: `p50 within +15 ms of the baseline: +${extra.toFixed(1)} ms`,
      met: extra <= 15,
    },
  };
}
