import { PROTOCOL_VERSION, WM_VERSION } from "@wm/protocol";
import { describe, expect, it } from "vitest";
import { applyDefaults } from "../config/defaults.ts";
import { wmConfigSchema } from "../config/effective-schema.ts";
import type { WmConfig } from "../config/index.ts";
import type { Tree } from "../config/tree.ts";
import type { WorktreeRecord } from "./git-layout.ts";
import { imageChoice, type LaunchRequest, launchPlan, ownLabels } from "./launch-plan.ts";
import { recordFromLabels } from "./record-labels.ts";

/** A merged config with wm's defaults, as loadConfig would give it. */
function config(tree: Tree = {}): WmConfig {
  const merged = structuredClone(tree);
  applyDefaults(merged, new Map(), { hasClaudeMd: false });
  return wmConfigSchema.parse(merged);
}

// No such directory: the plan never looks at the disk.
const worktree: WorktreeRecord = {
  worktreePath: "/nowhere/proj__worktrees/feat",
  commonDir: "/nowhere/proj/.git",
  adminDir: "/nowhere/proj/.git/worktrees/feat",
  branch: "feat",
};

const request: LaunchRequest = {
  id: "sb-0123456789ab",
  name: "feat",
  engineName: "wm-feat-012345",
  owner: { uid: 1000, gid: 100 },
  command: ["claude"],
  tty: true,
  interactive: true,
  clientEnv: {},
};

const HASH = "f".repeat(64);
const host = { env: {}, ownLabels: ownLabels({ uid: 1000, homeId: "abc123" }) };

describe("imageChoice", () => {
  it("is Docker and the agent's wm-sandbox image by default", () => {
    expect(imageChoice(config())).toEqual({
      runtime: "docker",
      agent: "claude",
      image: "wm-sandbox:claude",
    });
  });

  it("follows sandbox.container.runtime, sandbox.image and the agent's program", () => {
    const c = config({
      agent: "/opt/bin/demo --fast",
      sandbox: { image: "mine:1", container: { runtime: "podman" } },
    });
    expect(imageChoice(c)).toEqual({ runtime: "podman", agent: "demo", image: "mine:1" });
  });

  it("gives an agent chosen for one worktree its own image, and a runtime asked by name", () => {
    const c = config({ sandbox: { image: "mine:1" } });
    expect(imageChoice(c, { agent: "codex --x", runtime: "podman" })).toEqual({
      runtime: "podman",
      agent: "codex",
      image: "wm-sandbox:codex",
    });
  });
});

describe("launchPlan", () => {
  it("runs the command as the worktree's owner in the worktree, with wm's defaults", () => {
    const plan = launchPlan(config(), worktree, request, host);
    expect(plan).toMatchObject({
      runtime: "docker",
      agent: "claude",
      image: "wm-sandbox:claude",
      name: "wm-feat-012345",
      user: { uid: 1000, gid: 100 },
      workdir: worktree.worktreePath,
      command: ["claude"],
      terminal: { tty: true, stdin: true },
      limits: { pids: 512, memoryBytes: undefined, cpus: undefined },
      ociRuntime: undefined,
      transport: "socket",
      hostCommands: [],
      extraMounts: [],
    });
  });

  it("sets the terminal size before the command when a TTY has one", () => {
    const sized = { ...request, size: { rows: 40, cols: 120 } };
    expect(launchPlan(config(), worktree, sized, host).command).toEqual([
      "/bin/sh",
      "-c",
      'stty rows "$0" cols "$1" 2>/dev/null; shift; exec "$@"',
      "40",
      "120",
      "claude",
    ]);
    const noTty = { ...sized, tty: false };
    expect(launchPlan(config(), worktree, noTty, host).command).toEqual(["claude"]);
  });

  it("builds the environment: wm's variables, the client's terminal, passthrough, then sandbox.env", () => {
    const c = config({
      sandbox: { env_passthrough: ["GITHUB_TOKEN", "FROM_DAEMON"], env: { RUST_LOG: "debug" } },
    });
    const plan = launchPlan(
      c,
      worktree,
      { ...request, clientEnv: { TERM: "xterm-256color", GITHUB_TOKEN: "t", SECRET: "no" } },
      { ...host, env: { FROM_DAEMON: "d", GITHUB_TOKEN: "daemon's", OTHER: "no" } },
    );
    expect(plan.env).toEqual({
      WM_SANDBOX_GUEST: "1",
      WM_SANDBOX_ID: "sb-0123456789ab",
      WM_WORKTREE: worktree.worktreePath,
      HOME: expect.any(String),
      TERM: "xterm-256color",
      GITHUB_TOKEN: "t",
      FROM_DAEMON: "d",
      RUST_LOG: "debug",
    });
  });

  it("labels the sandbox as this daemon's and with what rebuilds its record", () => {
    const plan = launchPlan(
      config({ sandbox: { rpc_transport: "tcp" } }),
      worktree,
      { ...request, tcp: { host: "172.17.0.1", port: 4242, tokenHash: HASH } },
      host,
    );
    expect(plan.labels).toEqual({
      "wm.owner": "1000",
      "wm.home": "abc123",
      "wm.sandbox": "sb-0123456789ab",
      "wm.name": "feat",
      "wm.worktree": worktree.worktreePath,
      "wm.git.common": worktree.commonDir,
      "wm.git.admin": worktree.adminDir,
      "wm.git.branch": "feat",
      "wm.user": "1000:100",
      "wm.tty": "true",
      "wm.transport": "tcp",
      "wm.tcp.host": "172.17.0.1",
      "wm.tcp.port": "4242",
      "wm.tcp.token-sha256": HASH,
      "wm.version": WM_VERSION,
      "wm.protocol": String(PROTOCOL_VERSION),
    });
    expect(plan.transport).toBe("tcp");
    const running = { handle: "c1", name: plan.name, image: plan.image, labels: plan.labels };
    expect(recordFromLabels(running, plan.runtime)).toMatchObject({
      id: "sb-0123456789ab",
      worktree: worktree.worktreePath,
      containerId: "c1",
      user: "1000:100",
      transport: "tcp",
      tcpHost: "172.17.0.1",
      tcpPort: 4242,
      tokenHash: HASH,
    });
  });

  it("carries limits, the OCI runtime, host commands and extra mounts from the config", () => {
    const plan = launchPlan(
      config({
        sandbox: {
          host_commands: ["gh"],
          extra_mounts: ["~/data"],
          container: { pids_limit: 64, memory: "2g", cpus: 2, oci_runtime: "runsc" },
        },
      }),
      worktree,
      { ...request, agent: "demo" },
      host,
    );
    expect(plan).toMatchObject({
      image: "wm-sandbox:demo",
      limits: { pids: 64, memoryBytes: 2 * 1024 ** 3, cpus: 2 },
      ociRuntime: "runsc",
      hostCommands: ["gh"],
      extraMounts: [{ host_path: "~/data", writable: false }],
    });
  });
});
