import { describe, expect, it } from "vitest";
import { type MergeLayer, mergeLayers, sourcesOf } from "./merge.ts";
import type { Tree } from "./tree.ts";

const layer = (file: string, value: Tree): MergeLayer => ({ value, fileOf: () => file });
const merge = (global: Tree, project: Tree) => mergeLayers(layer("G", global), layer("P", project));

describe("<global> splicing", () => {
  it.each(["post_create", "pre_merge", "pre_remove"])(
    "%s splices the global list in place",
    (key) => {
      const { value, origins } = merge(
        { [key]: ["g1", "g2"] },
        { [key]: ["p1", "<global>", "p2"] },
      );
      expect(value[key]).toEqual(["p1", "g1", "g2", "p2"]);
      expect(sourcesOf(value, origins)[key]).toBe("P");
    },
  );

  it("files.copy and files.symlink splice too", () => {
    const { value } = merge(
      { files: { copy: [".env"], symlink: ["node_modules"] } },
      { files: { copy: ["<global>", ".env.local"], symlink: ["dist"] } },
    );
    expect(value.files).toEqual({ copy: [".env", ".env.local"], symlink: ["dist"] });
  });

  it("a project list without <global> replaces the global one", () => {
    expect(merge({ post_create: ["g"] }, { post_create: ["p"] }).value.post_create).toEqual(["p"]);
  });

  it("an empty project list disables the global hooks", () => {
    expect(merge({ post_create: ["g"] }, { post_create: [] }).value.post_create).toEqual([]);
  });

  it("<global> with no global list splices nothing and never survives as a command", () => {
    expect(merge({}, { pre_merge: ["<global>", "p"] }).value.pre_merge).toEqual(["p"]);
    expect(merge({ pre_merge: ["<global>", "g"] }, {}).value.pre_merge).toEqual(["g"]);
  });
});

describe("per-field sections", () => {
  it.each([
    ["status_icons", { working: "w", done: "d" }, { done: "D" }, { working: "w", done: "D" }],
    [
      "dashboard",
      { commit: "c", preview_size: 60 },
      { preview_size: 40 },
      { commit: "c", preview_size: 40 },
    ],
    [
      "sidebar",
      { width: 30, layout: "tiles" },
      { layout: "compact" },
      { width: 30, layout: "compact" },
    ],
    [
      "theme",
      { scheme: "mossfire", custom: { text: "#fff" } },
      { mode: "light" },
      { scheme: "mossfire", mode: "light", custom: { text: "#fff" } },
    ],
    [
      "auto_name",
      { model: "a", background: true },
      { model: "b" },
      { model: "b", background: true },
    ],
  ])("%s merges field by field", (key, global, project, expected) => {
    const { value, origins } = merge({ [key]: global }, { [key]: project });
    expect(value[key]).toEqual(expected);
    const sources = sourcesOf(value, origins);
    for (const field of Object.keys(project)) expect(sources[`${key}.${field}`]).toBe("P");
  });

  it("sandbox.container and sandbox.lima merge field by field", () => {
    const { value, origins } = merge(
      {
        sandbox: {
          enabled: true,
          container: { runtime: "docker", cpus: 4 },
          lima: { cpus: 4, disk: "50GiB" },
        },
      },
      { sandbox: { container: { cpus: 2 }, lima: { disk: "20GiB" } } },
    );
    expect(value.sandbox).toEqual({
      enabled: true,
      container: { runtime: "docker", cpus: 2 },
      lima: { cpus: 4, disk: "20GiB" },
    });
    expect(sourcesOf(value, origins)).toEqual({
      "sandbox.enabled": "G",
      "sandbox.container.runtime": "G",
      "sandbox.container.cpus": "P",
      "sandbox.lima.cpus": "G",
      "sandbox.lima.disk": "P",
    });
  });

  it("layouts merge by name, each layout replaced whole", () => {
    const { value } = merge(
      { layouts: { a: { panes: [{ command: "g" }] }, b: { panes: [{ command: "g" }] } } },
      { layouts: { b: { panes: [{ command: "p" }] } } },
    );
    expect(value.layouts).toEqual({
      a: { panes: [{ command: "g" }] },
      b: { panes: [{ command: "p" }] },
    });
  });
});

describe("wholesale and special keys", () => {
  it("panes from the project replace the global panes entirely", () => {
    const { value } = merge(
      { panes: [{ command: "a" }, { command: "b", split: "vertical" }] },
      { panes: [{ command: "p" }] },
    );
    expect(value.panes).toEqual([{ command: "p" }]);
  });

  it("panes and windows exclude each other: the project's choice wins", () => {
    expect(merge({ windows: [{ name: "w" }] }, { panes: [{}] }).value).toEqual({ panes: [{}] });
    expect(merge({ panes: [{}] }, { windows: [{ name: "w" }] }).value).toEqual({
      windows: [{ name: "w" }],
    });
  });

  it("worktree_naming comes from the project only when it is not the default", () => {
    expect(
      merge({ worktree_naming: "basename" }, { worktree_naming: "full" }).value.worktree_naming,
    ).toBe("basename");
    expect(
      merge({ worktree_naming: "full" }, { worktree_naming: "basename" }).value.worktree_naming,
    ).toBe("basename");
  });

  it("scalars: project over global", () => {
    expect(merge({ agent: "a", mode: "session" }, { agent: "b" }).value).toEqual({
      agent: "b",
      mode: "session",
    });
  });

  it("does not change its inputs", () => {
    const global = { post_create: ["<global>", "g"], sandbox: { container: { cpus: 1 } } };
    const copy = structuredClone(global);
    merge(global, { sandbox: { container: { memory: "1G" } } });
    expect(global).toEqual(copy);
  });
});
