import { afterEach, describe, expect, it } from "vitest";
import {
  GLOBAL,
  PROJECT,
  REPO_GIT,
  type TempTree,
  tempTree,
} from "../../test/fixtures/config/temp-tree.ts";
import { loadConfig } from "./index.ts";

let tree: TempTree | undefined;
afterEach(async () => {
  await tree?.remove();
  tree = undefined;
});

async function load(files: Record<string, string>) {
  tree = await tempTree({ "home/": "", [REPO_GIT]: "", ...files });
  return loadConfig({ cwd: tree.at("repo"), env: {}, homedir: tree.at("home") });
}

describe("legacy keys", () => {
  it("sandbox.runtime becomes sandbox.container.runtime, without a warning", async () => {
    const { config, warnings, sources } = await load({ [GLOBAL]: "sandbox:\n  runtime: podman\n" });
    expect(config.sandbox.container.runtime).toBe("podman");
    expect("runtime" in config.sandbox).toBe(false);
    expect(sources["sandbox.container.runtime"]).toBe(tree?.at(GLOBAL));
    expect(warnings).toEqual([]);
  });

  it("the nested runtime wins over a different flat one, with a warning", async () => {
    const { config, warnings } = await load({
      [GLOBAL]: "sandbox:\n  runtime: podman\n  container:\n    runtime: docker\n",
    });
    expect(config.sandbox.container.runtime).toBe("docker");
    expect(warnings.map((w) => [w.key, w.line])).toEqual([["sandbox.runtime", 2]]);
  });

  it("flat Lima keys move under sandbox.lima and merge with the nested ones", async () => {
    const { config } = await load({
      [GLOBAL]: "sandbox:\n  lima:\n    disk: 80GiB\n    cpus: 8\n",
      [PROJECT]: "sandbox:\n  cpus: 2\n  memory: 4GiB\n  isolation: project\n",
    });
    expect(config.sandbox.lima).toEqual({
      disk: "80GiB",
      cpus: 2,
      memory: "4GiB",
      isolation: "project",
    });
    expect("cpus" in config.sandbox).toBe(false);
  });

  it('isolation "user" becomes "shared" with a warning', async () => {
    const { config, warnings } = await load({
      [GLOBAL]: "sandbox:\n  lima:\n    isolation: user\n",
    });
    expect(config.sandbox.lima?.isolation).toBe("shared");
    expect(warnings.map((w) => [w.key, w.line])).toEqual([["sandbox.lima.isolation", 3]]);
  });

  it("top-level target becomes mode, with a deprecation warning", async () => {
    const { config, warnings } = await load({ [PROJECT]: "target: session\n" });
    expect(config.mode).toBe("session");
    expect("target" in config).toBe(false);
    expect(warnings).toMatchObject([
      { key: "target", line: 1, message: expect.stringContaining("mode") },
    ]);
  });

  it("pre_delete becomes pre_remove, with a deprecation warning", async () => {
    const { config, warnings, sources } = await load({
      [PROJECT]: "agent: x\npre_delete: [backup]\n",
    });
    expect(config.pre_remove).toEqual(["backup"]);
    expect("pre_delete" in config).toBe(false);
    expect(sources.pre_remove).toBe(tree?.at(PROJECT));
    expect(warnings).toMatchObject([
      { key: "pre_delete", line: 2, message: "pre_delete is deprecated; rename it to pre_remove" },
    ]);
  });

  it("pre_remove wins over pre_delete in the same file", async () => {
    const { config, warnings } = await load({ [PROJECT]: "pre_remove: [a]\npre_delete: [b]\n" });
    expect(config.pre_remove).toEqual(["a"]);
    expect(warnings[0]?.message).toContain("pre_delete is ignored");
  });

  it("project pre_delete splices the global pre_remove like pre_remove does", async () => {
    const { config } = await load({
      [GLOBAL]: "pre_remove: [g]\n",
      [PROJECT]: "pre_delete: [<global>, p]\n",
    });
    expect(config.pre_remove).toEqual(["g", "p"]);
  });
});

describe("one file with both panes and windows", () => {
  it("uses windows and warns about panes", async () => {
    const { config, warnings } = await load({
      [GLOBAL]: "panes:\n  - command: a\nwindows:\n  - name: w\n",
    });
    expect(config.panes).toBeUndefined();
    expect(config.windows).toEqual([{ name: "w" }]);
    expect(warnings.map((w) => [w.key, w.line])).toEqual([["panes", 1]]);
  });
});
