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

/** The agent's result file: written in its worktree, ignored by git. */
const RESULT = ".agent-result";

/**
 * The agent. In `benign` it commits an ordinary file and merges; in `evil` it commits a
 * `.workmux.yaml` whose post_create would run on the host and merges. The in-sandbox wm's exit
 * code lands in its result file. Anywhere else it idles.
 */
const script = (marker: string) =>
  [
    `out="$WM_WORKTREE/${RESULT}"`,
    'case "$WM_WORKTREE" in',
    "  *benign)",
    "    echo work > benign.txt && git add benign.txt && git commit -q -m 'benign work'",
    '    wm merge 2>>"$out"; echo "merge=$?" >> "$out"',
    '    echo finished >> "$out"',
    "    ;;",
    "  *evil)",
    `    printf 'post_create: ["touch ${marker}"]\\n' > .workmux.yaml`,
    "    git add .workmux.yaml && git commit -q -m 'agent config'",
    '    wm merge 2>>"$out"; echo "merge=$?" >> "$out"',
    '    echo finished >> "$out"',
    "    ;;",
    "esac",
    "sleep 60",
  ].join("\n");

function agentResult(worktree: string): Promise<string | undefined> {
  return eventually(
    async () => {
      const t = await fs.readFile(path.join(worktree, RESULT), "utf8").catch(() => "");
      return t.includes("finished") ? t : undefined;
    },
    `the agent in ${worktree} to finish`,
    60_000,
  );
}

describe.each(["docker", "podman"] as const)(
  "%s: an agent's merge never changes what the host trusts (sandboxed, real agent)",
  (runtime) => {
    let wb: Workbench;
    let marker: string;

    beforeAll(async () => {
      const markerDir = await fs.mkdtemp("/tmp/wm-trusted-");
      marker = path.join(markerDir, "post-create-fired");
      wb = await makeWorkbench({
        global: sandboxedScriptConfig(script(marker), ["container:", `  runtime: ${runtime}`]),
      });
      await fs.appendFile(path.join(wb.repo, ".git", "info", "exclude"), `${RESULT}\n`);
      const built = await wb.wm(["sandbox", "build", "--agent", "demo"], { timeoutMs: 300_000 });
      expect(built.code, built.stderr).toBe(0);
    }, 320_000);

    afterAll(async () => {
      await wb?.wm(["sandbox", "stop", "--all"]).catch(() => undefined);
      await wb?.cleanup();
      await fs.rm(path.dirname(marker), { recursive: true, force: true });
    });

    it("a branch that touches no trusted file still merges from inside the sandbox", async () => {
      const added = await wb.wmJson<{ worktree: WorktreeSummary }>(["add", "benign", "-b"]);
      expect(added.worktree.sandbox).toBe(true);
      const text = await agentResult(added.worktree.path);
      expect(text).toContain("merge=0");
      expect(wb.git(wb.repo, "log", "--format=%s", "-1", "main")).toBe("benign work");
    }, 120_000);

    it("a branch that commits a .workmux.yaml is refused; main and the next wm add stay clean", async () => {
      const main = wb.git(wb.repo, "rev-parse", "main");
      const added = await wb.wmJson<{ worktree: WorktreeSummary }>(["add", "evil", "-b"]);
      const text = await agentResult(added.worktree.path);
      expect(text).toContain("merge=6");
      expect(text).toContain(".workmux.yaml");
      expect(text).toContain("wm merge evil");
      expect(wb.git(wb.repo, "rev-parse", "main")).toBe(main);
      expect(existsSync(path.join(wb.repo, ".workmux.yaml"))).toBe(false);
      // The agent's commit is real: the branch holds the payload.
      expect(wb.git(wb.repo, "show", "evil:.workmux.yaml")).toContain(`touch ${marker}`);

      const x2 = await wb.wm(["add", "x2", "-b"]);
      expect(x2.code, x2.stderr).toBe(0);
      expect(existsSync(marker)).toBe(false);
    }, 120_000);

    it("control: the host merging the same branch with --yes does change main, and the payload fires", async () => {
      const merged = await wb.wm(["merge", "evil", "--yes"]);
      expect(merged.code, merged.stderr).toBe(0);
      expect(wb.git(wb.repo, "log", "--format=%s", "-1", "main")).toBe("agent config");
      const x3 = await wb.wm(["add", "x3", "-b"]);
      expect(x3.code, x3.stderr).toBe(0);
      expect(existsSync(marker)).toBe(true);
    }, 120_000);
  },
);

describe("a host merge that changes host-run settings asks first", () => {
  let wb: Workbench;

  beforeAll(async () => {
    wb = await makeWorkbench({ project: "status_icons:\n  done: ok\n" });
  });
  afterAll(async () => {
    await wb?.cleanup();
  });

  const commitIn = async (dir: string, file: string, text: string) => {
    await fs.mkdir(path.dirname(path.join(dir, file)), { recursive: true });
    await fs.writeFile(path.join(dir, file), text);
    wb.git(dir, "add", file);
    wb.git(
      dir,
      "-c",
      "user.name=A",
      "-c",
      "user.email=a@example.invalid",
      "commit",
      "-q",
      "-m",
      file,
    );
  };
  const add = async (name: string) =>
    (await wb.wmJson<{ worktree: WorktreeSummary }>(["add", name, "-b"])).worktree;

  it("without a terminal and without --yes it stops, shows the command and leaves main alone; --yes merges", async () => {
    const wt = await add("hooks");
    await commitIn(
      wt.path,
      ".workmux.yaml",
      "status_icons:\n  done: ok\npost_create:\n  - echo from-the-branch\n",
    );
    const main = wb.git(wb.repo, "rev-parse", "main");
    const refused = await wb.wm(["merge", "hooks"]);
    expect(refused.code).toBe(6);
    expect(refused.stderr).toContain("post_create");
    expect(refused.stderr).toContain("echo from-the-branch");
    expect(refused.stderr).toContain("+  - echo from-the-branch");
    expect(refused.stderr).toContain("--yes");
    expect(wb.git(wb.repo, "rev-parse", "main")).toBe(main);
    expect(existsSync(wt.path)).toBe(true);

    const merged = await wb.wm(["merge", "hooks", "--yes"]);
    expect(merged.code, merged.stderr).toBe(0);
    expect(wb.git(wb.repo, "show", "main:.workmux.yaml")).toContain("echo from-the-branch");
  });

  it("a change to keys a worktree may set merges without asking", async () => {
    const wt = await add("cosmetic");
    await commitIn(
      wt.path,
      ".workmux.yaml",
      "status_icons:\n  done: fin\npost_create:\n  - echo from-the-branch\n",
    );
    const merged = await wb.wm(["merge", "cosmetic"]);
    expect(merged.code, merged.stderr).toBe(0);
    expect(wb.git(wb.repo, "show", "main:.workmux.yaml")).toContain("done: fin");
  });

  it("a change that appears only while replaying commits (--rebase) is undone and asked about", async () => {
    const wt = await add("replay");
    const g = (...args: string[]) =>
      wb.git(wt.path, "-c", "user.name=A", "-c", "user.email=a@example.invalid", ...args);
    // One commit adds a hook; a merge commit on the branch drops the file again, so the branch's
    // net change has no project file, but replaying its commits one by one brings it back.
    await commitIn(wt.path, "tools/.workmux.yaml", "post_create:\n  - echo replayed-hook\n");
    g("switch", "-q", "-c", "side", "HEAD~1");
    await commitIn(wt.path, "side.txt", "side\n");
    g("switch", "-q", "replay");
    g("merge", "-q", "--no-ff", "--no-commit", "side");
    g("rm", "-q", "tools/.workmux.yaml");
    g("commit", "-q", "-m", "merge side");
    await commitIn(wb.repo, "main-moved.txt", "moved\n");
    const main = wb.git(wb.repo, "rev-parse", "main");
    const refused = await wb.wm(["merge", "replay", "--rebase"]);
    expect(refused.code, refused.stderr).toBe(6);
    expect(refused.stderr).toContain("tools/.workmux.yaml");
    expect(refused.stderr).toContain("echo replayed-hook");
    expect(wb.git(wb.repo, "rev-parse", "main")).toBe(main);
    expect(wb.git(wb.repo, "status", "--porcelain")).toBe("");
    expect(wb.git(wb.repo, "reflog", "-1", "--format=%gs", "main")).toContain("reset: moving to");

    const merged = await wb.wm(["merge", "replay", "--rebase", "--yes"]);
    expect(merged.code, merged.stderr).toBe(0);
    expect(wb.git(wb.repo, "show", "main:tools/.workmux.yaml")).toContain("echo replayed-hook");
  });

  it("a nested project file counts too", async () => {
    const wt = await add("nested");
    await commitIn(wt.path, "pkg/api/.workmux.yml", "pre_remove: [echo nested-hook]\n");
    const main = wb.git(wb.repo, "rev-parse", "main");
    const refused = await wb.wm(["merge", "nested", "--json"]);
    expect(refused.code).toBe(6);
    expect(refused.stderr).toContain("pkg/api/.workmux.yml");
    expect(refused.stderr).toContain("echo nested-hook");
    expect(wb.git(wb.repo, "rev-parse", "main")).toBe(main);
  });
});
