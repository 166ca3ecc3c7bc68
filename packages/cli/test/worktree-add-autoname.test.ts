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

describe("wm add -A with -n / --foreach", () => {
  const read = (file: string | null) => fs.readFile(file as string, "utf8");

  it("-n 2 names the branch once from the prompt and numbers the agents", async () => {
    const { agents } = await plain.wmJson<{ agents: Added[] }>([
      "add",
      "-A",
      "-n",
      "2",
      "-b",
      "-p",
      "Tune the cache {{ index }}",
    ]);
    // Named once from the prompt, its placeholders left out; then each agent's number.
    expect(agents.map((a) => a.worktree.branch)).toEqual(["tune-the-cache-1", "tune-the-cache-2"]);
    expect(await read(agents[0]?.promptFile ?? null)).toBe("Tune the cache 1\n");
    expect(await read(agents[1]?.promptFile ?? null)).toBe("Tune the cache 2\n");
  });

  it("--foreach names each agent <name>-<value>, the value slugged", async () => {
    const { agents } = await named.wmJson<{ agents: Added[] }>([
      "add",
      "-A",
      "--foreach",
      "os=iOS,Android TV",
      "-b",
      "-p",
      "port the app to {{ os }}",
    ]);
    // auto_name.command ran once on the unrendered prompt: PORT_THE_APP_TO_{{_OS_}}.
    expect(agents.map((a) => a.worktree.branch)).toEqual([
      "port-the-app-to-os-ios",
      "port-the-app-to-os-android-tv",
    ]);
    expect(await read(agents[1]?.promptFile ?? null)).toBe("port the app to Android TV\n");
  });

  it("runs auto_name.command once for all the agents", async () => {
    const config = path.join(named.home.configDir, "config.yaml");
    const runs = path.join(named.home.root, "namer-runs");
    await fs.writeFile(
      config,
      `${AGENT}auto_name:\n  command: "echo run >> ${runs}; echo Shared Name"\n`,
    );
    try {
      const { agents } = await named.wmJson<{ agents: Added[] }>([
        "add",
        "-A",
        "-n",
        "3",
        "-b",
        "-p",
        "anything {{ index }}",
      ]);
      expect(agents.map((a) => a.worktree.branch)).toEqual([
        "shared-name-1",
        "shared-name-2",
        "shared-name-3",
      ]);
      expect(await fs.readFile(runs, "utf8")).toBe("run\n");
    } finally {
      await fs.writeFile(config, UPPER);
    }
  });

  it("a name that exists already stops it before anything is made", async () => {
    plain.git(plain.repo, "branch", "clean-up-logs-b");
    const res = await plain.wm([
      "add",
      "-A",
      "--foreach",
      "part=a,b,c",
      "-b",
      "-p",
      "clean up logs",
    ]);
    expect(res.code, res.stderr).toBe(1);
    expect(res.stderr).toContain("clean-up-logs-b exists already");
    expect(res.stderr).toContain("nothing was created");
    expect(plain.git(plain.repo, "branch", "--list", "clean-up-logs-*")).toBe("clean-up-logs-b");
    expect(plain.windows().map((w) => w.name)).not.toContain("wm-clean-up-logs-a");
  });

  it("values that slug to the same name are refused", async () => {
    const res = await plain.wm(["add", "-A", "--foreach", "v=Dark,dark!", "-p", "theme work"]);
    expect(res.code).not.toBe(0);
    expect(res.stderr).toContain("two agents would get the same branch theme-work-dark");
    expect(plain.git(plain.repo, "branch", "--list", "theme-work-*")).toBe("");
  });
});
