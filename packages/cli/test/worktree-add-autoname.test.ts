import { promises as fs } from "node:fs";
import path from "node:path";
import type { WorktreeSummary } from "@wm/protocol";
import { runWm } from "@wm/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { makeWorkbench, type Workbench } from "./worktree-fixture.ts";

interface Added {
  worktree: WorktreeSummary;
  branchCreated: boolean;
  promptFile: string | null;
}

const AGENT = 'agent: "echo agent-started"\n';
const UPPER = `${AGENT}auto_name:\n  command: "tr a-z A-Z | sed 's/ /_/g'"\n`;

let plain: Workbench;
let named: Workbench;

beforeAll(async () => {
  [plain, named] = await Promise.all([makeWorkbench(), makeWorkbench({ global: UPPER })]);
});
afterAll(async () => {
  await Promise.all([plain?.cleanup(), named?.cleanup()]);
});

describe("wm add -A without auto_name.command", () => {
  it("names the branch from -p by slugging the prompt", async () => {
    const r = await plain.wmJson<Added>(["add", "-A", "-p", "Fix the login redirect bug!"]);
    expect(r.worktree.branch).toBe("fix-the-login-redirect-bug");
    expect(r.branchCreated).toBe(true);
    expect(path.basename(r.worktree.path)).toBe("fix-the-login-redirect-bug");
    expect(await fs.readFile(r.promptFile as string, "utf8")).toContain(
      "Fix the login redirect bug!",
    );
  });

  it("names the branch from a prompt on stdin", async () => {
    const res = await runWm(["add", "--auto-name", "--json"], {
      env: plain.env,
      cwd: plain.repo,
      input: "Add a dark mode toggle to Settings\n",
    });
    expect(res.code, res.stderr).toBe(0);
    const r = JSON.parse(res.stdout) as Added;
    expect(r.worktree.branch).toBe("add-a-dark-mode-toggle-to-settings");
  });

  it("adds a suffix when the name is taken", async () => {
    plain.git(plain.repo, "branch", "update-readme");
    const r = await plain.wmJson<Added>(["add", "-A", "-p", "Update README"]);
    expect(r.worktree.branch).toBe("update-readme-2");
    const again = await plain.wmJson<Added>(["add", "-A", "-p", "update readme"]);
    expect(again.worktree.branch).toBe("update-readme-3");
  });

  it("-A with a branch is a usage error", async () => {
    const res = await plain.wm(["add", "-A", "some-branch", "-p", "do x"]);
    expect(res.code).toBe(2);
    expect(res.stderr).toContain("-A/--auto-name names the branch from the prompt");
    expect(plain.git(plain.repo, "branch", "--list", "some-branch")).toBe("");
  });

  it("-A without a prompt is a usage error", async () => {
    const res = await runWm(["add", "-A"], { env: plain.env, cwd: plain.repo, input: "" });
    expect(res.code).toBe(2);
    expect(res.stderr).toContain("give one with -p, -P or on stdin");
  });
});

describe("wm add -A with auto_name.command", () => {
  it("takes the command's first line, slugged, as the branch", async () => {
    const r = await named.wmJson<Added>(["add", "-A", "-p", "fix the login\nsecond line"]);
    // The command turned the prompt into FIX_THE_LOGIN; slugged, that is fix-the-login.
    expect(r.worktree.branch).toBe("fix-the-login");
  });

  it("a failing command is an error naming auto_name.command, and nothing is created", async () => {
    const config = path.join(named.home.configDir, "config.yaml");
    await fs.writeFile(config, `${AGENT}auto_name:\n  command: "echo namer-broke >&2; exit 3"\n`);
    try {
      const res = await named.wm(["add", "-A", "-p", "broken namer"]);
      expect(res.code).not.toBe(0);
      expect(res.stderr).toContain(`auto_name.command in ${config}`);
      expect(res.stderr).toContain("exited with 3: namer-broke");
      expect(named.git(named.repo, "branch", "--list", "broken-namer")).toBe("");
    } finally {
      await fs.writeFile(config, UPPER);
    }
  });
});
