import { describe, expect, it } from "vitest";
import type { WmConfig } from "../config/index.ts";
import { vmLaunchFor } from "./vm-launch.ts";

const worktree = {
  worktreePath: "/src/proj__worktrees/a",
  commonDir: "/src/proj/.git",
  adminDir: "/src/proj/.git/worktrees/a",
};
const host = { stateDir: "/state", homedir: "/home/me" };
const config = (lima: object, worktree_dir?: string) =>
  ({ worktree_dir, sandbox: { lima } }) as unknown as WmConfig;

describe("vmLaunchFor", () => {
  it("project isolation: one VM per repository, exporting its worktree directory and git dirs", () => {
    const v = vmLaunchFor(config({ memory: "2GiB", cpus: 1 }), worktree, host);
    expect(v.vmName).toMatch(/^wm-proj-[0-9a-f]{8}$/);
    expect(v.scope).toBe("/src/proj/.git");
    expect(v.memoryMiB).toBe(2048);
    expect(v.cpus).toBe(1);
    expect(v.roots).toEqual([
      { hostPath: "/src/proj__worktrees", readOnly: false },
      { hostPath: "/src/proj/.git/worktrees", readOnly: false },
      { hostPath: "/src/proj/.git", readOnly: true },
      { hostPath: expect.stringMatching(/^\/state\/git\/p-[0-9a-f]{16}$/), readOnly: false },
    ]);
  });

  it("exports a worktree outside worktree_dir by itself, and never a home directory whole", () => {
    const v = vmLaunchFor(config({}, "~"), { ...worktree, worktreePath: "/home/me/a" }, host);
    expect(v.roots[0]).toEqual({ hostPath: "/home/me/a", readOnly: false });
  });

  it("shared isolation needs projects_dir and refuses what lies outside it", () => {
    expect(() => vmLaunchFor(config({ isolation: "shared" }), worktree, host)).toThrow(
      /projects_dir/,
    );
    expect(() =>
      vmLaunchFor(config({ isolation: "shared", projects_dir: "~/code" }), worktree, host),
    ).toThrow(/outside sandbox.lima.projects_dir/);
    const v = vmLaunchFor(config({ isolation: "shared", projects_dir: "/src" }), worktree, host);
    expect(v.vmName).toBe("wm-shared");
    expect(v.roots).toEqual([
      { hostPath: "/src", readOnly: false },
      { hostPath: "/state/git", readOnly: false },
    ]);
  });

  it("names a bad size and too little memory", () => {
    expect(() => vmLaunchFor(config({ memory: "lots" }), worktree, host)).toThrow(
      /sandbox.lima.memory/,
    );
    expect(() => vmLaunchFor(config({ memory: "64MiB" }), worktree, host)).toThrow(/256 MiB/);
  });
});
