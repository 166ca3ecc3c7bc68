import { spawnSync } from "node:child_process";
import { existsSync, promises as fs, readFileSync } from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { RpcError } from "@wm/protocol";
import { makeRepo } from "@wm/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { gitLayoutMounts, recordWorktree } from "../sandbox/git-layout.ts";
import { gitShadowFor, prepareGitShadow } from "../sandbox/git-shadow.ts";
import { bwrapArgs, type FenceFs, type FencePlan, unfencedNote } from "./fence.ts";

/** A fake host: `dirs` and `files` exist (realpaths), `links` maps a path to its target. */
function fakeFs(host: {
  dirs?: string[];
  files?: string[];
  links?: Record<string, string>;
}): FenceFs {
  const dirs = new Set(host.dirs ?? []);
  const files = new Set(host.files ?? []);
  const links = host.links ?? {};
  const resolve = (p: string): string => {
    for (const [from, to] of Object.entries(links)) {
      if (p === from || p.startsWith(`${from}/`)) return resolve(to + p.slice(from.length));
    }
    return p;
  };
  return {
    realpath: (p) => {
      const r = resolve(p);
      return dirs.has(r) || files.has(r) ? r : undefined;
    },
    isDir: (p) => dirs.has(p),
    linksIn: (dir) => Object.keys(links).filter((l) => path.dirname(l) === dir),
  };
}

const plan = (over: Partial<FencePlan> = {}): FencePlan => ({
  home: "/home/u",
  worktree: "/src/repo__worktrees/a",
  gitMounts: [],
  writable: [],
  hide: [],
  cwd: "/src/repo__worktrees/a/sub",
  ...over,
});

/** The args as [flag, ...operands] groups, for readable assertions. */
function groups(args: string[]): string[] {
  const out: string[] = [];
  const arity: Record<string, number> = {
    "--ro-bind": 2,
    "--bind": 2,
    "--dev": 1,
    "--proc": 1,
    "--tmpfs": 1,
    "--chdir": 1,
    "--cap-drop": 1,
    "--cap-add": 1,
    "--perms": 1,
    "--dir": 1,
  };
  for (let i = 0; i < args.length; ) {
    const a = args[i] as string;
    if (a === "--") {
      out.push(args.slice(i).join(" "));
      break;
    }
    const n = arity[a] ?? 0;
    out.push(args.slice(i, i + n + 1).join(" "));
    i += n + 1;
  }
  return out;
}

describe("bwrapArgs", () => {
  it("builds the fence: read-only root, private /tmp, /dev/shm and /run, worktree, git, cwd", () => {
    const args = bwrapArgs(
      plan({
        gitMounts: [
          { source: "/src/repo/.git", target: "/src/repo/.git", readOnly: true },
          { source: "/state/git/x/refs", target: "/src/repo/.git/refs", readOnly: false },
        ],
        hide: ["/src/repo", "/state", "/nonexistent"],
      }),
      ["/usr/bin/cargo", "build", "--release"],
      fakeFs({
        dirs: [
          "/run",
          "/run/systemd/resolve",
          "/home/u/.ssh",
          "/home/u/.aws",
          "/src/repo",
          "/state",
        ],
        files: ["/run/docker.sock", "/home/u/.netrc", "/home/u/.claude.json"],
        links: { "/var/run": "/run" },
      }),
    );
    expect(groups(args)).toEqual([
      "--ro-bind / /",
      "--dev /dev",
      "--proc /proc",
      "--unshare-pid",
      "--unshare-ipc",
      "--die-with-parent",
      "--cap-drop ALL",
      "--tmpfs /tmp",
      "--tmpfs /dev/shm",
      "--tmpfs /run",
      "--ro-bind /run/systemd/resolve /run/systemd/resolve",
      "--tmpfs /home/u/.ssh",
      "--tmpfs /home/u/.aws",
      "--ro-bind /dev/null /home/u/.netrc",
      "--ro-bind /dev/null /home/u/.claude.json",
      "--tmpfs /src/repo",
      "--tmpfs /state",
      // The parent of a git mount inside a hidden dir, made walkable before the mount.
      "--perms 0755",
      "--dir /src/repo/.git",
      "--bind /src/repo__worktrees/a /src/repo__worktrees/a",
      "--ro-bind /src/repo/.git /src/repo/.git",
      "--bind /state/git/x/refs /src/repo/.git/refs",
      "--chdir /src/repo__worktrees/a/sub",
      "-- /usr/bin/cargo build --release",
    ]);
    expect(args).not.toContain("--new-session");
    expect(args).not.toContain("--unshare-net");
  });

  it("hides secrets where their symlinks lead, and what links inside a secret dir point at", () => {
    const args = bwrapArgs(
      plan(),
      ["true"],
      fakeFs({
        dirs: ["/data/ssh", "/data/kube"],
        files: ["/keys/deploy", "/data/ssh/id_ed25519"],
        links: {
          "/home/u/.ssh": "/data/ssh",
          "/data/ssh/deploy_key": "/keys/deploy",
          "/home/u/.kube": "/data/kube",
        },
      }),
    );
    const g = groups(args);
    expect(g).toContain("--tmpfs /data/ssh");
    expect(g).toContain("--ro-bind /dev/null /keys/deploy");
    expect(g).toContain("--tmpfs /data/kube");
    expect(args).not.toContain("/home/u/.ssh");
  });

  it("re-binds the resolv.conf target when it lies elsewhere in /run", () => {
    const args = bwrapArgs(
      plan(),
      ["true"],
      fakeFs({
        dirs: ["/run", "/run/resolvconf"],
        files: ["/run/resolvconf/resolv.conf"],
        links: { "/etc/resolv.conf": "/run/resolvconf/resolv.conf" },
      }),
    );
    const g = groups(args);
    expect(g.indexOf("--ro-bind /run/resolvconf/resolv.conf /run/resolvconf/resolv.conf")).toBe(
      g.indexOf("--tmpfs /run") + 1,
    );
  });

  it("hides the runtime dir and engine sockets outside /run, skipping what is already hidden", () => {
    const g = groups(
      bwrapArgs(
        plan({ runtimeDir: "/xdg/run", hide: ["/tmp/wm-state", "/home/u/.ssh/inner"] }),
        ["true"],
        fakeFs({
          dirs: [
            "/xdg/run",
            "/tmp/wm-state",
            "/home/u/.ssh",
            "/home/u/.ssh/inner",
            "/var/run/podman",
          ],
          files: ["/var/run/docker.sock"],
        }),
      ),
    );
    expect(g).toContain("--tmpfs /xdg/run");
    expect(g).toContain("--ro-bind /dev/null /var/run/docker.sock");
    expect(g.join("\n")).not.toContain("/tmp/wm-state");
    expect(g.join("\n")).not.toContain("/home/u/.ssh/inner");
  });

  it("binds writable tool dirs before hiding, so secrets inside them stay hidden", () => {
    const g = groups(
      bwrapArgs(
        plan({ writable: ["/home/u/.cargo", "/home/u/.npm", "/home/u/.cache/missing"] }),
        ["true"],
        fakeFs({
          dirs: ["/home/u/.cargo", "/home/u/.npm"],
          files: ["/home/u/.cargo/credentials.toml"],
        }),
      ),
    );
    const cargo = g.indexOf("--bind /home/u/.cargo /home/u/.cargo");
    expect(cargo).toBeGreaterThan(0);
    expect(g).toContain("--bind /home/u/.npm /home/u/.npm");
    expect(g.indexOf("--ro-bind /dev/null /home/u/.cargo/credentials.toml")).toBeGreaterThan(cargo);
    expect(g.join("\n")).not.toContain("missing");
  });

  it("refuses writable entries that would undo the fence, naming the key", () => {
    const host = fakeFs({
      dirs: [
        "/",
        "/home",
        "/home/u",
        "/home/u/.ssh",
        "/tmp",
        "/tmp/cache",
        "/run",
        "/home/u/.config",
        "/home/u/.local",
        "/home/u/.local/bin",
      ],
    });
    for (const [entry, why] of [
      ["/", "home directory or above"],
      ["/home", "home directory or above"],
      ["/home/u", "home directory or above"],
      ["/home/u/.ssh", "lies inside /home/u/.ssh"],
      ["/tmp/cache", "lies inside /tmp"],
      ["/run", "lies inside /run"],
      ["relative/dir", "not an absolute path"],
      ["/home/u/.config", "holds /home/u/.config/fish, which runs programs outside the fence"],
      ["/home/u/.local", "holds /home/u/.local/bin"],
      ["/home/u/.local/bin", "holds /home/u/.local/bin"],
    ] as const) {
      let err: unknown;
      try {
        bwrapArgs(plan({ writable: [entry] }), ["true"], host);
      } catch (e) {
        err = e;
      }
      expect(err, entry).toBeInstanceOf(RpcError);
      expect((err as RpcError).is("ConfigInvalid")).toBe(true);
      expect((err as RpcError).message).toContain(`sandbox.host_exec.writable: ${entry}`);
      expect((err as RpcError).message).toContain(why);
    }
  });

  it("refuses a cwd outside the worktree and an empty command", () => {
    expect(() => bwrapArgs(plan({ cwd: "/src/repo__worktrees/ab" }), ["true"], fakeFs({}))).toThrow(
      /outside the worktree/,
    );
    expect(() => bwrapArgs(plan(), [], fakeFs({}))).toThrow(/no command/);
  });

  it("has a one-line note for running without it", () => {
    expect(unfencedNote()).toContain("dangerously_allow_unsandboxed_host_exec");
    expect(unfencedNote()).not.toContain("\n");
  });
});

// ---------------------------------------------------------------------------------------------
// The fence for real: each attack runs twice, without the fence (it works: the control) and
// inside it (it fails). Everything lives outside /tmp, which the fence replaces as a whole.

function findBwrap(): string | undefined {
  const dirs = (process.env.PATH ?? "").split(path.delimiter).concat(["/usr/bin", "/bin"]);
  return dirs.map((d) => path.join(d, "bwrap")).find((p) => path.isAbsolute(p) && existsSync(p));
}

const BWRAP = findBwrap();
const IN_CI = process.env.CI === "true";
const SECRET = "ssh-secret-7f3a9c";
const DEPLOY_SECRET = "deploy-secret-41be";
const CARGO_SECRET = "cargo-token-99d0";

interface Ran {
  code: number | null;
  stdout: string;
  stderr: string;
}

// In CI a missing bwrap fails every case below instead of skipping them.
(BWRAP || IN_CI ? describe : describe.skip)("the fence, with bubblewrap on this machine", () => {
  let root: string;
  let home: string;
  let wt: string;
  let outside: string;
  let tmpRoot: string;
  let tmuxSock: string;
  let shmFile: string;
  let socketServer: net.Server;
  let socketPath: string;
  let env: NodeJS.ProcessEnv;

  const fencePlan = (over: Partial<FencePlan> = {}): FencePlan => ({
    home,
    worktree: wt,
    gitMounts: [],
    writable: [],
    hide: [path.dirname(socketPath)],
    cwd: wt,
    ...over,
  });

  function run(fenced: boolean, argv: string[], p: FencePlan = fencePlan()): Ran {
    const opts = { env, encoding: "utf8" as const, timeout: 30_000 };
    const r = fenced
      ? spawnSync(BWRAP as string, bwrapArgs(p, argv), opts)
      : spawnSync(argv[0] as string, argv.slice(1), { ...opts, cwd: p.cwd });
    if (r.error) throw r.error;
    return { code: r.status, stdout: r.stdout, stderr: r.stderr };
  }
  const sh = (fenced: boolean, script: string, p?: FencePlan) =>
    run(fenced, ["sh", "-c", script], p);

  beforeAll(async () => {
    if (!BWRAP)
      throw new Error("bwrap is not installed: CI must have bubblewrap (scripts/install-deps.sh)");
    root = await fs.realpath(await fs.mkdtemp(path.join("/var/tmp", "wm-fence-")));
    home = path.join(root, "home");
    wt = path.join(root, "wt");
    outside = path.join(root, "outside");
    await fs.mkdir(path.join(home, ".ssh"), { recursive: true, mode: 0o700 });
    await fs.writeFile(path.join(home, ".ssh", "id_ed25519"), `${SECRET}\n`, { mode: 0o600 });
    await fs.mkdir(path.join(root, "elsewhere"));
    await fs.writeFile(path.join(root, "elsewhere", "deploy_key"), `${DEPLOY_SECRET}\n`);
    await fs.symlink(
      path.join(root, "elsewhere", "deploy_key"),
      path.join(home, ".ssh", "deploy_key"),
    );
    await fs.writeFile(path.join(home, "notes.txt"), "plain notes\n");
    await fs.mkdir(path.join(home, ".cargo", "registry"), { recursive: true });
    await fs.writeFile(
      path.join(home, ".cargo", "credentials.toml"),
      `token = "${CARGO_SECRET}"\n`,
    );
    await fs.mkdir(path.join(wt, "sub"), { recursive: true });
    await fs.symlink(path.join(home, ".ssh", "id_ed25519"), path.join(wt, "link"));
    await fs.mkdir(outside);
    env = { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: home, WT: wt, OUT: outside };

    tmpRoot = await fs.mkdtemp(path.join(os.tmpdir(), "wm-fence-tmp-"));
    await fs.writeFile(path.join(tmpRoot, "visible"), "host tmp file\n");
    const tmuxDir = path.join(tmpRoot, `tmux-${process.getuid?.() ?? 0}`);
    await fs.mkdir(tmuxDir, { mode: 0o700 });
    tmuxSock = path.join(tmuxDir, "default");
    const tmux = spawnSync("tmux", [
      "-S",
      tmuxSock,
      "-f",
      "/dev/null",
      "new-session",
      "-d",
      "-s",
      "fence",
      "cat",
    ]);
    expect(tmux.status, String(tmux.stderr)).toBe(0);
    shmFile = path.join("/dev/shm", `wm-fence-${process.pid}`);
    await fs.writeFile(shmFile, "shared memory\n");

    const runtime = path.join(root, "runtime");
    await fs.mkdir(runtime, { mode: 0o700 });
    socketPath = path.join(runtime, "daemon.sock");
    socketServer = net.createServer((c) => c.end("daemon\n"));
    await new Promise<void>((resolve) => socketServer.listen(socketPath, resolve));
  });

  afterAll(async () => {
    if (tmuxSock) spawnSync("tmux", ["-S", tmuxSock, "kill-server"]);
    socketServer?.close();
    if (shmFile) await fs.rm(shmFile, { force: true });
    if (tmpRoot) await fs.rm(tmpRoot, { recursive: true, force: true });
    if (root) await fs.rm(root, { recursive: true, force: true });
  });

  it("(a) hides ~/.ssh, also through links, while the rest of HOME stays readable", () => {
    const key = path.join(home, ".ssh", "id_ed25519");
    const control = run(false, ["cat", key]);
    expect(control.stdout).toContain(SECRET);
    const fenced = run(true, ["cat", key]);
    expect(fenced.code).not.toBe(0);
    expect(fenced.stdout + fenced.stderr).not.toContain(SECRET);
    expect(run(true, ["cat", path.join(home, "notes.txt")]).stdout).toBe("plain notes\n");

    // A key in ~/.ssh that is a link to a file elsewhere: hidden at its target too.
    const deploy = path.join(root, "elsewhere", "deploy_key");
    expect(run(false, ["cat", deploy]).stdout).toContain(DEPLOY_SECRET);
    expect(run(true, ["cat", deploy]).stdout).not.toContain(DEPLOY_SECRET);
  });

  it("(a) hides a ~/.ssh that is a symbolic link at its target", async () => {
    const home2 = path.join(root, "home2");
    const realSsh = path.join(root, "real-ssh");
    await fs.mkdir(home2);
    await fs.mkdir(realSsh);
    await fs.writeFile(path.join(realSsh, "id_ed25519"), `${SECRET}\n`);
    await fs.symlink(realSsh, path.join(home2, ".ssh"));
    const p = fencePlan({ home: home2 });
    for (const file of [path.join(home2, ".ssh", "id_ed25519"), path.join(realSsh, "id_ed25519")]) {
      expect(run(false, ["cat", file], p).stdout).toContain(SECRET);
      const fenced = run(true, ["cat", file], p);
      expect(fenced.code).not.toBe(0);
      expect(fenced.stdout).not.toContain(SECRET);
    }
  });

  it("(b) hides the engine socket and the daemon's runtime dir", () => {
    const docker = "/var/run/docker.sock";
    if (existsSync(docker) || IN_CI) {
      expect(sh(false, `test -S ${docker}`).code).toBe(0);
      expect(sh(true, `test -e ${docker}`).code).not.toBe(0);
      expect(sh(true, `test -S ${docker}`).code).not.toBe(0);
    }
    expect(sh(false, `test -S ${socketPath}`).code).toBe(0);
    expect(sh(true, `test -S ${socketPath}`).code).not.toBe(0);
  });

  it("(c) does not follow a worktree symlink to a secret", () => {
    expect(run(false, ["cat", "link"]).stdout).toContain(SECRET);
    const fenced = run(true, ["cat", "link"]);
    expect(fenced.code).not.toBe(0);
    expect(fenced.stdout).not.toContain(SECRET);
  });

  it("(d) a tool turned interpreter (git's core.sshCommand) can neither read secrets nor write outside", async () => {
    const etcFile = `/etc/wm-fence-test-${process.pid}`;
    const payload = [
      'cat "$HOME/.ssh/id_ed25519" > "$HOME/pwned"',
      'cat "$HOME/.ssh/id_ed25519" > "$WT/leak"',
      'touch "$OUT/pwned"',
      `echo x > ${etcFile}`,
      "false",
    ].join("; ");
    const argv = [
      "git",
      "-c",
      `core.sshCommand=${payload}`,
      "ls-remote",
      "ssh://example.invalid/x",
    ];
    const clean = () =>
      Promise.all(
        [path.join(home, "pwned"), path.join(wt, "leak"), path.join(outside, "pwned")].map((f) =>
          fs.rm(f, { force: true }),
        ),
      );

    run(true, argv);
    const wroteEtc = existsSync(etcFile);
    await fs.rm(etcFile, { force: true });
    expect(wroteEtc).toBe(false);
    expect(existsSync(path.join(home, "pwned"))).toBe(false);
    expect(existsSync(path.join(outside, "pwned"))).toBe(false);
    const leak = path.join(wt, "leak");
    expect(existsSync(leak) ? readFileSync(leak, "utf8") : "").not.toContain(SECRET);
    await clean();

    // Control: the same git call without the fence reads the key and writes outside (not to
    // /etc, which only root could write anyway).
    run(
      false,
      argv.map((a) => a.replace(`echo x > ${etcFile}`, "true")),
    );
    expect(readFileSync(path.join(home, "pwned"), "utf8")).toContain(SECRET);
    expect(readFileSync(leak, "utf8")).toContain(SECRET);
    expect(existsSync(path.join(outside, "pwned"))).toBe(true);
    await clean();

    expect(sh(true, 'touch "$HOME/pwned"').code).not.toBe(0);
    const etc = sh(true, `echo x > ${etcFile}`);
    const wroteEtcAgain = existsSync(etcFile);
    await fs.rm(etcFile, { force: true });
    expect(wroteEtcAgain).toBe(false);
    expect(etc.stderr).toMatch(/Read-only file system|Permission denied/);
  });

  it("(e) the worktree is writable and the command runs in the cwd asked for", async () => {
    const sub = path.join(wt, "sub");
    const r = sh(true, "pwd; echo made > made.txt", fencePlan({ cwd: sub }));
    expect(r).toMatchObject({ code: 0, stdout: `${sub}\n` });
    expect(await fs.readFile(path.join(sub, "made.txt"), "utf8")).toBe("made\n");
  });

  it("(e) tool caches are read-only unless writable; a secret inside a writable one stays hidden", () => {
    const touch = 'touch "$HOME/.cargo/registry/new"';
    expect(sh(true, touch).code).not.toBe(0);
    const writable = fencePlan({ writable: [path.join(home, ".cargo")] });
    expect(sh(true, touch, writable).code).toBe(0);
    expect(existsSync(path.join(home, ".cargo", "registry", "new"))).toBe(true);
    const creds = 'cat "$HOME/.cargo/credentials.toml"';
    expect(sh(false, creds, writable).stdout).toContain(CARGO_SECRET);
    expect(sh(true, creds, writable).stdout).not.toContain(CARGO_SECRET);
  });

  it("(f) processes inside see their own PID namespace", () => {
    expect(process.pid).toBeGreaterThan(20);
    const hostInit = readFileSync("/proc/1/cmdline", "utf8");
    expect(sh(false, "cat /proc/1/cmdline").stdout).toBe(hostInit);
    expect(sh(true, "cat /proc/1/cmdline").stdout).not.toBe(hostInit);
    expect(sh(false, `test -e /proc/${process.pid}`).code).toBe(0);
    expect(sh(true, `test -e /proc/${process.pid}`).code).not.toBe(0);
  });

  it("(g) the host's /tmp, its tmux sockets and /dev/shm are not there", () => {
    const file = path.join(tmpRoot, "visible");
    expect(sh(false, `test -e ${file}`).code).toBe(0);
    expect(sh(true, `test -e ${file}`).code).not.toBe(0);

    const ask = ["tmux", "-S", tmuxSock, "display-message", "-p", "reached #{session_name}"];
    expect(run(false, ask).stdout).toBe("reached fence\n");
    const fenced = run(true, ask);
    expect(fenced.code).not.toBe(0);
    expect(fenced.stdout).not.toContain("reached");
    const type = ["tmux", "-S", tmuxSock, "send-keys", "-t", "fence", "echo typed", "Enter"];
    expect(run(true, type).code).not.toBe(0);

    expect(sh(false, `test -e ${shmFile}`).code).toBe(0);
    expect(sh(true, `test -e ${shmFile}`).code).not.toBe(0);
  });

  it("applies the sandbox's git mounts: git works in the worktree, the repository stays read-only", async () => {
    const repo = await makeRepo(path.join(root, "git"), ["agent"]);
    const agentWt = repo.worktrees.agent as string;
    const record = await recordWorktree(agentWt);
    const stateDir = path.join(root, "state");
    const shadow = gitShadowFor(stateDir, record);
    const owner = { uid: process.getuid?.() ?? 0, gid: process.getgid?.() ?? 0 };
    await prepareGitShadow(shadow, record, owner, { reseed: true, branch: "agent" });
    const p = fencePlan({
      worktree: record.worktreePath,
      cwd: record.worktreePath,
      gitMounts: await gitLayoutMounts(record, shadow),
      hide: [repo.main, stateDir],
    });
    const commit = [
      "echo change > change.txt",
      "git add change.txt",
      "git -c user.name=a -c user.email=a@example.invalid commit -qm from-fence",
      "git log --format=%s -1",
    ].join(" && ");
    expect(sh(true, commit, p)).toMatchObject({ code: 0, stdout: "from-fence\n" });
    const config = sh(true, "git config core.hooksPath /x", p);
    expect(config.code).not.toBe(0);
    expect(sh(false, "git config core.hooksPath", p).stdout).toBe("");
    // The main checkout is hidden; only its .git is bound back, read-only.
    const mainFile = path.join(repo.main, "main-only.txt");
    expect(sh(false, `cat ${mainFile}`, p).code).toBe(0);
    expect(sh(true, `cat ${mainFile}`, p).code).not.toBe(0);
    expect(sh(true, `ls -A ${repo.main}`, p).stdout).toBe(".git\n");
  });
});
