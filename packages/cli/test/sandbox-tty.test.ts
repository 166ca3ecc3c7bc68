import { execFileSync } from "node:child_process";
import { promises as fs } from "node:fs";
import os from "node:os";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { makeSandboxHome, runWm, type SandboxHome, type TempHome, WM_BIN } from "@wm/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  failInCiWithoutVmTools,
  missingVmTools,
} from "../../daemon/src/backends/qemu/vm-tools.test-support.ts";

let home: TempHome;
let wt: string;
let server = `wmtest-${process.pid}`;

failInCiWithoutVmTools();

/** The same terminal behaviour from a container and from a session in a VM. */
const BACKENDS = [
  { backend: "container", config: "agent: demo\n", env: {} },
  ...(missingVmTools.length === 0
    ? [
        {
          backend: "vm",
          config:
            "agent: demo\nsandbox:\n  backend: vm\n  lima:\n    cpus: 2\n    memory: 1GiB\n    disk: 8GiB\n",
          env: { XDG_CACHE_HOME: path.join(os.homedir(), ".cache"), WM_VM_IDLE_SECONDS: "0" },
        },
      ]
    : []),
];

function tmux(...args: string[]): string {
  return execFileSync("tmux", ["-L", server, ...args], { encoding: "utf8" });
}

async function screenContains(text: string, timeoutMs = 20_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  let screen = "";
  while (Date.now() < deadline) {
    screen = tmux("capture-pane", "-p", "-t", "t");
    if (screen.includes(text)) return screen;
    await sleep(100);
  }
  throw new Error(`"${text}" never appeared; screen:\n${screen}`);
}

/** Run `wm sandbox run` in a real terminal (a tmux pane); the exit code lands in a file. */
async function inTerminal(script: string): Promise<string> {
  const codeFile = path.join(home.root, `code-${Date.now()}`);
  const runner = path.join(home.root, "run-in-terminal.sh");
  const exports = Object.entries(home.env)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `export ${k}='${v}'`)
    .join("\n");
  const scriptFile = path.join(home.root, "inside.sh");
  await fs.writeFile(scriptFile, script);
  await fs.writeFile(
    runner,
    `${exports}\n'${process.execPath}' '${WM_BIN}' sandbox run --worktree '${wt}' -- sh -c "$(cat '${scriptFile}')"\necho $? > '${codeFile}'\nsleep 60\n`,
  );
  try {
    tmux("kill-session", "-t", "t");
  } catch {}
  tmux("new-session", "-d", "-s", "t", "-x", "100", "-y", "30", `bash ${runner}`);
  return codeFile;
}

/** Wait until the daemon has a sandbox for this command: the client is past its start-up. */
async function sandboxListed(command: string): Promise<void> {
  for (;;) {
    const listed = await runWm(["sandbox", "list", "--json"], { env: home.env });
    const all = JSON.parse(listed.stdout).sandboxes as { command: string[] }[];
    if (all.some((s) => s.command.join(" ").includes(command))) return;
  }
}

async function exitCode(file: string): Promise<number> {
  // Generous: on a loaded machine the exit travels engine → daemon → client.
  for (let i = 0; i < 600; i++) {
    const text = await fs.readFile(file, "utf8").catch(() => "");
    if (text.trim()) return Number(text.trim());
    try {
      tmux("has-session", "-t", "t");
    } catch {
      throw new Error("the terminal closed without an exit code: the client was killed");
    }
    await sleep(100);
  }
  throw new Error("the client never exited");
}

describe.each(BACKENDS)("wm sandbox run on a terminal ($backend)", ({ backend, config, env }) => {
  let bench: SandboxHome;
  beforeAll(async () => {
    server = `wmtest-${process.pid}-${backend}`;
    bench = await makeSandboxHome({ branches: ["tty"], config, env });
    home = bench.home;
    wt = bench.repo.worktrees.tty as string;
    // A VM boots once here, so the terminal cases time the session, not the boot.
    const warm = await runWm(["sandbox", "run", "--worktree", wt, "--", "true"], {
      env: home.env,
      timeoutMs: 400_000,
    });
    expect(warm.code, warm.stderr).toBe(0);
  }, 720_000);

  afterAll(async () => {
    try {
      tmux("kill-server");
    } catch {}
    if (backend === "vm") {
      const listed = await runWm(["sandbox", "list", "--json"], { env: home.env });
      const vms = (JSON.parse(listed.stdout).vms as { name: string }[]).map((v) => v.name);
      if (vms.length > 0)
        await runWm(["sandbox", "stop", "--vm", "--rm", ...vms], {
          env: home.env,
          timeoutMs: 120_000,
        });
    }
    await bench.cleanup();
  }, 180_000);

  it("gives the command a TTY of the terminal's size, raw input, resize and the exit code", async () => {
    const codeFile = await inTerminal(
      "test -t 0 && echo has-tty; stty size; printf 'type> '; read line; echo got:$line; trap 'stty size; exit 5' WINCH; echo resize-me; while :; do sleep 0.1; done",
    );
    await screenContains("type>");
    const screen = await screenContains("has-tty");
    expect(screen).toContain("30 100");
    tmux("send-keys", "-t", "t", "hello world", "Enter");
    await screenContains("got:hello world");
    await screenContains("resize-me");
    tmux("resize-window", "-t", "t", "-x", "80", "-y", "24");
    await screenContains("24 80");
    expect(await exitCode(codeFile)).toBe(5);
    tmux("kill-session", "-t", "t");
  });

  it("Ctrl-C reaches the process inside", async () => {
    const codeFile = await inTerminal("echo sleeping; sleep 300");
    await screenContains("sleeping");
    tmux("send-keys", "-t", "t", "C-c");
    expect(await exitCode(codeFile)).toBe(130);
    tmux("kill-session", "-t", "t");
  });

  it("Ctrl-C pressed while the sandbox is still starting ends the run with 130", async () => {
    // Before raw mode the terminal turns Ctrl-C into SIGINT for the client (and its shell):
    // the client must take it and pass it on, not die and leave the sandbox behind.
    const codeFile = await inTerminal("echo sleeping; sleep 301");
    await sandboxListed("sleep 301");
    tmux("send-keys", "-t", "t", "C-c");
    expect(await exitCode(codeFile)).toBe(130);
    const listed = await runWm(["sandbox", "list", "--json"], { env: home.env });
    const running = (
      JSON.parse(listed.stdout).sandboxes as { command: string[]; state: string }[]
    ).filter((s) => s.command.join(" ").includes("sleep 301") && s.state === "running");
    expect(running).toEqual([]);
    tmux("kill-session", "-t", "t");
  });
});
