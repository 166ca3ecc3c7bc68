import type { ConfigDiagnostic } from "@wm/protocol";
import { afterEach, describe, expect, it } from "vitest";
import {
  fixture,
  GLOBAL,
  PROJECT,
  REPO_GIT,
  type TempTree,
  tempTree,
} from "../../test/fixtures/config/temp-tree.ts";
import { ConfigError, loadConfig } from "./index.ts";

let tree: TempTree | undefined;
afterEach(async () => {
  await tree?.remove();
  tree = undefined;
});

async function diagnosticsFor(files: Record<string, string>): Promise<ConfigDiagnostic[]> {
  tree = await tempTree({ "home/": "", [REPO_GIT]: "", ...files });
  const error = await loadConfig({ cwd: tree.at("repo"), env: {}, homedir: tree.at("home") }).then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(error).toBeInstanceOf(ConfigError);
  return (error as ConfigError).diagnostics;
}

async function brokenGlobal(name: string) {
  const diagnostics = await diagnosticsFor({ [GLOBAL]: await fixture(`broken/${name}`) });
  const file = tree?.at(GLOBAL);
  for (const d of diagnostics) expect(d.file).toBe(file);
  return diagnostics.map(({ key, line, column }) => ({ key, line, column }));
}

describe("config errors name the file, key and line", () => {
  it("wrong type", async () => {
    const diagnostics = await diagnosticsFor({ [GLOBAL]: await fixture("broken/wrong-type.yaml") });
    expect(diagnostics).toEqual([
      {
        file: tree?.at(GLOBAL),
        key: "sandbox.container.cpus",
        line: 4,
        column: 11,
        message: 'expected an integer, got "four"',
      },
    ]);
  });

  it("bad enum value", async () => {
    const [d] = await diagnosticsFor({ [GLOBAL]: await fixture("broken/bad-enum.yaml") });
    expect(d).toMatchObject({ key: "merge_strategy", line: 2, column: 17 });
    expect(d?.message).toBe('expected one of "merge", "rebase", "squash", got "fast-forward"');
  });

  it("invalid YAML", async () => {
    expect(await brokenGlobal("invalid-yaml.yaml")).toEqual([
      { key: "panes.0.command", line: 3, column: 14 },
    ]);
    const [bad] = await diagnosticsFor({ [PROJECT]: "agent: a\nmode: [window\nnerdfont: true\n" });
    expect(bad).toMatchObject({ file: tree?.at(PROJECT), line: 3 });
    expect(bad?.message).toMatch(/^invalid YAML: /);
  });

  it("duplicate key", async () => {
    const diagnostics = await diagnosticsFor({
      [GLOBAL]: await fixture("broken/duplicate-key.yaml"),
    });
    expect(diagnostics).toEqual([
      {
        file: tree?.at(GLOBAL),
        key: "sandbox.enabled",
        line: 4,
        column: 3,
        message: "duplicate key: a key may appear only once in a map",
      },
    ]);
  });

  it("pane rule violations, each at its pane key", async () => {
    const diagnostics = await diagnosticsFor({
      [PROJECT]: await fixture("broken/pane-rules.yaml"),
    });
    expect(diagnostics.map(({ key, line, message }) => ({ key, line, message }))).toEqual([
      { key: "panes.0.split", line: 3, message: "the first pane cannot have a split" },
      { key: "panes.0.percentage", line: 4, message: "the first pane cannot have a percentage" },
      {
        key: "panes.1",
        line: 5,
        message: "every pane after the first needs split: horizontal or vertical",
      },
      {
        key: "panes.2.percentage",
        line: 9,
        message: "size and percentage are mutually exclusive; keep one",
      },
      {
        key: "panes.2.percentage",
        line: 9,
        message: "percentage must be between 1 and 100, got 120",
      },
      {
        key: "panes.3.target",
        line: 12,
        message: "target must name an earlier pane (0-2), got 3",
      },
      {
        key: "panes.4.zoom",
        line: 16,
        message: "only one pane can have zoom: true (pane 3 already has it)",
      },
    ]);
    expect(diagnostics.every((d) => d.file === tree?.at(PROJECT))).toBe(true);
  });

  it("pane rules apply inside windows and layouts too", async () => {
    const diagnostics = await diagnosticsFor({
      [GLOBAL]: [
        "windows:",
        "  - panes:",
        "      - command: a",
        "      - command: b",
        "layouts:",
        "  dev:",
        "    panes:",
        "      - command: a",
        "        size: 3",
      ].join("\n"),
    });
    expect(diagnostics.map(({ key, line }) => ({ key, line }))).toEqual([
      { key: "windows.0.panes.1", line: 4 },
      { key: "layouts.dev.panes.0.size", line: 9 },
    ]);
  });

  it("bad allowed_domains entries", async () => {
    const diagnostics = await diagnosticsFor({
      [GLOBAL]: await fixture("broken/bad-domains.yaml"),
    });
    expect(diagnostics.map(({ key, line, message }) => ({ key, line, message }))).toEqual([
      {
        key: "sandbox.network.allowed_domains.1",
        line: 6,
        message: "IP literals are not allowed, only domain names: 140.82.112.3",
      },
      {
        key: "sandbox.network.allowed_domains.2",
        line: 7,
        message: "trailing dot not allowed: example.com.",
      },
      {
        key: "sandbox.network.allowed_domains.3",
        line: 8,
        message: "wildcards must have the form *.suffix: api.*.example.com",
      },
      { key: "sandbox.network.allowed_domains.4", line: 9, message: "empty domain" },
      {
        key: "sandbox.network.allowed_domains.5.host",
        line: 10,
        message: "IP literals are not allowed, only domain names: ::1",
      },
    ]);
  });

  it("reports every problem in a file, not just the first", async () => {
    const diagnostics = await brokenGlobal("many-errors.yaml");
    expect(diagnostics.map((d) => `${d.line}:${d.key}`)).toEqual([
      "1:mode",
      "2:nerdfont",
      "5:panes.1",
      "7:sandbox.target",
      "9:sandbox.container.runtime",
      "10:sandbox.container.cpus",
      "11:sandbox.container.memory",
      "13:sandbox.extra_mounts.0",
      "15:sandbox.extra_mounts.1.writable",
      "17:daemon.idle_timeout",
      "18:daemon.log_level",
    ]);
  });

  it("reports problems in both files together", async () => {
    const diagnostics = await diagnosticsFor({
      [GLOBAL]: "mode: tab\n",
      [PROJECT]: "agent: claude\nstatus_format: maybe\n",
    });
    expect(diagnostics.map((d) => [d.file, d.key, d.line])).toEqual([
      [tree?.at(GLOBAL), "mode", 1],
      [tree?.at(PROJECT), "status_format", 2],
    ]);
  });

  it("a top level that is not a map", async () => {
    const [d] = await diagnosticsFor({ [GLOBAL]: await fixture("broken/not-a-map.yaml") });
    expect(d).toMatchObject({ key: "", line: 1 });
  });

  it("formats the message as file:line: key: message, one line per problem", async () => {
    tree = await tempTree({ [GLOBAL]: "mode: tab\nnerdfont: 1\n" });
    const error = await loadConfig({ cwd: tree.root, env: {}, homedir: tree.at("home") }).then(
      () => new Error("loaded"),
      (err: unknown) => err as Error,
    );
    expect(error.message.split("\n")).toEqual([
      "invalid configuration (2 problems):",
      `  ${tree.at(GLOBAL)}:1: mode: expected one of "window", "session", got "tab"`,
      `  ${tree.at(GLOBAL)}:2: nerdfont: expected true or false, got 1`,
    ]);
  });
});
