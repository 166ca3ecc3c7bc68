// Removing what a scale run made: its sandboxes (`wm sandbox stop --all`), its daemon, then every
// container still labelled as the run's. The bench runs it in-process; when interrupted it runs
// this file detached, so the clean-up finishes even if the bench is killed right after (tsx
// kills a child that is slow to acknowledge a relayed signal).
import { promises as fs } from "node:fs";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import { runCommand, WM_BIN } from "../../packages/testing/src/index.ts";
import { containersLabelled, removeContainers } from "./scale-engine.ts";
import { alive } from "./scale-proc.ts";

/** What a run made and how to reach it; plain data, so it can be passed to another process. */
export interface CleanupTarget {
  /** The environment that points `wm` at the run's home. */
  env: NodeJS.ProcessEnv;
  stateDir: string;
  /** Every container carrying all of one of these is the run's. */
  labels: Record<string, string>[];
  daemonPid: number | undefined;
  sandboxes: number;
}

export interface CleanupReport {
  stopAllMs: number;
  stopAllCode: number | null;
  /** Containers of this run still there after `wm sandbox stop --all`, removed by label. */
  removedByLabel: number;
  /** Containers of this run left after everything (there should be none). */
  leftover: string[];
  recordsLeft: number;
  daemonStopped: boolean;
}

/** Removes what the run made; what is left is reported, not thrown. */
export async function cleanUp(t: CleanupTarget): Promise<CleanupReport> {
  const t0 = performance.now();
  const stop = await runCommand(process.execPath, [WM_BIN, "sandbox", "stop", "--all"], {
    env: t.env,
    timeoutMs: 60_000 + t.sandboxes * 3000,
  }).catch(() => ({ code: -1 }));
  const stopAllMs = performance.now() - t0;
  await runCommand(process.execPath, [WM_BIN, "daemon", "stop"], {
    env: t.env,
    timeoutMs: 60_000,
  }).catch(() => undefined);
  // It may still be finishing (writing a CPU profile, say); past 30 s it is killed.
  const pid = t.daemonPid;
  const gone = async (limitMs: number) => {
    for (let ms = 0; pid !== undefined && alive(pid) && ms < limitMs; ms += 100) await sleep(100);
  };
  await gone(30_000);
  if (pid !== undefined && alive(pid)) process.kill(pid, "SIGKILL");
  await gone(5000);
  const found = async () => (await Promise.all(t.labels.map(containersLabelled))).flat();
  const strays = await found();
  await removeContainers(strays);
  const records = await fs.readdir(path.join(t.stateDir, "sandboxes")).catch(() => [] as string[]);
  return {
    stopAllMs,
    stopAllCode: stop.code,
    removedByLabel: strays.length,
    leftover: await found(),
    recordsLeft: records.filter((f) => f.endsWith(".json")).length,
    daemonStopped: pid === undefined || !alive(pid),
  };
}

/** Detached: `node scale-cleanup.ts TARGET-JSON HOME-ROOT` cleans up, then removes the home. */
if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  const [target = "{}", root] = process.argv.slice(2);
  const report = await cleanUp(JSON.parse(target) as CleanupTarget);
  if (root) await fs.rm(root, { recursive: true, force: true });
  process.stdout.write(
    report.leftover.length > 0
      ? `scale: clean-up left containers ${report.leftover.join(" ")}\n`
      : `scale: cleaned up: no container of the run left, ${report.recordsLeft} records\n`,
  );
}
