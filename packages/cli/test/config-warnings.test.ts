import { promises as fs } from "node:fs";
import path from "node:path";
import { makeTempHome, runWm, type TempHome } from "@wm/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { makeWorkbench, type Workbench } from "./worktree-fixture.ts";

const count = (text: string, part: string) => text.split(part).length - 1;

describe("config warnings on the commands that read config", () => {
  let home: TempHome;
  let file: string;
  const list = (...args: string[]) => runWm(["list", ...args], { env: home.env, cwd: home.root });

  beforeAll(async () => {
    home = await makeTempHome();
    await fs.mkdir(home.configDir, { recursive: true });
    file = path.join(home.configDir, "config.yaml");
    await fs.writeFile(file, "agent: claude\nbogus_top: 1\n");
  });
  afterAll(async () => {
    await runWm(["daemon", "stop"], { env: home.env }).catch(() => undefined);
    await home.cleanup();
  });

  it("wm list prints an unknown key's warning once, and again only after the file changes", async () => {
    const first = await list();
    expect(first.code, first.stderr).toBe(0);
    const warning = `wm: warning: ${file}:2:1: bogus_top: unknown key "bogus_top" is ignored\n`;
    expect(count(first.stderr, warning)).toBe(1);

    const second = await list();
    expect(second.code, second.stderr).toBe(0);
    expect(second.stderr).not.toContain("bogus_top");

    // What was shown is kept in the state directory: a new daemon does not repeat it.
    const stopped = await runWm(["daemon", "stop"], { env: home.env });
    expect(stopped.code, stopped.stderr).toBe(0);
    const afterRestart = await list();
    expect(afterRestart.stderr).not.toContain("bogus_top");

    await fs.appendFile(file, "# edited\n");
    const changed = await list("--json");
    expect(changed.code, changed.stderr).toBe(0);
    expect(count(changed.stderr, warning)).toBe(1);
    expect(JSON.parse(changed.stdout)).toMatchObject({ worktrees: [] });
    expect((await list()).stderr).not.toContain("bogus_top");
  });
});

describe("config warnings before wm add", () => {
  let wb: Workbench;
  beforeAll(async () => {
    wb = await makeWorkbench({ global: 'agent: "echo agent-started"\nmystery: 1\n' });
  });
  afterAll(() => wb.cleanup());

  it("are printed by the first add and not by the next; the worktrees are made", async () => {
    const file = path.join(wb.home.configDir, "config.yaml");
    const first = await wb.wm(["add", "w1"]);
    expect(first.code, first.stderr).toBe(0);
    expect(first.stderr).toContain(`wm: warning: ${file}:2:1: mystery: unknown key "mystery"`);
    const second = await wb.wm(["add", "w2"]);
    expect(second.code, second.stderr).toBe(0);
    expect(second.stderr).not.toContain("mystery");
  });
});
