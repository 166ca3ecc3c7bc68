import { afterEach, describe, expect, it } from "vitest";
import {
  fixture,
  GLOBAL,
  PROJECT,
  REPO_GIT,
  type TempTree,
  tempTree,
} from "../../test/fixtures/config/temp-tree.ts";
import { loadConfig, loadGlobalConfig } from "./index.ts";

let tree: TempTree | undefined;
afterEach(async () => {
  await tree?.remove();
  tree = undefined;
});

async function loadFull() {
  tree = await tempTree({
    [GLOBAL]: await fixture("full/global.yaml"),
    [PROJECT]: await fixture("full/project.yaml"),
    [REPO_GIT]: "",
  });
  const loaded = await loadConfig({ cwd: tree.at("repo"), env: {}, homedir: tree.at("home") });
  return { tree, loaded };
}

const UNSUPPORTED_IN_FULL_FIXTURE = [
  "auto_name.background",
  "auto_name.model",
  "auto_name.system_prompt",
  "auto_update_check",
  "confirm_unmerged_removal",
  "dashboard.agent_columns",
  "dashboard.close_on_jump",
  "dashboard.show_check_counts",
  "dashboard.worktree_columns",
  "dashboard.worktree_label",
  "default_session",
  "sandbox.container.cap_add",
  "sandbox.container.devices",
  "sandbox.container.excluded_files",
  "sandbox.container.group_add",
  "sandbox.container.security_opt",
  "sandbox.rpc_host",
  "sidebar.agent_icons.claude",
  "sidebar.agent_icons.codex.color",
  "sidebar.agent_icons.codex.icon",
  "sidebar.collapse_stale",
  "sidebar.dim_stale",
  "sidebar.enter_action",
  "sidebar.group_by",
  "sidebar.height",
  "sidebar.horizontal.item_width",
  "sidebar.layout",
  "sidebar.position",
  "sidebar.sort",
  "sidebar.templates.compact",
  "sidebar.templates.grouped.compact",
  "sidebar.templates.grouped.header",
  "sidebar.templates.grouped.tiles",
  "sidebar.templates.horizontal",
  "sidebar.templates.tiles",
  "sidebar.templates.top",
  "sidebar.width",
  "stale_after",
];

describe("loadConfig with every documented key set", () => {
  it("loads with no errors and no unknown keys", async () => {
    const { loaded } = await loadFull();
    expect(loaded.warnings.filter((w) => w.message.startsWith("unknown key"))).toEqual([]);
    expect(loaded.warnings.map((w) => w.key).sort()).toEqual([
      "pre_delete",
      "sandbox.isolation",
      "target",
    ]);
  });

  it("lists exactly the keys wm does not act on yet as unsupported", async () => {
    const { loaded } = await loadFull();
    expect(loaded.unsupported).toEqual(UNSUPPORTED_IN_FULL_FIXTURE);
  });

  it("names both files and merges them", async () => {
    const { tree, loaded } = await loadFull();
    const { config } = loaded;
    expect(loaded.files).toEqual({ global: tree.at(GLOBAL), project: tree.at(PROJECT) });
    expect(config.mode).toBe("window");
    expect(config.worktree_naming).toBe("basename");
    expect(config.windows).toBeUndefined();
    expect(config.panes?.map((p) => p.name)).toEqual(["agent", undefined, "tests"]);
    expect(config.post_create).toEqual(["direnv allow", "pnpm install"]);
    expect(config.pre_merge).toEqual(["pnpm test"]);
    expect(config.pre_remove).toEqual(["echo bye"]);
    expect(config.files).toEqual({ copy: [".env", ".env.local"], symlink: ["node_modules"] });
    expect(config.stale_after).toBe(5400);
    expect(config.theme).toMatchObject({ scheme: "glacier-signal", mode: "light" });
    expect(Object.keys(config.layouts ?? {}).sort()).toEqual(["focus", "review"]);
    expect(config.status_icons).toEqual({ working: "W", waiting: "?", done: "OK", sleeping: "Z" });
    expect(config.auto_name).toEqual({
      command: "llm -m fast",
      model: "claude-haiku",
      system_prompt: "Name the branch.",
      background: true,
    });
    expect(config.sidebar?.width).toBe("25%");
    expect(config.sidebar?.layout).toBe("compact");
    expect(config.sidebar?.templates).toEqual({ horizontal: "{icon}" });
  });

  it("normalises short forms and honours the global file's sandbox keys", async () => {
    const { config } = (await loadFull()).loaded;
    expect(config.agents).toEqual({
      reviewer: { command: "claude --model opus" },
      wrapped: {
        command: "/opt/bin/claude-wrapper",
        type: "claude",
        args: ["--verbose"],
        env: { MODE: "review", API_KEY: { from_env: "REVIEW_API_KEY" } },
      },
    });
    expect(config.sandbox.extra_mounts).toEqual([
      { host_path: "~/.cache/pip", writable: false },
      { host_path: "/srv/data", guest_path: "/data", writable: true },
    ]);
    expect(config.sandbox.network.allowed_domains).toEqual([
      { host: "api.anthropic.com", allow_private_ips: false },
      { host: "*.githubusercontent.com", allow_private_ips: false },
      { host: "registry.internal.example", allow_private_ips: true },
    ]);
    expect(config.sandbox.container).toMatchObject({
      runtime: "docker",
      memory: "4G",
      cpus: 2,
      pids_limit: 1024,
    });
    expect(config.sandbox.lima).toEqual({
      isolation: "shared",
      projects_dir: "~/src",
      cpus: 2,
      memory: "4GiB",
      disk: "20GiB",
      provision: "echo project",
      skip_default_provision: true,
    });
    expect(config.sandbox).toMatchObject({
      image: "wm-sandbox:project",
      env_passthrough: ["GITHUB_TOKEN", "NPM_TOKEN"],
      host_commands: ["gh", "just"],
      rpc_transport: "tcp",
    });
    expect(config.daemon).toEqual({ idle_timeout: 2700, log_level: "debug" });
  });

  it("records the file each leaf came from", async () => {
    const { tree, loaded } = await loadFull();
    expect(loaded.sources).toMatchObject({
      mode: tree.at(PROJECT),
      worktree_naming: tree.at(GLOBAL),
      "status_icons.done": tree.at(PROJECT),
      "status_icons.working": tree.at(GLOBAL),
      "sandbox.container.memory": tree.at(PROJECT),
      "sandbox.container.runtime": tree.at(GLOBAL),
      "sandbox.enabled": tree.at(GLOBAL),
      post_create: tree.at(PROJECT),
    });
  });

  it("returns a deep-frozen config", async () => {
    const { config } = (await loadFull()).loaded;
    expect(Object.isFrozen(config)).toBe(true);
    expect(Object.isFrozen(config.sandbox.container)).toBe(true);
    expect(Object.isFrozen(config.sandbox.host_commands)).toBe(true);
    expect(() => {
      (config.sandbox.host_commands as string[]).push("sh");
    }).toThrow(TypeError);
  });
});

describe("defaults", () => {
  it("applies every default when there are no files", async () => {
    tree = await tempTree({ "home/": "", [REPO_GIT]: "" });
    const loaded = await loadConfig({ cwd: tree.at("repo"), env: {}, homedir: tree.at("home") });
    expect(loaded.files).toEqual({ global: null, project: null });
    expect(loaded.unsupported).toEqual([]);
    expect(loaded.config).toMatchObject({
      agent: "claude",
      mode: "window",
      worktree_naming: "full",
      merge_strategy: "merge",
      status_format: true,
      window_prefix: "wm-",
      status_icons: { working: "🤖", waiting: "💬", done: "✅" },
      panes: [{ focus: true }, { command: "clear", split: "horizontal" }],
      sandbox: {
        enabled: false,
        backend: "container",
        target: "agent",
        env_passthrough: ["GITHUB_TOKEN"],
        rpc_transport: "socket",
        container: { pids_limit: 512 },
        network: { policy: "allow", allowed_domains: [] },
      },
      daemon: { idle_timeout: 1800, log_level: "info" },
    });
    expect(Object.values(loaded.sources).every((s) => s === "default")).toBe(true);
  });

  it("starts the agent in the first pane when the project has a CLAUDE.md", async () => {
    tree = await tempTree({ "home/": "", [REPO_GIT]: "", "repo/CLAUDE.md": "# notes" });
    const { config } = await loadConfig({
      cwd: tree.at("repo"),
      env: {},
      homedir: tree.at("home"),
    });
    expect(config.panes).toEqual([
      { command: "<agent>", focus: true },
      { command: "clear", split: "horizontal" },
    ]);
  });

  it("uses the nerdfont window prefix when nerdfont is on", async () => {
    tree = await tempTree({ [GLOBAL]: "nerdfont: true\n" });
    const { config } = await loadGlobalConfig({ env: {}, homedir: tree.at("home") });
    expect(config.window_prefix).toBe("\uf418 ");
  });
});

describe("loadGlobalConfig", () => {
  it("reads the daemon settings from the global file alone", async () => {
    tree = await tempTree({
      [GLOBAL]: "daemon:\n  idle_timeout: 0\n  log_level: trace\n",
      [PROJECT]: "daemon:\n  log_level: error\n",
      [REPO_GIT]: "",
    });
    const loaded = await loadGlobalConfig({ env: {}, homedir: tree.at("home") });
    expect(loaded.files).toEqual({ global: tree.at(GLOBAL), project: null });
    expect(loaded.config.daemon).toEqual({ idle_timeout: 0, log_level: "trace" });
  });
});
