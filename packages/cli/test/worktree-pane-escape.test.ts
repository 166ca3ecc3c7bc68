import { promises as fs } from "node:fs";
import os from "node:os";
import path from "node:path";
import type { WorktreeSummary } from "@wm/protocol";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventually, makeWorkbench, type Workbench } from "./worktree-fixture.ts";

// Pane commands holding every kind of shell syntax, each trying to append a marker with
// `$(hostname)` to a host directory that the sandbox does not mount (`<home>/leak`, outside the
// worktree), then writing `ran-N` (its `$(hostname)`) into the worktree, which is mounted. Each
// command is the one pane of its own worktree (`wm add pN`), so the sandboxes start one after
// another. With `sandbox: {enabled: true, target: all}` the pane is typed as `wm sandbox run …
// -- sh -c '<command>'`; the whole command runs inside, so the leak directory does not exist
// where it runs and no marker reaches the host. The control types the same table unsandboxed: every
// marker appears, with the host's hostname — the payloads do fire when they run on the host.

const HOST = os.hostname();

/** The table: name → command, given the leak directory. */
function commands(leak: string): Array<[string, string]> {
  const m = (n: number) => `echo "M${n} $(hostname)" >> ${leak}/marker-${n}`;
  const ran = (n: number) => `echo "$(hostname)" > ran-${n}`;
  return [
    ["semicolon", `true; ${m(1)}; ${ran(1)}`],
    ["and", `true && ${m(2)}; ${ran(2)}`],
    ["or", `false || ${m(3)}; ${ran(3)}`],
    ["pipe", `echo "M4 $(hostname)" | tee -a ${leak}/marker-4 >/dev/null; ${ran(4)}`],
    ["command substitution", `: $(${m(5)}); ${ran(5)}`],
    ["backticks", `: \`${m(6)}\`; ${ran(6)}`],
    ["newline", `true\n${m(7)}\n${ran(7)}`],
    ["quotes", `echo 'q'"'"'uote' "M8 $(hostname)" >> ${leak}/marker-8; ${ran(8)}`],
    ["comment", `${m(9)} # it's a comment; with "quotes\n${ran(9)}`],
    ["trailing &", `${m(10)} &\nwait; ${ran(10)}`],
    ["here-doc", `cat <<EOF >> ${leak}/marker-11\nM11 $(hostname)\nEOF\n${ran(11)}`],
  ];
}

interface Setup {
  bench: Workbench;
  leak: string;
  table: Array<[string, string]>;
}

async function setUp(runtime?: "docker" | "podman"): Promise<Setup> {
  const bench = await makeWorkbench({
    global: runtime
      ? `agent: demo\nsandbox:\n  container:\n    runtime: ${runtime}\n`
      : "agent: demo\n",
  });
  const leak = path.join(bench.home.root, "leak");
  await fs.mkdir(leak);
  await fs.appendFile(path.join(bench.repo, ".git", "info", "exclude"), "ran-*\n");
  if (runtime) {
    const built = await bench.wm(["sandbox", "build", "--agent", "demo"], { timeoutMs: 300_000 });
    expect(built.code, built.stderr).toBe(0);
  }
  return { bench, leak, table: commands(leak) };
}

type Added = { worktree: WorktreeSummary; panes: string[] };

/**
 * Commits a project `.workmux.yaml` whose one pane runs `command`, adds worktree `name` with
 * it, waits for the pane's `ran-N` (the command's last step) and returns the hostname there.
 * One worktree per command: the sandboxes start one after another.
 */
async function runPane(
  s: Setup,
  n: number,
  command: string,
  sandbox: boolean,
): Promise<{ added: Added; host: string }> {
  const { bench } = s;
  await fs.writeFile(
    path.join(bench.repo, ".workmux.yaml"),
    `sandbox: { enabled: ${sandbox}, target: all }\npanes:\n  - command: ${JSON.stringify(command)}\n`,
  );
  bench.git(bench.repo, "add", ".workmux.yaml");
  bench.git(bench.repo, "commit", "-q", "-m", `pane ${n}`);
  const added = await bench.wmJson<Added>([
    "add",
    `p${n}`,
    sandbox ? "--sandbox" : "--no-sandbox",
    "-b",
  ]);
  expect(added.worktree.sandbox).toBe(sandbox);
  const ran = path.join(added.worktree.path, `ran-${n}`);
  try {
    const host = await eventually(
      async () => {
        const text = await fs.readFile(ran, "utf8").catch(() => "");
        return text.endsWith("\n") ? text.trim() : "";
      },
      `the pane to write ran-${n}`,
      90_000,
    );
    return { added, host };
  } catch (err) {
    const pane = bench.tmux("capture-pane", "-p", "-J", "-t", added.panes[0] as string);
    throw new Error(`${(err as Error).message}\n--- the pane:\n${pane.trim()}`);
  }
}

const TABLE = commands("LEAK").map(([name], i) => [name, i + 1] as const);

describe.each(["docker", "podman"] as const)("sandboxed panes on %s", (runtime) => {
  let s: Setup;
  beforeAll(async () => {
    s = await setUp(runtime);
  }, 320_000);
  afterAll(async () => {
    await s.bench.wm(["sandbox", "stop", "--all"]).catch(() => undefined);
    await s.bench.cleanup();
  });

  it.each(TABLE)(
    "%s: runs whole inside the sandbox; no marker reaches the host",
    async (_, n) => {
      const command = s.table[n - 1]?.[1] as string;
      const { added, host } = await runPane(s, n, command, true);
      expect(await fs.readdir(s.leak)).toEqual([]);
      // The command's last step ran inside a container: its hostname is not the host's.
      expect(host).not.toBe(HOST);
      // Typed as one quoted argument of `sh -c`, after `--`.
      const typed = s.bench.tmux("capture-pane", "-p", "-J", "-t", added.panes[0] as string);
      expect(typed).toContain(`sandbox run --worktree ${added.worktree.path} -- sh -c '`);
    },
    120_000,
  );
});

describe("control: the same pane commands unsandboxed", () => {
  let s: Setup;
  beforeAll(async () => {
    s = await setUp();
  }, 60_000);
  afterAll(async () => {
    await s.bench.cleanup();
  });

  it.each(TABLE)(
    "%s: the marker reaches the host, with the host's hostname",
    async (name, n) => {
      const command = s.table[n - 1]?.[1] as string;
      const { host } = await runPane(s, n, command, false);
      expect(host).toBe(HOST);
      const text = await fs.readFile(path.join(s.leak, `marker-${n}`), "utf8");
      expect(text, name).toContain(`M${n} ${HOST}\n`);
    },
    120_000,
  );
});
