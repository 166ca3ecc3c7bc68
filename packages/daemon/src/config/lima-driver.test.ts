import { afterEach, describe, expect, it } from "vitest";
import {
  GLOBAL,
  PROJECT,
  REPO_GIT,
  type TempTree,
  tempTree,
} from "../../test/fixtures/config/temp-tree.ts";
import { loadConfig } from "./index.ts";
import { CONFIG_REFERENCE } from "./reference.ts";

let tree: TempTree | undefined;
afterEach(async () => {
  await tree?.remove();
  tree = undefined;
});

async function load(files: Record<string, string>) {
  tree = await tempTree({ "home/": "", [REPO_GIT]: "", ...files });
  return loadConfig({ cwd: tree.at("repo"), env: {}, homedir: tree.at("home") });
}

describe("sandbox.lima.driver", () => {
  it("reads limactl or qemu from the global file", async () => {
    const { config, warnings } = await load({
      [GLOBAL]: "sandbox:\n  backend: lima\n  lima:\n    driver: limactl\n    cpus: 2\n",
    });
    expect(warnings).toEqual([]);
    expect(config.sandbox.lima).toEqual({ driver: "limactl", cpus: 2 });
  });

  it("refuses another value, naming the key and the file", async () => {
    const err = await load({ [GLOBAL]: "sandbox:\n  lima:\n    driver: vbox\n" }).then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    expect(err?.message).toContain("sandbox.lima.driver");
    expect(err?.message).toContain(tree?.at(GLOBAL));
  });

  it("in a project file is ignored with a warning (a repository does not pick its VM manager)", async () => {
    const { config, warnings } = await load({
      [GLOBAL]: "sandbox:\n  lima:\n    driver: qemu\n",
      [PROJECT]: "sandbox:\n  lima:\n    driver: limactl\n    cpus: 2\n",
    });
    expect(warnings.map((w) => [w.key, w.line])).toEqual([["sandbox.lima.driver", 3]]);
    expect(config.sandbox.lima).toEqual({ driver: "qemu", cpus: 2 });
  });

  it("is in `wm config reference`", () => {
    expect(CONFIG_REFERENCE.find((k) => k.key === "sandbox.lima.driver")).toMatchObject({
      type: "qemu | limactl",
      default: "qemu",
    });
  });
});
