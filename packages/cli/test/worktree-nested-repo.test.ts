import { execFileSync } from "node:child_process";
import { existsSync, promises as fs } from "node:fs";
import path from "node:path";
import type { WorktreeSummary } from "@wm/protocol";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { makeWorkbench, type Workbench } from "./worktree-fixture.ts";

/**
 * An agent in a worktree made with plain `git worktree add` plants a repository of its own
 * inside it, with a project file whose post_create would run on the host. The user then runs
 * `wm add` from inside that directory.
 */
let wb: Workbench;
let marker: string;
const project = () => `post_create: ["touch ${marker}"]\n`;

beforeAll(async () => {
  wb = await makeWorkbench({
    global: ["agent: demo", "agents:", "  demo:", "    command: sh", ""].join("\n"),
  });
  marker = path.join(wb.home.root, "nested-post-create-fired");
  const built = await wb.wm(["sandbox", "build", "--agent", "demo"], { timeoutMs: 300_000 });
  expect(built.code, built.stderr).toBe(0);
}, 320_000);

afterAll(async () => {
  await wb?.wm(["sandbox", "stop", "--all"]).catch(() => undefined);
  await wb?.cleanup();
});

/** A linked worktree beside the repository, made by git alone (wm has no entry for it). */
function plainWorktree(name: string): string {
  const wt = path.join(wb.home.root, name);
  wb.git(wb.repo, "worktree", "add", "-q", "-b", name, wt);
  return wt;
}

async function addFrom(cwd: string, branch: string) {
  const res = await wb.wm(["add", branch, "-b", "--no-sandbox", "--json"], { cwd });
  expect(res.code, res.stderr).toBe(0);
  return (JSON.parse(res.stdout) as { worktree: WorktreeSummary }).worktree;
}

describe("wm add from inside a repository planted in a linked worktree", () => {
  it("the agent plants it from inside its sandbox: wm add works on the outer repository and runs none of it", async () => {
    const wt = plainWorktree("plain-sb");
    const plant = [
      "mkdir -p src && cd src && git init -q",
      `printf '%s' '${project()}' > .workmux.yaml`,
      "git add .workmux.yaml",
      "git -c user.name=A -c user.email=a@example.invalid commit -q -m planted",
      "echo planted",
    ].join(" && ");
    const ran = await wb.wm(["sandbox", "run", "--worktree", wt, "--", "sh", "-c", plant], {
      timeoutMs: 120_000,
    });
    expect(ran.code, ran.stderr).toBe(0);
    expect(ran.stdout).toContain("planted");
    expect(existsSync(path.join(wt, "src", ".git", "objects"))).toBe(true);
    expect(await fs.readFile(path.join(wt, "src", ".workmux.yaml"), "utf8")).toBe(project());

    const e1 = await addFrom(path.join(wt, "src"), "e1");
    expect(e1.repo).toBe(wb.repo);
    expect(wb.git(wb.repo, "branch", "--list", "e1")).toContain("e1");
    expect(existsSync(marker)).toBe(false);
  }, 180_000);

  it("planted from the host, with no record of the worktree: the walk finds the outer repository", async () => {
    const wt = plainWorktree("plain-host");
    await fs.mkdir(path.join(wt, "src", "deep"), { recursive: true });
    const nested = path.join(wt, "src");
    await fs.writeFile(path.join(nested, ".workmux.yaml"), project());
    for (const args of [
      ["init", "-q"],
      ["add", ".workmux.yaml"],
      ["-c", "user.name=A", "-c", "user.email=a@example.invalid", "commit", "-q", "-m", "planted"],
    ])
      execFileSync("git", args, {
        cwd: nested,
        env: { PATH: process.env.PATH, HOME: wb.home.root },
      });

    const e2 = await addFrom(path.join(wt, "src", "deep"), "e2");
    expect(e2.repo).toBe(wb.repo);
    expect(existsSync(marker)).toBe(false);
    const config = await wb.wmJson<{ config: { post_create?: string[] } }>(["config"], {
      cwd: path.join(wt, "src"),
    });
    expect(config.config.post_create).toBeUndefined();
  });

  it("control: the same repository standing alone is a main worktree, and its post_create runs", async () => {
    const alone = path.join(wb.home.root, "standalone");
    await fs.mkdir(alone);
    const git = (...args: string[]) => wb.git(alone, ...args);
    git("init", "-q", "-b", "main");
    await fs.writeFile(path.join(alone, ".workmux.yaml"), project());
    git("add", ".workmux.yaml");
    git("-c", "user.name=U", "-c", "user.email=u@example.invalid", "commit", "-q", "-m", "init");

    const c1 = await addFrom(alone, "c1");
    expect(c1.repo).toBe(alone);
    expect(existsSync(marker)).toBe(true);
  });
});
