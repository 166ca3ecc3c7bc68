import { execFileSync } from "node:child_process";
import { existsSync, promises as fs } from "node:fs";
import path from "node:path";
import type { DoctorCheck, PaneRun } from "@wm/protocol";
import { runWm } from "@wm/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventually, makeWorkbench, type Workbench } from "./worktree-fixture.ts";

// The agent prints whether it runs in a sandbox (WM_SANDBOX_GUEST is set only there), and so
// does the second pane: what `wm add` reports is checked against what each pane really shows.
// biome-ignore lint/suspicious/noTemplateCurlyInString: a shell default, expanded in the pane
const AGENT = 'echo "agent:${WM_SANDBOX_GUEST:-none}"; sleep 60';
// biome-ignore lint/suspicious/noTemplateCurlyInString: a shell default, expanded in the pane
const HOST_PANE = 'echo "host:${WM_SANDBOX_GUEST:-none}"';
const globalConfig = (sandbox: readonly string[] = []) =>
  [
    "agent: demo",
    "agents:",
    "  demo:",
    "    command: sh",
    `    args: ["-c", ${JSON.stringify(AGENT)}]`,
    ...(sandbox.length > 0 ? ["sandbox:", ...sandbox.map((l) => `  ${l}`)] : []),
    "",
  ].join("\n");
const AGENT_AND_HOST_PANES = [
  "panes:",
  '  - command: "<agent>"',
  "    focus: true",
  `  - command: ${JSON.stringify(HOST_PANE)}`,
  "    split: horizontal",
  "",
].join("\n");

/** Nothing of `name` exists: no window, no worktree directory, no branch, no record. */
async function expectNothingMade(wb: Workbench, name: string): Promise<void> {
  expect(wb.windows().map((w) => w.name)).not.toContain(`wm-${name}`);
  expect(existsSync(path.join(path.dirname(wb.repo), "proj__worktrees", name))).toBe(false);
  expect(wb.git(wb.repo, "branch", "--list", name)).toBe("");
  const list = await wb.wmJson<{ worktrees: Array<{ handle: string }> }>(["list"]);
  expect(list.worktrees.map((w) => w.handle)).not.toContain(name);
}

describe("what wm add sandboxes, checked before anything is made", () => {
  let wb: Workbench;
  const project = (yaml: string) => fs.writeFile(path.join(wb.repo, ".workmux.yaml"), yaml);
  const global = (yaml: string) => fs.writeFile(path.join(wb.home.configDir, "config.yaml"), yaml);
  const paneText = (pane: string) => wb.tmux("capture-pane", "-p", "-J", "-t", pane);

  beforeAll(async () => {
    wb = await makeWorkbench({ global: globalConfig() });
    const built = await wb.wm(["sandbox", "build", "--agent", "demo"], { timeoutMs: 300_000 });
    expect(built.code, built.stderr).toBe(0);
  }, 320_000);

  afterAll(async () => {
    await wb.wm(["sandbox", "stop", "--all"]).catch(() => undefined);
    await wb.cleanup();
  });

  it("with sandbox.target agent and no agent pane, --sandbox fails naming the config; nothing is made", async () => {
    await project(`panes:\n  - command: ${JSON.stringify(HOST_PANE)}\n`);
    const res = await wb.wm(["add", "lonely", "--sandbox"]);
    expect(res.code, res.stderr).toBe(6);
    expect(res.stderr).toContain(
      `--sandbox was given, but no pane would run in a sandbox: sandbox.target is "agent" (the default) and no pane in panes (${path.join(wb.repo, ".workmux.yaml")}) runs the agent "demo"; nothing was created`,
    );
    expect(res.stderr).toContain('hint: add a pane whose command is "<agent>" to panes');
    await expectNothingMade(wb, "lonely");

    // The same when the global file's sandbox.enabled asks for it.
    await global(globalConfig(["enabled: true"]));
    const byConfig = await wb.wm(["add", "lonely"]);
    await global(globalConfig());
    expect(byConfig.code, byConfig.stderr).toBe(6);
    expect(byConfig.stderr).toContain(
      `sandbox.enabled is true (${path.join(wb.home.configDir, "config.yaml")}), but no pane would run in a sandbox`,
    );
    await expectNothingMade(wb, "lonely");
  });

  it("reports each pane, sandboxed or host, in --json and in text, and that is what runs", async () => {
    await project(AGENT_AND_HOST_PANES);
    const added = await wb.wmJson<{ panes: string[]; runs: PaneRun[] }>([
      "add",
      "boxed",
      "--sandbox",
    ]);
    expect(added.runs).toEqual([
      {
        pane: added.panes[0],
        command: `sh -c ${`'${AGENT}'`}`,
        where: "sandbox",
        backend: "docker",
      },
      { pane: added.panes[1], command: HOST_PANE, where: "host", backend: null },
    ]);
    const [agentPane, hostPane] = added.panes as [string, string];
    await eventually(() => /^agent:1$/m.test(paneText(agentPane)), "the agent in its sandbox");
    await eventually(() => /^host:none$/m.test(paneText(hostPane)), "the host pane's output");

    const closed = await wb.wm(["close", "boxed"]);
    expect(closed.code, closed.stderr).toBe(0);
    const opened = await wb.wm(["open", "boxed"]);
    expect(opened.code, opened.stderr).toBe(0);
    expect(opened.stdout).toContain(`pane 1: sh -c '${AGENT}' — sandboxed (docker)`);
    expect(opened.stdout).toContain(`pane 2: ${HOST_PANE} — host`);
    expect(opened.stdout).not.toMatch(/pane 3/);

    const text = await wb.wm(["add", "plain", "--no-sandbox", "-b"]);
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toContain(`pane 1: sh -c '${AGENT}' — host`);
    expect(text.stdout).toContain(`pane 2: ${HOST_PANE} — host`);
    expect(text.stdout).not.toContain("sandboxed");
  }, 90_000);

  it("a missing sandbox image fails before any window, with the command that builds it", async () => {
    await project(AGENT_AND_HOST_PANES);
    await global(globalConfig(["image: wm-sandbox:does-not-exist"]));
    try {
      const res = await wb.wm(["add", "noimage", "--sandbox"]);
      expect(res.code, res.stderr).toBe(1);
      expect(res.stderr).toContain("wm-sandbox:does-not-exist does not exist");
      expect(res.stderr).toContain("`wm sandbox build --agent does-not-exist`");
      expect(res.stderr).toContain("nothing was created");
      await expectNothingMade(wb, "noimage");

      // Opening a closed sandboxed worktree again checks the same, and opens no window.
      expect((await wb.wm(["close", "boxed"])).code).toBe(0);
      const before = wb.windows().length;
      const reopen = await wb.wm(["open", "boxed"]);
      expect(reopen.code, reopen.stderr).toBe(1);
      expect(reopen.stderr).toContain("wm sandbox build --agent does-not-exist");
      expect(reopen.stderr).toContain("no window was opened");
      expect(wb.windows()).toHaveLength(before);
    } finally {
      await global(globalConfig());
    }
  });
});

describe("tmux missing from the daemon's PATH", () => {
  let wb: Workbench;
  let bin: string;

  beforeAll(async () => {
    wb = await makeWorkbench();
    bin = path.join(wb.home.root, "daemon-bin");
    await fs.mkdir(bin);
    for (const tool of ["git", "docker"]) {
      const where = execFileSync("sh", ["-c", `command -v ${tool}`], { encoding: "utf8" }).trim();
      await fs.symlink(where, path.join(bin, tool));
    }
    const started = await runWm(["daemon", "start"], { env: { ...wb.env, PATH: bin } });
    expect(started.code, started.stderr).toBe(0);
  });

  afterAll(() => wb.cleanup());

  // The CLI's own PATH has tmux; the daemon's does not.
  it("wm add exits 1 with the fix, and nothing is made", async () => {
    const res = await wb.wm(["add", "notmux"]);
    expect(res.code, res.stderr).toBe(1);
    expect(res.stderr).toContain(`tmux is not on the daemon's PATH (${bin}); nothing was created`);
    expect(res.stderr).toMatch(/hint: install tmux: .*wm daemon restart/);
    await expectNothingMade(wb, "notmux");
  });

  it("wm doctor reports tmux missing where the daemon looks; started again with tmux, both work", async () => {
    const doctor = await wb.wm(["doctor", "--json"]);
    expect(doctor.code).toBe(1);
    const tmux = (JSON.parse(doctor.stdout) as { checks: DoctorCheck[] }).checks.find(
      (c) => c.name === "tmux",
    );
    expect(tmux).toMatchObject({ status: "fail" });
    expect(tmux?.detail).toContain(`the daemon's PATH (${bin})`);

    // Control: the daemon started again from a shell whose PATH has tmux.
    const restarted = await wb.wm(["daemon", "restart"]);
    expect(restarted.code, restarted.stderr).toBe(0);
    const again = await wb.wm(["doctor", "--json"]);
    const tmuxAgain = (JSON.parse(again.stdout) as { checks: DoctorCheck[] }).checks.find(
      (c) => c.name === "tmux",
    );
    expect(tmuxAgain?.status).toBe("ok");
    const added = await wb.wm(["add", "notmux", "-b"]);
    expect(added.code, added.stderr).toBe(0);
  });
});
