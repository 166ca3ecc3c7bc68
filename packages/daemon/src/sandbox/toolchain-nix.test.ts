// `sandbox.toolchain` with the real Nix (Debian's nix-bin, installed by
// `scripts/install-deps.sh --with-qemu`): the command `toolchainCommand` gives for a worktree
// with a flake.nix runs for real and sees what the flake's devShell sets. Nothing is downloaded:
// the flake has no inputs and its devShell is a bare `derivation` built by /bin/bash.
// devbox cannot be installed here; its side is a contract in toolchain.test.ts.
import { execFileSync, spawnSync } from "node:child_process";
import { promises as fs } from "node:fs";
import os from "node:os";
import path from "node:path";
import { gitOut, makeRepo } from "@wm/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { detectToolchainFiles, toolchainCommand, withToolchainPreflight } from "./toolchain.ts";

const nixMissing = (() => {
  try {
    execFileSync("sh", ["-c", "command -v nix"], { stdio: "ignore" });
    return false;
  } catch {
    return true;
  }
})();

/** In CI a missing nix fails the run: the cases below would otherwise not run at all. */
describe.runIf(nixMissing && process.env.CI === "true")("nix in CI", () => {
  it("has nix", () => {
    throw new Error("nix is missing: run scripts/install-deps.sh --with-qemu (Debian's nix-bin)");
  });
});

const SYSTEM = `${process.arch === "arm64" ? "aarch64" : "x86_64"}-linux`;
const PROBE = "from the devShell";

/** A flake with no inputs whose devShell sets WM_TOOLCHAIN_PROBE. */
const FLAKE = `{
  outputs = { self }: {
    devShells.${SYSTEM}.default = derivation {
      name = "wm-toolchain-probe";
      system = "${SYSTEM}";
      builder = "/bin/bash";
      args = [ "-c" "echo > $out" ];
      outputs = [ "out" ];
      WM_TOOLCHAIN_PROBE = "${PROBE}";
    };
  };
}
`;

/** Prints what it got: the probe variable and its arguments. */
const REPORT = [
  process.execPath,
  "-e",
  "process.stdout.write(JSON.stringify({ probe: process.env.WM_TOOLCHAIN_PROBE ?? null, argv: process.argv.slice(1) }))",
];
const ARGS = ["two  words", "line\nbreak", "$HOME", "it's", "*", "-c", "--help"];

describe.runIf(!nixMissing)("sandbox.toolchain: auto with a flake.nix, run by nix develop", () => {
  let root: string;
  let worktree: string;
  let env: NodeJS.ProcessEnv;

  beforeAll(async () => {
    root = await fs.realpath(await fs.mkdtemp(path.join(os.tmpdir(), "wm-nix-")));
    const repo = await makeRepo(root, []);
    await fs.writeFile(path.join(repo.main, "flake.nix"), FLAKE);
    gitOut(repo.main, "add", "flake.nix");
    gitOut(repo.main, "commit", "-q", "-m", "flake");
    worktree = path.join(root, "repo__worktrees", "feature");
    gitOut(repo.main, "worktree", "add", "-q", "-b", "feature", worktree);
    const registry = path.join(root, "flake-registry.json");
    await fs.writeFile(registry, JSON.stringify({ flakes: [], version: 2 }));
    const home = path.join(root, "home");
    await fs.mkdir(home);
    env = {
      PATH: process.env.PATH,
      HOME: home,
      XDG_CACHE_HOME: path.join(home, ".cache"),
      // This machine, not the command: root without the nixbld group builds as itself, no
      // sandbox (the builder is /bin/bash), and nothing is looked up online.
      NIX_CONFIG: [
        "build-users-group =",
        "sandbox = false",
        "substituters =",
        `flake-registry = ${registry}`,
      ].join("\n"),
    };
  });
  afterAll(() => fs.rm(root, { recursive: true, force: true }));

  function run(argv: readonly string[]) {
    const r = spawnSync(argv[0] as string, argv.slice(1), {
      cwd: worktree,
      env,
      encoding: "utf8",
      stdio: ["ignore", "pipe", "pipe"],
      timeout: 120_000,
    });
    if (r.status !== 0) throw new Error(`${argv[0]} exited ${r.status}: ${r.stderr}`);
    return JSON.parse(r.stdout) as { probe: string | null; argv: string[] };
  }

  it("detects the flake in a linked worktree and wraps the command in nix develop", async () => {
    const files = await detectToolchainFiles(worktree);
    expect(files).toEqual({ devbox: false, flake: true });
    const { command, toolchain } = toolchainCommand("auto", files, [...REPORT, ...ARGS]);
    expect(toolchain).toBe("flake");
    expect(run(command)).toEqual({ probe: PROBE, argv: ARGS });
  });

  it("runs the same behind the guest's preflight", async () => {
    const files = await detectToolchainFiles(worktree);
    const { command, toolchain } = toolchainCommand("auto", files, [...REPORT, ...ARGS]);
    expect(run(withToolchainPreflight(toolchain, command))).toEqual({ probe: PROBE, argv: ARGS });
  });

  it("control: with off the command does not see the devShell's variable", async () => {
    const files = await detectToolchainFiles(worktree);
    const { command } = toolchainCommand("off", files, [...REPORT, ...ARGS]);
    expect(run(command)).toEqual({ probe: null, argv: ARGS });
  });
});
