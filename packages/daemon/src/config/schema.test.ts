import { describe, expect, it } from "vitest";
import { parseYaml } from "./parse.ts";
import { parseDuration } from "./schema-common.ts";
import { isTree, withoutNulls } from "./tree.ts";
import { validateFile } from "./validate.ts";

function check(yaml: string) {
  const parsed = parseYaml("/f.yaml", yaml);
  const raw = withoutNulls(parsed.value ?? {});
  if (!isTree(raw)) throw new Error("not a map");
  const result = validateFile("/f.yaml", raw, parsed.locate);
  return { ...result, errors: result.errors.map((e) => `${e.key}: ${e.message}`) };
}

describe("durations", () => {
  it.each([
    ["90", 90],
    ["30m", 1800],
    ["1h30m", 5400],
    ["2 hours", 7200],
    ["1d", 86_400],
    ["45 min", 2700],
  ])("%s is %d seconds", (text, seconds) => {
    expect(parseDuration(text)).toBe(seconds);
  });

  it.each(["soon", "10x", "", "1h 30", "-5m"])("%j is not a duration", (text) => {
    expect(parseDuration(text)).toBeUndefined();
  });

  it("daemon.idle_timeout and stale_after take seconds or a duration", () => {
    expect(check("daemon:\n  idle_timeout: 0\nstale_after: 90m\n").value).toMatchObject({
      daemon: { idle_timeout: 0 },
      stale_after: 5400,
    });
    expect(check("daemon:\n  idle_timeout: -1\n").errors).toEqual([
      "daemon.idle_timeout: must be at least 0, got -1",
    ]);
  });
});

describe("either-or forms", () => {
  it("sidebar.width is columns or a percentage", () => {
    expect(check("sidebar:\n  width: 40\n").value?.sidebar?.width).toBe(40);
    expect(check('sidebar:\n  width: "25%"\n').value?.sidebar?.width).toBe("25%");
    expect(check('sidebar:\n  width: "30"\n').value?.sidebar?.width).toBe(30);
    expect(check('sidebar:\n  width: "150%"\n').errors).toEqual([
      'sidebar.width: expected columns or "N%" (1-100), got "150%"',
    ]);
    expect(check("sidebar:\n  width: true\n").errors).toEqual([
      'sidebar.width: expected a number of columns or a percentage like "15%"',
    ]);
  });

  it("theme is a scheme name, dark/light, or a map with colour aliases", () => {
    expect(check("theme: dark\n").value?.theme).toEqual({ mode: "dark" });
    expect(check("theme: Emberforge\n").value?.theme).toEqual({ scheme: "emberforge" });
    expect(
      check('theme:\n  mode: Sepia\n  custom:\n    bg: "#000"\n    fg: "#fff"\n    error: "#f00"\n')
        .value?.theme,
    ).toEqual({ mode: "dark", custom: { current_row_bg: "#000", text: "#fff", danger: "#f00" } });
  });

  it("a theme colour is a name, #rgb/#rrggbb or 0-255; anything else names its key", () => {
    expect(
      check('theme:\n  custom:\n    accent: "#ff00aa"\n    info: light-red\n    dimmed: 244\n')
        .errors,
    ).toEqual([]);
    expect(check("theme:\n  custom:\n    accent: purple-ish\n").errors).toEqual([
      'theme.custom.accent: "purple-ish" is not a colour: use a name (red, lightblue, …), #rrggbb, or 0-255',
    ]);
    expect(check("theme:\n  custom:\n    fg: 256\n").errors[0]).toMatch(/^theme\.custom\.fg: /);
  });

  it("agents are a command string or a map whose command is optional", () => {
    expect(check("agents:\n  a: claude --fast\n  b:\n    type: codex\n").value?.agents).toEqual({
      a: { command: "claude --fast" },
      b: { type: "codex" },
    });
    expect(check("agents:\n  a: 3\n").errors).toEqual([
      "agents.a: expected a string or a map, got 3",
    ]);
  });

  it("extra_mounts are a path or a map, with absolute or ~ paths", () => {
    expect(
      check("sandbox:\n  extra_mounts: [~/data, {host_path: /a, guest_path: /b}]\n").value?.sandbox
        ?.extra_mounts,
    ).toEqual([
      { host_path: "~/data", writable: false },
      { host_path: "/a", guest_path: "/b", writable: false },
    ]);
    expect(check("sandbox:\n  extra_mounts: [{host_path: /a, guest_path: b}]\n").errors).toEqual([
      "sandbox.extra_mounts.0.guest_path: must be an absolute path or start with ~/",
    ]);
  });

  it("devices and group_add take both of their forms", () => {
    const { value, errors } = check(
      "sandbox:\n  container:\n    devices: [/dev/fuse, {host_path: /dev/kvm, permissions: rw}]\n    group_add: [video, 44]\n",
    );
    expect(errors).toEqual([]);
    expect(value?.sandbox?.container?.group_add).toEqual(["video", 44]);
    expect(
      check("sandbox:\n  container:\n    devices: [{host_path: /dev/x, permissions: rwx}]\n")
        .errors,
    ).toEqual(["sandbox.container.devices.0.permissions: permissions are letters from rwm"]);
  });
});

describe("value rules", () => {
  it.each([
    ["sandbox:\n  host_commands: [../bin/sh]\n", "sandbox.host_commands.0"],
    ["sandbox:\n  env_passthrough: [MY-VAR]\n", "sandbox.env_passthrough.0"],
    ["sandbox:\n  env:\n    A: 1\n", "sandbox.env.A"],
    ["sandbox:\n  container:\n    memory: lots\n", "sandbox.container.memory"],
    [
      "sandbox:\n  container:\n    excluded_files: [/etc/passwd]\n",
      "sandbox.container.excluded_files.0",
    ],
    ["sandbox:\n  lima:\n    isolation: vm\n", "sandbox.lima.isolation"],
    ["dashboard:\n  agent_columns: [number, colour]\n", "dashboard.agent_columns.1"],
    ["dashboard:\n  preview_size: 300\n", "dashboard.preview_size"],
    ["hook_shell: []\n", "hook_shell"],
    ["windows: []\n", "windows"],
    ["layouts:\n  dev: {}\n", "layouts.dev.panes"],
  ])("%j is rejected at %s", (yaml, key) => {
    expect(check(yaml).errors.map((e) => e.split(":")[0])).toEqual([key]);
  });

  it("a key with no value counts as not set", () => {
    expect(check("agent:\nsandbox:\n  container:\n    cpus:\n").value).toEqual({
      sandbox: { container: {} },
    });
  });
});
