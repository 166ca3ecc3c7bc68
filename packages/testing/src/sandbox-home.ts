import { promises as fs } from "node:fs";
import path from "node:path";
import { makeRepo, type TestRepo } from "./git-repo.ts";
import { runWm } from "./run-wm.ts";
import { makeTempHome, type TempHome } from "./temp-home.ts";

export interface SandboxHome {
  home: TempHome;
  repo: TestRepo;
  cleanup(): Promise<void>;
}

/**
 * A temp home whose global config is `config` (`$ROOT` stands for the home's root), a
 * repository with linked worktrees owned by `owner`, and the demo sandbox image built.
 */
export async function makeSandboxHome(opts: {
  config?: string;
  branches: readonly string[];
  owner?: { uid: number; gid: number };
  /** More environment for wm and its daemon (HOME elsewhere, a tuning variable). */
  env?: NodeJS.ProcessEnv;
}): Promise<SandboxHome> {
  const home = await makeTempHome(opts.env);
  // The worktrees' owner reaches them, as on a real machine: host commands run as that user.
  await fs.chmod(home.root, 0o755);
  await fs.mkdir(home.configDir, { recursive: true });
  await fs.writeFile(
    path.join(home.configDir, "config.yaml"),
    (opts.config ?? "agent: demo\n").replaceAll("$ROOT", home.root),
  );
  const repo = await makeRepo(
    path.join(home.root, "src"),
    opts.branches,
    opts.owner ?? { uid: 1000, gid: 1000 },
  );
  const built = await runWm(["sandbox", "build", "--agent", "demo"], {
    env: home.env,
    timeoutMs: 300_000,
  });
  if (built.code !== 0) throw new Error(`wm sandbox build --agent demo failed:\n${built.stderr}`);
  return {
    home,
    repo,
    async cleanup() {
      await runWm(["sandbox", "stop", "--all"], { env: home.env }).catch(() => undefined);
      await runWm(["daemon", "stop"], { env: home.env }).catch(() => undefined);
      await home.cleanup();
    },
  };
}
