import { afterEach, describe, expect, it } from "vitest";
import { type TempTree, tempTree } from "../../test/fixtures/config/temp-tree.ts";
import { loadConfig } from "./index.ts";
import { findGlobalConfigFile, findMainWorktreeRoot, findProjectFiles } from "./locate.ts";

let tree: TempTree | undefined;
afterEach(async () => {
  await tree?.remove();
  tree = undefined;
});

describe("global config file", () => {
  it("is read from $XDG_CONFIG_HOME/workmux when set", async () => {
    tree = await tempTree({
      "xdg/workmux/config.yaml": "agent: xdg\n",
      "home/.config/workmux/config.yaml": "agent: home\n",
    });
    const env = { XDG_CONFIG_HOME: tree.at("xdg") };
    expect(await findGlobalConfigFile(env, tree.at("home"))).toBe(
      tree.at("xdg/workmux/config.yaml"),
    );
    const { config } = await loadConfig({ cwd: tree.root, env, homedir: tree.at("home") });
    expect(config.agent).toBe("xdg");
  });

  it("falls back to ~/.config/workmux when XDG_CONFIG_HOME has no file", async () => {
    tree = await tempTree({
      "xdg/workmux/": "",
      "home/.config/workmux/config.yaml": "agent: home\n",
    });
    const found = await findGlobalConfigFile({ XDG_CONFIG_HOME: tree.at("xdg") }, tree.at("home"));
    expect(found).toBe(tree.at("home/.config/workmux/config.yaml"));
  });

  it("uses ~/.config/workmux when XDG_CONFIG_HOME is unset, empty or relative", async () => {
    tree = await tempTree({ "home/.config/workmux/config.yaml": "" });
    const expected = tree.at("home/.config/workmux/config.yaml");
    for (const env of [{}, { XDG_CONFIG_HOME: "" }, { XDG_CONFIG_HOME: "relative/dir" }]) {
      expect(await findGlobalConfigFile(env, tree.at("home"))).toBe(expected);
    }
  });

  it("accepts config.yml and prefers config.yaml when both exist", async () => {
    tree = await tempTree({ "home/.config/workmux/config.yml": "" });
    expect(await findGlobalConfigFile({}, tree.at("home"))).toBe(
      tree.at("home/.config/workmux/config.yml"),
    );
    await tree.write({ "home/.config/workmux/config.yaml": "" });
    expect(await findGlobalConfigFile({}, tree.at("home"))).toBe(
      tree.at("home/.config/workmux/config.yaml"),
    );
  });

  it("is null when there is none", async () => {
    tree = await tempTree({ "home/": "" });
    expect(await findGlobalConfigFile({}, tree.at("home"))).toBeNull();
  });
});

describe("project config file", () => {
  it("is the nearest one walking up from a subdirectory", async () => {
    tree = await tempTree({
      "repo/.git/": "",
      "repo/.workmux.yaml": "agent: root\n",
      "repo/packages/api/.workmux.yml": "agent: api\n",
      "repo/packages/api/src/deep/": "",
      "repo/packages/web/src/": "",
    });
    const fromApi = await findProjectFiles({ cwd: tree.at("repo/packages/api/src/deep") });
    expect(fromApi.nearest).toBe(tree.at("repo/packages/api/.workmux.yml"));
    const fromWeb = await loadConfig({
      cwd: tree.at("repo/packages/web/src"),
      env: {},
      homedir: tree.at("home"),
    });
    expect(fromWeb.files.project).toBe(tree.at("repo/.workmux.yaml"));
    expect(fromWeb.config.agent).toBe("root");
  });

  it("is not looked for above the repository root", async () => {
    tree = await tempTree({
      ".workmux.yaml": "agent: outside\n",
      "repo/.git/": "",
      "repo/src/": "",
    });
    const loaded = await loadConfig({
      cwd: tree.at("repo/src"),
      env: {},
      homedir: tree.at("home"),
    });
    expect(loaded.files.project).toBeNull();
    expect(loaded.config.agent).toBe("claude");
  });

  it("stops at a repoRoot given by the caller", async () => {
    tree = await tempTree({
      "repo/.git/": "",
      "repo/.workmux.yaml": "agent: root\n",
      "repo/sub/x/": "",
    });
    const found = await findProjectFiles({
      cwd: tree.at("repo/sub/x"),
      repoRoot: tree.at("repo/sub"),
    });
    expect(found.nearest).toBeNull();
  });

  it("is null outside a repository", async () => {
    tree = await tempTree({ "dir/.workmux.yaml": "agent: x\n" });
    expect((await findProjectFiles({ cwd: tree.at("dir") })).nearest).toBeNull();
  });
});

describe("main worktree", () => {
  it("is the repo itself when .git is a directory", async () => {
    tree = await tempTree({ "repo/.git/": "" });
    expect(await findMainWorktreeRoot(tree.at("repo"))).toBe(tree.at("repo"));
  });

  it("is found from a linked worktree's .git file through commondir", async () => {
    tree = await tempTree({
      "main/.git/worktrees/feature/commondir": "../..\n",
      "wt/feature/.git": "gitdir: ../../main/.git/worktrees/feature\n",
    });
    expect(await findMainWorktreeRoot(tree.at("wt/feature"))).toBe(tree.at("main"));
  });

  it("is null for a worktree of a bare repository", async () => {
    tree = await tempTree({
      "bare.git/worktrees/feature/commondir": "../..\n",
      "feature/.git": `gitdir: ${"../bare.git/worktrees/feature"}\n`,
    });
    expect(await findMainWorktreeRoot(tree.at("feature"))).toBeNull();
  });
});
