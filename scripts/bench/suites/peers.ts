// Opt-in (`pnpm bench --peers`): wm beside another tool that starts containers for a workspace,
// the Dev Containers CLI, and beside raw `docker`, on the same local image in the same run.
import { execFileSync } from "node:child_process";
import { promises as fs, rmSync } from "node:fs";
import path from "node:path";
import {
  makeRepo,
  runCommand,
  type TempHome,
  WM_BIN,
} from "../../../packages/testing/src/index.ts";
import { run } from "../container-loop.ts";
import {
  DEVCONTAINER_CLI,
  DEVCONTAINER_CLI_VERSION,
  DevcontainerWorkspace,
  installDevcontainerCli,
  requireLocalImage,
} from "../peers/devcontainer-cli.ts";
import { summarize } from "../stats.ts";
import type { BenchRow, BenchSuite } from "../types.ts";

const BASE_IMAGE = "wm-base:bookworm";
const IMAGE = "wm-sandbox:demo";

interface Step {
  /** Untimed, before the timed part. */
  before?: () => Promise<unknown>;
  timed: () => Promise<unknown>;
  /** Untimed, after it. */
  after?: () => Promise<unknown>;
}

/**
 * Each step once per round, the order rotating from round to round, so a machine getting busier
 * or quieter falls on every side alike. One round first is not counted.
 */
async function interleave<K extends string>(
  n: number,
  steps: Record<K, Step>,
): Promise<Record<K, number[]>> {
  const keys = Object.keys(steps) as K[];
  const out = Object.fromEntries(keys.map((k) => [k, [] as number[]])) as Record<K, number[]>;
  for (let r = -1; r < n; r++) {
    for (let i = 0; i < keys.length; i++) {
      const k = keys[(Math.max(r, 0) + i) % keys.length] as K;
      const step = steps[k];
      await step.before?.();
      const t0 = process.hrtime.bigint();
      await step.timed();
      if (r >= 0) out[k].push(Number(process.hrtime.bigint() - t0) / 1e6);
      await step.after?.();
    }
  }
  return out;
}

/**
 * When the run is interrupted (Ctrl-C, SIGTERM), removes the peer's containers, stops the temp
 * home's daemon and removes the home before exiting: the usual clean-up would not run.
 */
function cleanUpOnSignal(ws: DevcontainerWorkspace, home: TempHome): () => void {
  const onSignal = () => {
    const sync = (cmd: string, args: string[], env?: NodeJS.ProcessEnv) => {
      try {
        return execFileSync(cmd, args, { env, encoding: "utf8", timeout: 30_000 });
      } catch {
        return "";
      }
    };
    const ids = sync("docker", ["ps", "-aq", "--filter", ws.labelFilter]).split("\n");
    if (ids.some(Boolean)) sync("docker", ["rm", "-f", ...ids.filter(Boolean)]);
    sync(process.execPath, [WM_BIN, "daemon", "stop"], home.env);
    rmSync(home.root, { recursive: true, force: true });
    process.exit(130);
  };
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);
  return () => {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
  };
}

export const peersSuite: BenchSuite = {
  name: "peers",
  async run(ctx) {
    const { home } = ctx;
    const peer = `${DEVCONTAINER_CLI}@${DEVCONTAINER_CLI_VERSION}`;
    await requireLocalImage(BASE_IMAGE, "build it with `sudo bash scripts/build-base-image.sh`");
    const cli = await installDevcontainerCli();
    await fs.mkdir(home.configDir, { recursive: true });
    await fs.writeFile(path.join(home.configDir, "config.yaml"), "agent: demo\n");
    const repo = await makeRepo(path.join(home.root, "src"), ["bench"]);
    const wt = repo.worktrees.bench as string;
    const wmArgs = [WM_BIN, "sandbox", "build", "--agent", "demo"];
    const build = await runCommand(process.execPath, wmArgs, { env: home.env });
    if (build.code !== 0)
      throw new Error(
        `peers: wm sandbox build --agent demo exited ${build.code}:\n${build.stderr.trim().split("\n").slice(-20).join("\n")}`,
      );
    await requireLocalImage(IMAGE, "`wm sandbox build --agent demo` should have built it");

    const tmp = path.join(home.root, "peer-tmp");
    await fs.mkdir(tmp, { recursive: true });
    const ws = new DevcontainerWorkspace(
      cli,
      path.join(home.root, "peer-workspace"),
      tmp,
      home.env,
    );
    await ws.create(IMAGE);
    const stopCleaningUpOnSignal = cleanUpOnSignal(ws, home);
    try {
      // 1. Start: a new sandbox running `true`, a dev container up, a plain container.
      const start = await interleave(ctx.quick ? 3 : 10, {
        wm: {
          timed: () =>
            run(
              process.execPath,
              [WM_BIN, "sandbox", "run", "--worktree", wt, "--", "true"],
              home.env,
            ),
        },
        up: {
          before: () => ws.freshManifest(),
          timed: () => ws.up(),
          after: () => ws.removeContainers(),
        },
        docker: { timed: () => run("docker", ["run", "--rm", IMAGE, "true"], home.env) },
      });
      // 2. A command in a running container: the peer's exec against `docker exec`.
      await ws.freshManifest();
      const id = await ws.up();
      const exec = await interleave(ctx.quick ? 5 : 20, {
        peer: { before: () => ws.freshManifest(), timed: () => ws.exec() },
        docker: { timed: () => run("docker", ["exec", id, "true"], home.env) },
      });
      return rows(peer, start, exec);
    } finally {
      stopCleaningUpOnSignal();
      await ws.removeContainers();
      await run(process.execPath, [WM_BIN, "sandbox", "stop", "--all"], home.env).catch(() => "");
      await run(process.execPath, [WM_BIN, "daemon", "stop"], home.env).catch(() => "");
    }
  },
};

function rows(
  peer: string,
  start: Record<"wm" | "up" | "docker", number[]>,
  exec: Record<"peer" | "docker", number[]>,
): BenchRow[] {
  const wm = summarize(start.wm);
  const up = summarize(start.up);
  const docker = summarize(start.docker);
  const row = (name: string, subject: typeof wm, baselineName: string, baseline: typeof wm) => ({
    suite: "peers",
    name,
    subject,
    baselineName,
    baseline,
    ratio: subject.p50 / baseline.p50,
  });
  const dockerRun = `\`docker run --rm ${IMAGE} true\``;
  const peerExec = summarize(exec.peer);
  const dockerExec = summarize(exec.docker);
  return [
    row("`wm sandbox run -- true` wall time", wm, dockerRun, docker),
    row("peer: `devcontainer up` wall time (create + start, left running)", up, dockerRun, docker),
    row(
      "`wm sandbox run -- true` beside `devcontainer up` (same samples)",
      wm,
      `\`devcontainer up\`, ${peer}, same image`,
      up,
    ),
    row(
      "peer: `devcontainer exec … true` in its running container",
      peerExec,
      "`docker exec CONTAINER true`, same container",
      dockerExec,
    ),
  ];
}
