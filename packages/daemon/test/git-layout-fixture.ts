import { execFile } from "node:child_process";
import { lchown, mkdir, mkdtemp, readdir, realpath, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { PassThrough } from "node:stream";
import type Docker from "dockerode";
import type { MountSpec } from "../src/backends/types.ts";
import { BranchSync, type BranchSyncTarget } from "../src/sandbox/branch-sync.ts";
import { gitLayoutMounts, recordWorktree, type WorktreeRecord } from "../src/sandbox/git-layout.ts";
import { gitShadowFor, prepareGitShadow } from "../src/sandbox/git-shadow.ts";

export const IMAGE = "wm-base:bookworm";
export const TEST_LABEL = { "wm.test": "git-layout" };
export const AGENT_UID = 1000;

export interface CommandResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface LayoutFixture {
  root: string;
  /** The main worktree; its `.git` is the common dir. */
  main: string;
  worktree: string;
  sibling: string;
  markers: string;
  record: WorktreeRecord;
  mounts: MountSpec[];
  /** The worktree's git shadow, as the daemon prepares it for a sandbox. */
  target: BranchSyncTarget;
  /** What the daemon does when the sandbox's branch changes or the sandbox ends. */
  syncBranch(): Promise<string>;
  /**
   * The daemon runs as the user; here it runs as root, so what it wrote into the repository is
   * given back to the user (symlinks themselves, never followed) before the user's own git runs.
   */
  asUserWrote(): Promise<void>;
  /** Plain git on the host, as the user who owns the repository (uid 1000). */
  hostGit(cwd: string, args: readonly string[]): Promise<CommandResult>;
}

function run(
  file: string,
  args: readonly string[],
  opts: { cwd?: string; uid?: number; env?: NodeJS.ProcessEnv } = {},
) {
  return new Promise<CommandResult>((resolve) => {
    const child = execFile(file, [...args], { ...opts, gid: opts.uid }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === "number" ? err.code : 1) : 0;
      resolve({ code, stdout, stderr });
    });
    child.stdin?.end();
  });
}

async function must(file: string, args: readonly string[], cwd?: string): Promise<void> {
  const res = await run(file, args, cwd === undefined ? {} : { cwd });
  if (res.code !== 0) throw new Error(`${file} ${args.join(" ")}: ${res.stderr}`);
}

/** A repository with two linked worktrees, created as root, recorded, then given to uid 1000. */
export async function makeLayoutFixture(): Promise<LayoutFixture> {
  const root = await realpath(await mkdtemp(path.join(os.tmpdir(), "wm-git-layout-")));
  const main = path.join(root, "project");
  const worktree = path.join(root, "project__worktrees", "agent");
  const sibling = path.join(root, "project__worktrees", "sibling");
  const markers = path.join(root, "markers");
  const home = path.join(root, "home");
  await Promise.all([mkdir(main), mkdir(markers), mkdir(home)]);
  await must("git", ["init", "-q", "-b", "main"], main);
  await must("git", ["config", "user.name", "Host User"], main);
  await must("git", ["config", "user.email", "host@example.invalid"], main);
  await writeFile(path.join(main, "secret.txt"), "main worktree only\n");
  await must("git", ["add", "secret.txt"], main);
  await must("git", ["commit", "-qm", "initial"], main);
  await must("git", ["worktree", "add", "-q", "-b", "agent", worktree], main);
  await must("git", ["worktree", "add", "-q", "-b", "sibling", sibling], main);
  const record = await recordWorktree(worktree);
  const owner = { uid: AGENT_UID, gid: AGENT_UID };
  const shadow = gitShadowFor(path.join(root, "state"), record);
  await must("chown", ["-R", `${AGENT_UID}:${AGENT_UID}`, root]);
  await prepareGitShadow(shadow, record, owner, { reseed: true, branch: record.branch ?? null });
  const mounts = await gitLayoutMounts(record, shadow);
  const env = { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: home };
  const target = { record, shadow, branch: record.branch ?? null };
  const sync = new BranchSync(env, { warn: () => undefined });
  await sync.markSynced(target);
  return {
    root,
    main,
    worktree,
    sibling,
    markers,
    record,
    mounts,
    target,
    syncBranch: async () => {
      const result = await sync.sync(target);
      await lchownTree(record.commonDir, AGENT_UID);
      return result;
    },
    asUserWrote: () => lchownTree(record.commonDir, AGENT_UID),
    hostGit: (cwd, args) => run("git", args, { cwd, uid: AGENT_UID, env }),
  };
}

async function lchownTree(dir: string, uid: number): Promise<void> {
  await lchown(dir, uid, uid);
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    if (entry.isDirectory()) await lchownTree(p, uid);
    else await lchown(p, uid, uid);
  }
}

export async function removeFixture(f: LayoutFixture | undefined): Promise<void> {
  if (f) await rm(f.root, { recursive: true, force: true });
}

export interface Sandbox {
  sh(script: string): Promise<CommandResult>;
}

export async function startSandbox(
  docker: Docker,
  mounts: readonly MountSpec[],
  workdir: string,
): Promise<Sandbox> {
  const container = await docker.createContainer({
    Image: IMAGE,
    Cmd: ["sleep", "infinity"],
    User: `${AGENT_UID}:${AGENT_UID}`,
    WorkingDir: workdir,
    Labels: TEST_LABEL,
    Env: [
      "HOME=/tmp",
      "GIT_AUTHOR_NAME=Agent",
      "GIT_AUTHOR_EMAIL=agent@example.invalid",
      "GIT_COMMITTER_NAME=Agent",
      "GIT_COMMITTER_EMAIL=agent@example.invalid",
    ],
    HostConfig: {
      Mounts: mounts.map((m) => ({
        Type: "bind",
        Source: m.source,
        Target: m.target,
        ReadOnly: m.readOnly,
      })),
      CapDrop: ["ALL"],
      SecurityOpt: ["no-new-privileges"],
      NetworkMode: "none",
      PidsLimit: 256,
    },
  });
  await container.start();
  return {
    async sh(script) {
      const exec = await container.exec({
        Cmd: ["bash", "-c", script],
        AttachStdout: true,
        AttachStderr: true,
      });
      const stream = await exec.start({ hijack: true, stdin: false });
      const out: Buffer[] = [];
      const err: Buffer[] = [];
      const stdout = new PassThrough().on("data", (c: Buffer) => out.push(c));
      const stderr = new PassThrough().on("data", (c: Buffer) => err.push(c));
      docker.modem.demuxStream(stream, stdout, stderr);
      await new Promise<void>((resolve, reject) => stream.on("end", resolve).on("error", reject));
      const { ExitCode } = await exec.inspect();
      return {
        code: ExitCode ?? -1,
        stdout: Buffer.concat(out).toString(),
        stderr: Buffer.concat(err).toString(),
      };
    },
  };
}

export async function removeTestContainers(docker: Docker): Promise<void> {
  const list = await docker.listContainers({
    all: true,
    filters: { label: ["wm.test=git-layout"] },
  });
  await Promise.all(list.map((c) => docker.getContainer(c.Id).remove({ force: true })));
}
