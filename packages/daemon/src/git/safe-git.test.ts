import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { driverOverrides } from "./safe-config.ts";
import { buildSafeGitEnv } from "./safe-env.ts";
import { createSafeGit, type SafeGit } from "./safe-git.ts";
import { UnsafeGitCommandError } from "./safe-subcommands.ts";

const roots: string[] = [];
afterAll(async () => {
  await Promise.all(roots.map((r) => rm(r, { recursive: true, force: true })));
});

interface Repo {
  dir: string;
  markers: string;
  /** An executable that records `name` as fired and passes its input (file or stdin) through. */
  script(name: string): Promise<string>;
  fired(name: string): boolean;
  git(args: readonly string[], env?: Record<string, string>): Promise<string>;
  safe(env?: NodeJS.ProcessEnv): SafeGit;
}

function plainGit(cwd: string, args: readonly string[], env: Record<string, string>) {
  return new Promise<string>((resolve, reject) => {
    const child = execFile("git", [...args], { cwd, env }, (err, stdout, stderr) =>
      err ? reject(new Error(`git ${args.join(" ")}: ${stderr}`)) : resolve(stdout),
    );
    child.stdin?.end();
  });
}

async function makeRepo(files: Record<string, string> = { "f.txt": "a\nb\nc\n" }): Promise<Repo> {
  const root = await mkdtemp(path.join(os.tmpdir(), "wm-safe-git-"));
  roots.push(root);
  const dir = path.join(root, "repo");
  const markers = path.join(root, "markers");
  await mkdir(dir);
  await mkdir(markers);
  const baseEnv = { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: root };
  const git = (args: readonly string[], env: Record<string, string> = {}) =>
    plainGit(dir, args, { ...baseEnv, ...env });
  await git(["init", "-q", "-b", "main"]);
  await git(["config", "user.name", "Test"]);
  await git(["config", "user.email", "test@example.invalid"]);
  for (const [name, content] of Object.entries(files)) {
    await writeFile(path.join(dir, name), content);
  }
  await git(["add", "-A"]);
  await git(["commit", "-qm", "initial"]);
  return {
    dir,
    markers,
    async script(name) {
      const file = path.join(root, `${name}.sh`);
      const marker = path.join(markers, name);
      await writeFile(
        file,
        `#!/bin/sh\ntouch '${marker}'\nif [ -f "$1" ]; then cat "$1"; else cat; fi\n`,
      );
      await chmod(file, 0o755);
      return file;
    },
    fired: (name) => existsSync(path.join(markers, name)),
    git,
    safe: (env = baseEnv) => createSafeGit({ gitDir: path.join(dir, ".git"), workTree: dir, env }),
  };
}

async function ok(git: SafeGit, args: readonly string[]) {
  const res = await git.run(args);
  expect(res.code, `${args.join(" ")}: ${res.stderr}`).toBe(0);
  return res.stdout;
}

/** Two repositories in the same state: one for the control, one for safe-git. */
async function pair(setup: (r: Repo) => Promise<void>): Promise<[Repo, Repo]> {
  const control = await makeRepo();
  const guarded = await makeRepo();
  await setup(control);
  await setup(guarded);
  return [control, guarded];
}

async function divergedBranches(r: Repo) {
  await r.git(["checkout", "-qb", "side"]);
  await writeFile(path.join(r.dir, "f.txt"), "a\nb\nC\n");
  await r.git(["commit", "-qam", "side"]);
  await r.git(["checkout", "-q", "main"]);
  await writeFile(path.join(r.dir, "f.txt"), "A\nb\nc\n");
  await r.git(["commit", "-qam", "main"]);
}

describe("safe-git against planted git metadata (each a control + protected pair)", () => {
  it("hooks: post-merge and pre-commit fire under plain git, not under safe-git", async () => {
    const [control, guarded] = await pair(async (r) => {
      await divergedBranches(r);
      for (const hook of ["post-merge", "pre-commit"]) {
        const dest = path.join(r.dir, ".git/hooks", hook);
        await writeFile(dest, await readFile(await r.script(hook)));
        await chmod(dest, 0o755);
      }
    });
    await control.git(["merge", "--no-edit", "side"]);
    await writeFile(path.join(control.dir, "g.txt"), "g\n");
    await control.git(["add", "g.txt"]);
    await control.git(["commit", "-qm", "g"]);
    expect(control.fired("post-merge")).toBe(true);
    expect(control.fired("pre-commit")).toBe(true);

    const safe = guarded.safe();
    await ok(safe, ["merge", "--no-edit", "side"]);
    await writeFile(path.join(guarded.dir, "g.txt"), "g\n");
    await ok(safe, ["add", "g.txt"]);
    await ok(safe, ["commit", "-qm", "g"]);
    expect(await ok(safe, ["log", "--format=%s", "-1"])).toBe("g\n");
    expect(guarded.fired("post-merge")).toBe(false);
    expect(guarded.fired("pre-commit")).toBe(false);
  });

  it("core.fsmonitor fires on plain status, not on safe-git status", async () => {
    const [control, guarded] = await pair(async (r) => {
      await r.git(["config", "core.fsmonitor", await r.script("fsmonitor")]);
      await writeFile(path.join(r.dir, "f.txt"), "changed\n");
    });
    await control.git(["status", "--porcelain"]);
    expect(control.fired("fsmonitor")).toBe(true);

    expect(await ok(guarded.safe(), ["status", "--porcelain"])).toBe(" M f.txt\n");
    expect(guarded.fired("fsmonitor")).toBe(false);
  });

  it("a .gitattributes filter's clean and smudge fire under plain git, not under safe-git", async () => {
    const [control, guarded] = await pair(async (r) => {
      await writeFile(path.join(r.dir, ".gitattributes"), "*.txt filter=evil\n");
      await r.git(["config", "filter.evil.clean", await r.script("clean")]);
      await r.git(["config", "filter.evil.smudge", await r.script("smudge")]);
      await r.git(["config", "filter.evil.required", "true"]);
      await writeFile(path.join(r.dir, "f.txt"), "changed\n");
    });
    await control.git(["add", "-A"]);
    await control.git(["commit", "-qm", "attrs"]);
    await control.git(["checkout", "-q", "HEAD~1", "--", "f.txt"]);
    expect(control.fired("clean")).toBe(true);
    expect(control.fired("smudge")).toBe(true);

    const safe = guarded.safe();
    await ok(safe, ["add", "-A"]);
    await ok(safe, ["commit", "-qm", "attrs"]);
    await ok(safe, ["checkout", "-q", "HEAD~1", "--", "f.txt"]);
    expect(await readFile(path.join(guarded.dir, "f.txt"), "utf8")).toBe("a\nb\nc\n");
    expect(guarded.fired("clean")).toBe(false);
    expect(guarded.fired("smudge")).toBe(false);
  });

  it("a filter whose name holds '=' and spaces is neutralised too", async () => {
    const [control, guarded] = await pair(async (r) => {
      await writeFile(path.join(r.dir, ".gitattributes"), "*.txt filter=x=y\n");
      await r.git(["config", "filter.x=y.clean", await r.script("clean")]);
      await writeFile(path.join(r.dir, "f.txt"), "changed\n");
    });
    await control.git(["add", "-A"]);
    expect(control.fired("clean")).toBe(true);

    await ok(guarded.safe(), ["add", "-A"]);
    expect(guarded.fired("clean")).toBe(false);
  });

  it("diff.<name>.textconv and diff.<name>.command fire on plain diff, not on safe-git", async () => {
    const [control, guarded] = await pair(async (r) => {
      await writeFile(path.join(r.dir, ".gitattributes"), "*.txt diff=evil\n");
      await r.git(["config", "diff.evil.textconv", await r.script("textconv")]);
      await r.git(["config", "diff.evil.command", await r.script("command")]);
      await r.git(["add", ".gitattributes"]);
      await r.git(["commit", "-qm", "attrs"]);
      await writeFile(path.join(r.dir, "f.txt"), "changed\n");
    });
    await control.git(["diff", "--no-ext-diff"]);
    await control.git(["diff"]);
    expect(control.fired("textconv")).toBe(true);
    expect(control.fired("command")).toBe(true);

    const safe = guarded.safe();
    expect(await ok(safe, ["diff"])).toContain("+changed");
    await ok(safe, ["log", "-p", "-1"]);
    await ok(safe, ["show", "HEAD:f.txt"]);
    expect(guarded.fired("textconv")).toBe(false);
    expect(guarded.fired("command")).toBe(false);
  });

  it("merge.<name>.driver fires on plain merge; safe-git merges as text instead", async () => {
    const [control, guarded] = await pair(async (r) => {
      await writeFile(path.join(r.dir, ".gitattributes"), "*.txt merge=evil\n");
      await r.git(["add", ".gitattributes"]);
      await r.git(["commit", "-qm", "attrs"]);
      await r.git(["config", "merge.evil.driver", `${await r.script("driver")} %A %O %B`]);
      await divergedBranches(r);
    });
    await control.git(["merge", "--no-edit", "side"]);
    expect(control.fired("driver")).toBe(true);

    await ok(guarded.safe(), ["merge", "--no-edit", "side"]);
    expect(await readFile(path.join(guarded.dir, "f.txt"), "utf8")).toBe("A\nb\nC\n");
    expect(guarded.fired("driver")).toBe(false);
  });

  it("a `!` alias fires under plain git; safe-git refuses anything but an allowed built-in", async () => {
    const [control, guarded] = await pair(async (r) => {
      await r.git(["config", "alias.evil", `!${await r.script("alias")}`]);
    });
    await control.git(["evil"]);
    expect(control.fired("alias")).toBe(true);

    const safe = guarded.safe();
    await expect(safe.run(["evil"])).rejects.toBeInstanceOf(UnsafeGitCommandError);
    await expect(safe.run(["-c", "core.fsmonitor=x", "status"])).rejects.toThrow(/subcommand/);
    await expect(safe.run(["worktree", "remove", "x"])).rejects.toThrow(/--force/);
    expect(guarded.fired("alias")).toBe(false);
  });

  it("GIT_* variables in the caller's env fire under plain git, not under safe-git", async () => {
    const [control, guarded] = await pair(async (r) => {
      await writeFile(path.join(r.dir, "f.txt"), "changed\n");
    });
    const hostile = async (r: Repo): Promise<Record<string, string>> => ({
      PATH: process.env.PATH ?? "/usr/bin:/bin",
      HOME: path.dirname(r.dir),
      GIT_CONFIG_COUNT: "1",
      GIT_CONFIG_KEY_0: "core.fsmonitor",
      GIT_CONFIG_VALUE_0: await r.script("env-fsmonitor"),
      GIT_EXTERNAL_DIFF: await r.script("env-external-diff"),
      GIT_TRACE: path.join(r.markers, "env-trace"),
    });
    const env = await hostile(control);
    await control.git(["status", "--porcelain"], env);
    await control.git(["diff"], env);
    expect(control.fired("env-fsmonitor")).toBe(true);
    expect(control.fired("env-external-diff")).toBe(true);
    expect(control.fired("env-trace")).toBe(true);

    const safe = guarded.safe(await hostile(guarded));
    expect(await ok(safe, ["status", "--porcelain"])).toBe(" M f.txt\n");
    expect(await ok(safe, ["diff"])).toContain("+changed");
    expect(guarded.fired("env-fsmonitor")).toBe(false);
    expect(guarded.fired("env-external-diff")).toBe(false);
    expect(guarded.fired("env-trace")).toBe(false);
  });

  it("a planted repository inside a submodule path runs its filter on plain status, not safe-git's", async () => {
    const [control, guarded] = await pair(async (r) => {
      const sub = path.join(r.dir, "sub");
      await mkdir(sub);
      const subGit = (args: readonly string[]) =>
        plainGit(sub, args, { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: r.dir });
      await subGit(["init", "-q", "-b", "main"]);
      await writeFile(path.join(sub, "x.txt"), "x\n");
      await writeFile(path.join(sub, ".gitattributes"), "*.txt filter=nested\n");
      await subGit(["add", "-A"]);
      await subGit(["-c", "user.name=t", "-c", "user.email=t@e", "commit", "-qm", "s"]);
      await subGit(["config", "filter.nested.clean", await r.script("nested")]);
      await writeFile(
        path.join(r.dir, ".gitmodules"),
        '[submodule "sub"]\n\tpath = sub\n\turl = ./sub\n\tignore = none\n',
      );
      await r.git(["add", "sub", ".gitmodules"]);
      await r.git(["commit", "-qm", "gitlink"]);
      await writeFile(path.join(sub, "x.txt"), "z\n");
    });
    await control.git(["status", "--porcelain"]);
    expect(control.fired("nested")).toBe(true);

    const safe = guarded.safe();
    await ok(safe, ["status", "--porcelain"]);
    await ok(safe, ["diff"]);
    expect(guarded.fired("nested")).toBe(false);
  });
});

describe("safe-git pieces", () => {
  it("commits with the identity given to it, whatever the config says", async () => {
    const r = await makeRepo();
    await writeFile(path.join(path.dirname(r.dir), ".gitconfig"), "[user]\n\tname = Global\n");
    await r.git(["config", "--unset", "user.name"]);
    const git = createSafeGit({
      gitDir: path.join(r.dir, ".git"),
      workTree: r.dir,
      env: { PATH: process.env.PATH, HOME: path.dirname(r.dir) },
      identity: { name: "Daemon", email: "daemon@example.invalid" },
    });
    await ok(git, ["commit", "-q", "--allow-empty", "-m", "merge"]);
    expect(await ok(git, ["log", "-1", "--format=%an <%ae>"])).toBe(
      "Daemon <daemon@example.invalid>\n",
    );
  });

  it("builds the child environment from an allow-list", () => {
    const env = buildSafeGitEnv({
      PATH: "/p",
      HOME: "/h",
      LANG: "C.UTF-8",
      LC_ALL: "C",
      TZ: "UTC",
      GIT_DIR: "/evil",
      GIT_SSH_COMMAND: "evil",
      PAGER: "evil",
      EDITOR: "evil",
      SSH_ASKPASS: "evil",
      LD_PRELOAD: "evil.so",
      NODE_OPTIONS: "--require evil",
      XDG_CONFIG_HOME: "/evil",
    });
    expect(env).toEqual({
      PATH: "/p",
      HOME: "/h",
      LANG: "C.UTF-8",
      LC_ALL: "C",
      TZ: "UTC",
      GIT_TERMINAL_PROMPT: "0",
      GIT_CONFIG_NOSYSTEM: "1",
      GIT_CONFIG_GLOBAL: "/dev/null",
      GIT_ATTR_NOSYSTEM: "1",
      GIT_PAGER: "cat",
      GIT_EDITOR: "true",
      GIT_SEQUENCE_EDITOR: "true",
      GIT_ASKPASS: "/bin/false",
      GIT_OPTIONAL_LOCKS: "0",
      GIT_NO_REPLACE_OBJECTS: "1",
    });
  });

  it("reads driver names from `git config -z --get-regexp` output", () => {
    const listing = [
      "filter.lfs.clean\ngit-lfs clean -- %f",
      "filter.a=b c.smudge\nx",
      "diff.Evil.textconv\ny",
      "diff.external\nz",
      "merge.ff\nonly",
      "merge.ours.driver\ntrue",
      "",
    ].join("\0");
    const keys = driverOverrides(listing).map(([k]) => k);
    expect(keys).toContain("filter.lfs.process");
    expect(keys).toContain("filter.a=b c.clean");
    expect(keys).toContain("diff.Evil.command");
    expect(keys).toContain("merge.ours.driver");
    expect(keys.some((k) => k.startsWith("diff.external") || k.startsWith("merge.ff"))).toBe(false);
  });
});
