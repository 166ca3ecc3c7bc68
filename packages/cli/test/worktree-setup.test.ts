import { execFileSync } from "node:child_process";
import { existsSync, promises as fs } from "node:fs";
import path from "node:path";
import { makeTempHome, runWm, type TempHome } from "@wm/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

let home: TempHome;
let repo: string;
beforeAll(async () => {
  home = await makeTempHome();
  repo = path.join(home.root, "proj");
  await fs.mkdir(path.join(repo, "src"), { recursive: true });
  execFileSync("git", ["init", "-q", "-b", "main", repo]);
});
afterAll(async () => {
  await runWm(["daemon", "stop"], { env: home.env });
  await home.cleanup();
});

const setup = (args: string[], cwd = repo) =>
  runWm(["setup", "claude", ...args], { env: home.env, cwd });
const read = async (file: string) => JSON.parse(await fs.readFile(file, "utf8"));
const commands = (
  settings: { hooks: Record<string, { hooks: { command: string }[] }[]> },
  event: string,
) => (settings.hooks[event] ?? []).flatMap((g) => g.hooks.map((h) => h.command));

describe("wm setup claude", () => {
  const file = () => path.join(repo, ".claude", "settings.json");

  it("merges the status hooks into the repository's existing settings, keeping what is there", async () => {
    await fs.mkdir(path.dirname(file()));
    const existing = {
      model: "opus",
      permissions: { allow: ["Bash(ls:*)"] },
      hooks: { Stop: [{ hooks: [{ type: "command", command: "say finished" }] }] },
    };
    await fs.writeFile(file(), JSON.stringify(existing));
    const res = await setup(["--json"], path.join(repo, "src"));
    expect(res.code, res.stderr).toBe(0);
    expect(JSON.parse(res.stdout)).toEqual({
      file: file(),
      added: ["UserPromptSubmit", "Notification", "Stop"],
    });
    const settings = await read(file());
    expect(settings.model).toBe("opus");
    expect(settings.permissions).toEqual(existing.permissions);
    expect(commands(settings, "UserPromptSubmit")).toEqual(["wm status set working"]);
    expect(commands(settings, "Notification")).toEqual(["wm status set waiting"]);
    expect(commands(settings, "Stop")).toEqual(["say finished", "wm status set done"]);
  });

  it("is idempotent", async () => {
    const before = await fs.readFile(file(), "utf8");
    const res = await setup([]);
    expect(res.stdout).toContain("already has the wm hooks");
    expect(await fs.readFile(file(), "utf8")).toBe(before);
  });

  it("never clobbers a file it cannot read as a settings object", async () => {
    await fs.writeFile(file(), "{ not json");
    const res = await setup([]);
    expect(res.code).toBe(1);
    expect(res.stderr).toContain("is not valid JSON");
    expect(await fs.readFile(file(), "utf8")).toBe("{ not json");
    await fs.writeFile(file(), JSON.stringify({ hooks: { Stop: "nope" } }));
    const shape = await setup([]);
    expect(shape.code).toBe(1);
    expect(shape.stderr).toContain('"hooks.Stop" is not a list');
  });

  it("--global writes ~/.claude/settings.json; outside a repository it needs --global", async () => {
    const outside = await setup([], home.root);
    expect(outside.code).toBe(2);
    expect(outside.stderr).toContain("pass --global");
    const res = await setup(["--global"], home.root);
    expect(res.code, res.stderr).toBe(0);
    const settings = await read(path.join(home.root, ".claude", "settings.json"));
    expect(commands(settings, "Stop")).toEqual(["wm status set done"]);
    expect(existsSync(path.join(home.root, ".claude", "settings.json"))).toBe(true);
  });

  it("the hook command never fails an agent outside a worktree wm knows", async () => {
    const res = await runWm(["status", "set", "working"], { env: home.env, cwd: repo });
    expect(res.code, res.stderr).toBe(0);
    expect(res.stderr).toContain("status not recorded");
  });
});
