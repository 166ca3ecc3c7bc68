import { promises as fs } from "node:fs";
import os from "node:os";
import path from "node:path";
import { VmPool } from "../../../packages/daemon/src/backends/vm/vm-pool.ts";
import { withSbin } from "../../../packages/daemon/src/images/vm-exec.ts";
import { findShimBundle } from "../../../packages/daemon/src/sandbox/shim-runtime.ts";
import { makeRepo, WM_BIN } from "../../../packages/testing/src/index.ts";
import { run } from "../container-loop.ts";
import { sample, summarize } from "../stats.ts";
import type { BenchRow, BenchSuite } from "../types.ts";

const quiet = { info: () => undefined, warn: () => undefined };

/**
 * The VM backend: a cold boot to the guest agent's connection (QEMU start, kernel, init, the
 * agent's WebSocket through guestfwd), and a new sandbox in a running VM, each beside
 * `docker run --rm` of the container base measured in the same run.
 */
export const vmSuite: BenchSuite = {
  name: "vm",
  async run(ctx) {
    const { home } = ctx;
    // The offline VM disk is cached beside the Debian tarball build-base-image.sh made.
    const env = { ...home.env, XDG_CACHE_HOME: path.join(os.homedir(), ".cache") };
    await fs.mkdir(home.configDir, { recursive: true });
    await fs.writeFile(
      path.join(home.configDir, "config.yaml"),
      "agent: demo\nsandbox:\n  backend: lima\n  lima:\n    cpus: 2\n    memory: 1GiB\n    disk: 8GiB\n",
    );
    const image = "wm-sandbox:demo";
    await run(process.execPath, [WM_BIN, "sandbox", "build", "--agent", "demo"], env);
    const docker = () => run("docker", ["run", "--rm", image, "true"], env).then(() => undefined);

    const pool = new VmPool({
      dir: path.join(home.stateDir, "bench-vms"),
      stateDir: home.stateDir,
      env: withSbin(env),
      log: quiet,
      shimBundle: () => findShimBundle(env),
      idleMs: 0,
    });
    await pool.base();
    const boots = ctx.quick ? 2 : 5;
    const def = { name: "wm-bench", scope: "bench", exports: [], cpus: 2, memoryMiB: 1024 };
    // Each sample is QEMU's start to the agent's hello; the stop after it is not timed.
    const bootSamples: number[] = [];
    for (let i = 0; i <= boots; i++) {
      const t0 = process.hrtime.bigint();
      const vm = await pool.acquire(def, `s${i}`);
      if (i > 0) bootSamples.push(Number(process.hrtime.bigint() - t0) / 1e6);
      pool.release(vm.name, `s${i}`);
      await pool.stop(vm.name);
    }
    await pool.remove("wm-bench");
    const boot = summarize(bootSamples);
    const dockerBoot = summarize(await sample(boots, docker, 1));

    const repo = await makeRepo(path.join(home.root, "src"), ["bench"]);
    const wt = repo.worktrees.bench as string;
    const wmRun = () =>
      run(process.execPath, [WM_BIN, "sandbox", "run", "--worktree", wt, "--", "true"], env).then(
        () => undefined,
      );
    const n = ctx.quick ? 5 : 15;
    const session = summarize(await sample(n, wmRun, 1)); // the warm-up boots the VM
    const dockerSession = summarize(await sample(n, docker, 1));
    const listed = JSON.parse(
      await run(process.execPath, [WM_BIN, "sandbox", "list", "--json"], env),
    ) as { vms: { name: string }[] };
    await run(
      process.execPath,
      [WM_BIN, "sandbox", "stop", "--vm", "--rm", ...listed.vms.map((v) => v.name)],
      env,
    );
    await run(process.execPath, [WM_BIN, "daemon", "stop"], env);
    const rows: BenchRow[] = [
      {
        suite: "vm",
        name: "VM cold boot to the guest agent connected",
        subject: boot,
        baselineName: `\`docker run --rm ${image} true\``,
        baseline: dockerBoot,
        ratio: boot.p50 / dockerBoot.p50,
        target: { text: "≤ 8 s (p50, software emulation)", met: boot.p50 <= 8000 },
      },
      {
        suite: "vm",
        name: "`wm sandbox run -- true` in a running VM",
        subject: session,
        baselineName: `\`docker run --rm ${image} true\``,
        baseline: dockerSession,
        ratio: session.p50 / dockerSession.p50,
      },
    ];
    return rows;
  },
};
