import { existsSync, promises as fs } from "node:fs";
import path from "node:path";
import type { WorktreeSummary } from "@wm/protocol";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  eventually,
  makeWorkbench,
  sandboxedScriptConfig,
  type Workbench,
} from "./worktree-fixture.ts";

/** The agent's result file: written in its worktree, ignored by git through info/exclude. */
const RESULT = ".agent-result";

/**
 * A sandboxed agent started with `wm add -p`: it records the prompt it got, commits, and merges
 * with the in-sandbox `wm merge`: once clean, once with an untracked file (refused, then
 * `--ignore-uncommitted`), and once with `--no-verify` (a host option, refused in a sandbox).
 * Each exit code lands in its result file.
 */
const script = [
  `out="$WM_WORKTREE/${RESULT}"`,
  'printf "prompt=%s\\n" "$0" >> "$out"',
  "echo one > one.txt && git add one.txt && git commit -q -m 'agent one'",
  'wm merge 2>>"$out"; echo "merge=$?" >> "$out"',
  "echo two > two.txt && git add two.txt && git commit -q -m 'agent two'",
  "echo scratch > scratch.txt",
  'wm merge 2>>"$out"; echo "dirty=$?" >> "$out"',
  'wm merge --ignore-uncommitted 2>>"$out"; echo "ignored=$?" >> "$out"',
  'wm merge --no-verify 2>>"$out"; echo "noverify=$?" >> "$out"',
  'echo finished >> "$out"',
  "sleep 60",
].join("\n");

function agentResult(worktree: string): Promise<string | undefined> {
  return eventually(
    async () => {
      const t = await fs.readFile(path.join(worktree, RESULT), "utf8").catch(() => "");
      return t.includes("finished") ? t : undefined;
    },
    `the agent in ${worktree} to finish`,
    90_000,
  );
}

describe.each(["docker", "podman"] as const)(
  "%s: wm's prompt file never blocks an agent's own wm merge",
  (runtime) => {
    let wb: Workbench;

    beforeAll(async () => {
      wb = await makeWorkbench({
        global: sandboxedScriptConfig(script, ["container:", `  runtime: ${runtime}`]),
      });
      await fs.appendFile(path.join(wb.repo, ".git", "info", "exclude"), `${RESULT}\n`);
      const built = await wb.wm(["sandbox", "build", "--agent", "demo"], { timeoutMs: 300_000 });
      expect(built.code, built.stderr).toBe(0);
    }, 320_000);

    afterAll(async () => {
      await wb?.wm(["sandbox", "stop", "--all"]).catch(() => undefined);
      await wb?.cleanup();
    });

    it("the agent reads its prompt inside, merges, and --ignore-uncommitted leaves an untracked file behind", async () => {
      const added = await wb.wmJson<{ worktree: WorktreeSummary }>([
        "add",
        "m1",
        "-p",
        "hi from the host",
        "-b",
      ]);
      expect(added.worktree.sandbox).toBe(true);
      const wt = added.worktree.path;
      const text = await agentResult(wt);
      expect(text).toContain("prompt=hi from the host\n");
      expect(text).toContain("merge=0\n");
      expect(text).toContain("dirty=6\n");
      expect(text).toContain("scratch.txt");
      expect(text).toContain("--ignore-uncommitted");
      expect(text).toContain("ignored=0\n");
      expect(text).toContain("noverify=6\n");
      expect(text).toContain("--no-verify is a host option");
      expect(existsSync(path.join(wt, ".workmux"))).toBe(false);
      expect(wb.git(wb.repo, "log", "--format=%s", "-2", "main")).toBe("agent two\nagent one");
      expect(existsSync(path.join(wb.repo, "scratch.txt"))).toBe(false);
      expect(await fs.readFile(path.join(wt, "scratch.txt"), "utf8")).toBe("scratch\n");
    }, 150_000);
  },
);
