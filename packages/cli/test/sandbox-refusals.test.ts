import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, promises as fs } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  eventually,
  makeWorkbench,
  sandboxedScriptConfig,
  type Workbench,
} from "./worktree-fixture.ts";

// A sandbox the config asks for and wm cannot give as asked is refused before anything is
// made: no worktree, no tmux window, no container.

let wb: Workbench;
let configFile: string;

/** The global config: the demo agent sleeps, sandboxed, with these lines under `sandbox:`. */
/** A VM through Lima's limactl: a setting the daemon cannot honour yet. */
const LIMACTL = ["backend: lima", "lima:", "  driver: limactl"];

async function sandboxConfig(lines: readonly string[]): Promise<void> {
  await fs.writeFile(configFile, sandboxedScriptConfig("sleep 60", lines));
}

/** On a network holder: the sandbox it serves, "" for one started ahead for the next sandbox. */
const HELPER_OF = "wm.netns.helper-of";

/**
 * Containers of this bench's daemon (labelled with its home), running or not, but for the
 * network holders it keeps started for its next sandboxes.
 */
function containers(): string[] {
  const homeId = createHash("sha256").update(wb.home.stateDir).digest("hex").slice(0, 12);
  const ids = (...labels: string[]) =>
    execFileSync(
      "docker",
      ["ps", "-aq", ...[`wm.home=${homeId}`, ...labels].flatMap((l) => ["--filter", `label=${l}`])],
      { encoding: "utf8" },
    )
      .split("\n")
      .filter(Boolean);
  const all = ids();
  // Made ahead by a daemon, not for a refused request: spare holders, and the next run of a
  // worktree whose sandbox ran (the test that runs one with a known OCI runtime).
  const ahead = new Set([...ids(`${HELPER_OF}=`), ...ids("wm.prepared=1")]);
  return all.filter((id) => !ahead.has(id));
}

const worktreeOf = (handle: string) => path.join(path.dirname(wb.repo), "proj__worktrees", handle);

function expectNothingMade(handle: string): void {
  expect(existsSync(worktreeOf(handle))).toBe(false);
  expect(wb.windows().filter((w) => w.name.includes(handle))).toEqual([]);
  expect(containers()).toEqual([]);
}

async function runningSandboxOf(worktree: string) {
  const found = await eventually(async () => {
    const list = await wb.wmJson<{
      sandboxes: Array<{ worktree: string; state: string; containerId: string | null }>;
    }>(["sandbox", "list"]);
    return list.sandboxes.find((s) => s.worktree === worktree && s.state === "running");
  }, `a running sandbox in ${worktree}`);
  if (!found) throw new Error(`no running sandbox in ${worktree}`);
  return found;
}

beforeAll(async () => {
  wb = await makeWorkbench({ global: sandboxedScriptConfig("sleep 60") });
  configFile = path.join(wb.home.configDir, "config.yaml");
  const built = await wb.wm(["sandbox", "build", "--agent", "demo"], { timeoutMs: 300_000 });
  expect(built.code, built.stderr).toBe(0);
}, 320_000);

afterAll(async () => {
  await wb.wm(["sandbox", "stop", "--all"]).catch(() => undefined);
  await wb.cleanup();
});

describe("a sandbox wm cannot give as asked is refused", () => {
  it("sandbox.lima.driver: limactl (not driven by the daemon) refuses wm add --sandbox and wm sandbox run, naming key, file and what there is", async () => {
    await sandboxConfig(LIMACTL);
    const added = await wb.wm(["add", "lima-x", "--sandbox"]);
    expect(added.code, added.stderr).toBe(5);
    expect(added.stderr).toContain("sandbox.lima.driver");
    expect(added.stderr).toContain('"limactl"');
    expect(added.stderr).toContain(configFile);
    expect(added.stderr).toContain("wm's own QEMU runner");
    expectNothingMade("lima-x");

    // Unsandboxed, the backend does not matter.
    const plain = await wb.wm(["add", "plain", "--no-sandbox"]);
    expect(plain.code, plain.stderr).toBe(0);
    const run = await wb.wm(["sandbox", "run", "--worktree", worktreeOf("plain"), "--", "true"]);
    expect(run.code, run.stderr).toBe(5);
    expect(run.stderr).toContain("sandbox.lima.driver");
    expect(run.stderr).toContain(configFile);
    expect(containers()).toEqual([]);
  }, 60_000);

  it("with sandbox.backend: container the same add opens a sandboxed window whose sandbox runs", async () => {
    await sandboxConfig(["backend: container"]);
    const added = await wb.wmJson<{ worktree: { path: string; sandbox: boolean } }>([
      "add",
      "ok-x",
      "--sandbox",
    ]);
    expect(added.worktree.sandbox).toBe(true);
    expect(wb.windows().some((w) => w.worktree === added.worktree.path)).toBe(true);
    await runningSandboxOf(added.worktree.path);
    await wb.wm(["sandbox", "stop", "--all"]);
  }, 60_000);

  it("wm open of a sandboxed worktree whose window is gone is refused under sandbox.lima.driver: limactl", async () => {
    const closed = await wb.wm(["close", "ok-x"]);
    expect(closed.code, closed.stderr).toBe(0);
    await sandboxConfig(LIMACTL);
    const opened = await wb.wm(["open", "ok-x"]);
    expect(opened.code, opened.stderr).toBe(5);
    expect(opened.stderr).toContain("sandbox.lima.driver");
    expect(opened.stderr).toContain(configFile);
    expect(wb.windows().filter((w) => w.worktree === worktreeOf("ok-x"))).toEqual([]);
    expect(containers()).toEqual([]);
  }, 60_000);

  it("an OCI runtime the engine does not know is refused, naming those it has; one it knows is used", async () => {
    await sandboxConfig(["container:", "  oci_runtime: wm-no-such-runtime"]);
    const refused = await wb.wm(["add", "oci-x", "--sandbox"]);
    expect(refused.code, refused.stderr).toBe(5);
    expect(refused.stderr).toContain("sandbox.container.oci_runtime");
    expect(refused.stderr).toContain("wm-no-such-runtime");
    expect(refused.stderr).toContain(configFile);
    expect(refused.stderr).toMatch(/the runtimes it has: .*runc/);
    expectNothingMade("oci-x");

    await sandboxConfig(["container:", "  oci_runtime: runc"]);
    const added = await wb.wmJson<{ worktree: { path: string } }>(["add", "oci-y", "--sandbox"]);
    const sandbox = await runningSandboxOf(added.worktree.path);
    const runtime = execFileSync(
      "docker",
      ["inspect", "--format", "{{.HostConfig.Runtime}}", sandbox.containerId as string],
      { encoding: "utf8" },
    ).trim();
    expect(runtime).toBe("runc");
    await wb.wm(["sandbox", "stop", "--all"]);
  }, 60_000);

  it("sandbox.network.policy: deny with a VM (sandbox.backend: lima) is refused rather than run without the policy", async () => {
    const deny = ["network:", "  policy: deny", "  allowed_domains: [example.com]"];
    await sandboxConfig(["backend: lima", ...deny]);
    const added = await wb.wm(["add", "net-x", "--sandbox"]);
    expect(added.code, added.stderr).toBe(5);
    expect(added.stderr).toContain('sandbox.network.policy: "deny"');
    expect(added.stderr).toContain(configFile);
    expect(added.stderr).toContain("use the container backend for policy: deny");
    expectNothingMade("net-x");

    // The same deny on the container backend starts the sandbox.
    await sandboxConfig(deny);
    const ok = await wb.wmJson<{ worktree: { path: string } }>(["add", "net-y", "--sandbox"]);
    await runningSandboxOf(ok.worktree.path);
    await wb.wm(["sandbox", "stop", "--all"]);
  }, 60_000);

  it("sandbox.rpc_transport: tcp with sandbox.network.policy: deny is refused before anything is made: such a sandbox has no route to the daemon", async () => {
    const plain = await wb.wm(["add", "net-plain", "--no-sandbox"]);
    expect(plain.code, plain.stderr).toBe(0);
    await sandboxConfig([
      "rpc_transport: tcp",
      "network:",
      "  policy: deny",
      "  allowed_domains: [example.com]",
    ]);
    const added = await wb.wm(["add", "net-tcp", "--sandbox"]);
    expect(added.code, added.stderr).toBe(5);
    expect(added.stderr).toContain('sandbox.rpc_transport: "tcp"');
    expect(added.stderr).toContain(configFile);
    expect(added.stderr).toContain("no network route to the daemon");
    expectNothingMade("net-tcp");
    const run = await wb.wm([
      "sandbox",
      "run",
      "--worktree",
      worktreeOf("net-plain"),
      "--",
      "true",
    ]);
    expect(run.code, run.stderr).toBe(5);
    expect(run.stderr).toContain('sandbox.rpc_transport: "tcp"');
    expect(containers()).toEqual([]);
  }, 60_000);

  it("an agent's request to spawn another is refused once the config asks for a backend wm lacks", async () => {
    const script = [
      'while [ ! -e "$WM_WORKTREE/.go" ]; do sleep 0.2; done',
      'wm add spawned 2> "$WM_WORKTREE/.spawn-err"; echo "spawn=$?" > "$WM_WORKTREE/.spawn-result"',
      "sleep 60",
    ].join("\n");
    await fs.writeFile(configFile, sandboxedScriptConfig(script, ["backend: container"]));
    const added = await wb.wmJson<{ worktree: { path: string } }>(["add", "parent"]);
    const parent = added.worktree.path;
    await runningSandboxOf(parent);
    await fs.writeFile(configFile, sandboxedScriptConfig(script, LIMACTL));
    await fs.writeFile(path.join(parent, ".go"), "");
    const result = await eventually(
      () => fs.readFile(path.join(parent, ".spawn-result"), "utf8").catch(() => ""),
      "the agent's spawn request to be answered",
      30_000,
    );
    expect(result.trim()).not.toBe("spawn=0");
    const err = await fs.readFile(path.join(parent, ".spawn-err"), "utf8");
    expect(err).toContain("sandbox.lima.driver");
    expect(existsSync(worktreeOf("spawned"))).toBe(false);
    expect(wb.windows().filter((w) => w.name.includes("spawned"))).toEqual([]);
    await wb.wm(["sandbox", "stop", "--all"]);
  }, 60_000);

  it("a misspelt key under sandbox: fails wm add and wm open, naming file, key and the closest key", async () => {
    await fs.writeFile(
      configFile,
      ["agent: demo", "agents:", "  demo: sleep 60", "sandbox:", "  enabeld: true", ""].join("\n"),
    );
    const added = await wb.wm(["add", "typo-x"]);
    expect(added.code, added.stderr).toBe(5);
    expect(added.stderr).toContain("no agent was started");
    expect(added.stderr).toContain(`${configFile}:5: sandbox.enabeld is not a sandbox setting`);
    expect(added.stderr).toContain("did you mean sandbox.enabled?");
    expect(added.stderr).not.toContain("is ignored");
    expectNothingMade("typo-x");

    const opened = await wb.wm(["open", "plain"]);
    expect(opened.code, opened.stderr).toBe(5);
    expect(opened.stderr).toContain("sandbox.enabeld");

    const run = await wb.wm(["sandbox", "run", "--worktree", worktreeOf("plain"), "--", "true"]);
    expect(run.code, run.stderr).toBe(5);
    expect(run.stderr).toContain("sandbox.enabeld");
    expect(containers()).toEqual([]);
  }, 60_000);
});
