import { execFileSync, spawn } from "node:child_process";
import { promises as fs } from "node:fs";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { makeTempHome, runWm, type TempHome, WM_BIN } from "@wm/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { rootCommand } from "../src/commands/root.ts";
import { type CommandTree, loadCommandTree } from "../src/commands/spec.ts";

let home: TempHome;
let commands: CommandTree;
beforeAll(async () => {
  home = await makeTempHome();
  commands = await loadCommandTree(rootCommand);
});
afterAll(async () => {
  await runWm(["daemon", "stop"], { env: home.env });
  await home.cleanup();
});

function allPaths(cmd: CommandTree, prefix: string[] = []): string[][] {
  const here = prefix.length > 0 ? [prefix] : [];
  return [...here, ...(cmd.subcommands ?? []).flatMap((s) => allPaths(s, [...prefix, s.name]))];
}

describe("wm CLI surface", () => {
  it("prints the version", async () => {
    const res = await runWm(["--version"], { env: home.env });
    expect(res.stdout).toBe("wm 0.1.0\n");
  });

  it("has --help on every command, with usage and exit 0, without starting a daemon", async () => {
    for (const p of [[], ...allPaths(commands)]) {
      const res = await runWm([...p, "--help"], { env: home.env });
      expect(res.code, `wm ${p.join(" ")} --help`).toBe(0);
      expect(res.stdout).toContain(`Usage: wm${p.length ? ` ${p.join(" ")}` : ""}`);
    }
    await expect(fs.lstat(home.socketPath)).rejects.toThrow(/ENOENT/);
  });

  it("rejects unknown commands and options with exit 2 and a pointer to --help", async () => {
    const cmd = await runWm(["frobnicate"], { env: home.env });
    expect(cmd.code).toBe(2);
    expect(cmd.stderr).toContain('unknown command "frobnicate"');
    const opt = await runWm(["daemon", "status", "--colour"], { env: home.env });
    expect(opt.code).toBe(2);
    expect(opt.stderr).toContain("--colour");
    expect(opt.stderr).toContain("wm daemon status --help");
    const choice = await runWm(["completions", "tcsh"], { env: home.env });
    expect(choice.code).toBe(2);
    expect(choice.stderr).toContain("bash, zsh, fish");
  });

  it("prints one JSON document with --json", async () => {
    const res = await runWm(["config", "--json"], { env: home.env, cwd: home.root });
    expect(res.code, res.stderr).toBe(0);
    const doc = JSON.parse(res.stdout);
    expect(doc.config.agent).toBe("claude");
    expect(doc.sources.agent).toBe("default");
  });

  it("bash completion is valid bash and completes subcommands", async () => {
    const res = await runWm(["completions", "bash"], { env: home.env });
    const script = path.join(home.root, "wm.bash");
    await fs.writeFile(script, res.stdout);
    execFileSync("bash", ["-n", script]);
    const out = execFileSync(
      "bash",
      [
        "-c",
        `source ${script}; COMP_WORDS=(wm daemon st); COMP_CWORD=2; _wm_complete; printf '%s\\n' "\${COMPREPLY[@]}"`,
      ],
      { encoding: "utf8" },
    );
    expect(out.split("\n").filter(Boolean).sort()).toEqual(["start", "status", "stop"]);
  });

  it("zsh and fish completions name every top-level command", async () => {
    for (const shell of ["zsh", "fish"]) {
      const res = await runWm(["completions", shell], { env: home.env });
      expect(res.code).toBe(0);
      for (const s of rootCommand.subcommands ?? []) expect(res.stdout).toContain(s.name);
    }
  });
});

describe("wm daemon logs", () => {
  it("prints the log readably, raw with --json, and follows new lines with -f", async () => {
    await runWm(["daemon", "start"], { env: home.env });
    const plain = await runWm(["daemon", "logs", "-n", "5"], { env: home.env });
    expect(plain.code).toBe(0);
    expect(plain.stdout).toMatch(/INFO {2}daemon listening {2}socket=/);
    const raw = await runWm(["daemon", "logs", "-n", "1", "--json"], { env: home.env });
    expect(JSON.parse(raw.stdout.trim().split("\n")[0] as string)).toHaveProperty("msg");
    const follower = spawn(process.execPath, [WM_BIN, "daemon", "logs", "-f", "-n", "0"], {
      env: home.env,
    });
    let followed = "";
    follower.stdout.on("data", (d) => {
      followed += d;
    });
    await sleep(500);
    await runWm(["daemon", "stop"], { env: home.env });
    for (let i = 0; i < 50 && !followed.includes("daemon stopped"); i++) await sleep(100);
    follower.kill("SIGINT");
    expect(followed).toContain("daemon stopping");
    expect(followed).toContain("daemon stopped");
  });
});

describe("wm config", () => {
  it("reports a broken config with file, line and key, exit 5, and the daemon keeps serving", async () => {
    const repo = path.join(home.root, "repo");
    await fs.mkdir(path.join(repo, ".git"), { recursive: true });
    await fs.writeFile(
      path.join(repo, ".workmux.yaml"),
      "agent: claude\nsandbox:\n  enabled: maybe\n",
    );
    const res = await runWm(["config"], { env: home.env, cwd: repo });
    expect(res.code).toBe(5);
    expect(res.stderr).toContain(`${path.join(repo, ".workmux.yaml")}:3`);
    expect(res.stderr).toContain("sandbox.enabled");
    const again = await runWm(["daemon", "status"], { env: home.env });
    expect(again.code).toBe(0);
  });

  it("shows where each key came from and warns about widening keys in a project file", async () => {
    const repo = path.join(home.root, "repo2");
    await fs.mkdir(path.join(repo, ".git"), { recursive: true });
    await fs.mkdir(home.configDir, { recursive: true });
    await fs.writeFile(path.join(home.configDir, "config.yaml"), "merge_strategy: rebase\n");
    await fs.writeFile(
      path.join(repo, ".workmux.yaml"),
      "agent: codex\nsandbox:\n  host_commands: [make]\n",
    );
    const res = await runWm(["config"], { env: home.env, cwd: repo });
    expect(res.code, res.stderr).toBe(0);
    expect(res.stdout).toMatch(/merge_strategy\s+"rebase"\s+# .*config\.yaml/);
    expect(res.stdout).toMatch(/agent\s+"codex"\s+# .*\.workmux\.yaml/);
    expect(res.stdout).toContain("sandbox.host_commands");
    expect(res.stdout).not.toMatch(/host_commands\s+\["make"\]/);
  });

  it("says sidebar keys are never acted on, and why, apart from the keys not acted on yet", async () => {
    const repo = path.join(home.root, "repo3");
    await fs.mkdir(path.join(repo, ".git"), { recursive: true });
    await fs.writeFile(
      path.join(repo, ".workmux.yaml"),
      "sidebar:\n  width: 30\n  layout: compact\nauto_name:\n  model: small\n",
    );
    const res = await runWm(["config"], { env: home.env, cwd: repo });
    expect(res.code, res.stderr).toBe(0);
    const yet = res.stdout.split("accepted but not acted on by wm yet:\n")[1] ?? "";
    expect(yet.split("\n\n")[0]).toBe("  auto_name.model");
    const why = "wm has no sidebar pane; `wm dashboard` is the overview";
    expect(res.stdout).toContain(
      `accepted and never acted on by wm:\n  sidebar.layout: ${why}\n  sidebar.width: ${why}`,
    );
    const json = await runWm(["config", "--json"], { env: home.env, cwd: repo });
    const parsed = JSON.parse(json.stdout) as { notPlanned: Record<string, string> };
    expect(parsed.notPlanned).toEqual({ "sidebar.layout": why, "sidebar.width": why });
  });
});
