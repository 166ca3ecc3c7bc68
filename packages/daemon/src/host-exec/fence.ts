import { readdirSync, realpathSync, statSync } from "node:fs";
import path from "node:path";
import { RpcError } from "@wm/protocol";
import type { MountSpec } from "../backends/types.ts";

/** What the fence around one host command is built from; every path absolute. */
export interface FencePlan {
  /** The user's home directory on the host. */
  home: string;
  /** Realpath of the sandbox's worktree: writable. */
  worktree: string;
  /** The git mounts the sandbox's container gets (gitLayoutMounts), applied in order. */
  gitMounts: readonly MountSpec[];
  /** `sandbox.host_exec.writable` entries, `~` expanded: bound read-write when they exist. */
  writable: readonly string[];
  /** Extra paths to hide: the repository's other worktrees and main checkout, wm's dirs. */
  hide: readonly string[];
  /** Already checked to be inside the worktree. */
  cwd: string;
  /** The daemon's `$XDG_RUNTIME_DIR`, hidden even when it lies outside /run. */
  runtimeDir?: string | undefined;
  /**
   * A root daemon runs the tool as the sandbox's user: bwrap builds the fence as root (so it
   * reaches the daemon's own files to bind them), keeps only CAP_SETUID/CAP_SETGID, and
   * `setpriv` inside drops to this user — and with it every capability — before the tool runs.
   */
  dropTo?: { uid: number; gid: number } | undefined;
}

/** Secrets under the home directory, hidden from every host command. */
export const HOME_SECRETS: readonly string[] = [
  ".ssh",
  ".aws",
  ".azure",
  ".gnupg",
  ".password-store",
  ".local/share/keyrings",
  ".config/gcloud",
  ".config/gh",
  ".config/containers/auth.json",
  ".docker",
  ".kube",
  ".netrc",
  ".git-credentials",
  ".npmrc",
  ".pypirc",
  ".gem/credentials",
  ".cargo/credentials",
  ".cargo/credentials.toml",
  ".config/wm",
  ".config/workmux",
  ".local/state/wm",
  ".claude",
  ".claude.json",
];

/**
 * Under the home directory: what the user's shell, session or service manager runs later,
 * outside the fence. No writable entry may be or hold one of them.
 */
const STARTUP_PATHS: readonly string[] = [
  ".bashrc",
  ".bash_profile",
  ".bash_login",
  ".profile",
  ".zshrc",
  ".zshenv",
  ".zprofile",
  ".config/fish",
  ".config/systemd",
  ".config/autostart",
  ".config/environment.d",
  ".local/bin",
  "bin",
];

/** Engine sockets and directories; /run as a whole is hidden too, these cover a /var/run that is not a link to it. */
const SYSTEM_SECRETS: readonly string[] = [
  "/var/run/docker.sock",
  "/run/docker.sock",
  "/run/podman",
  "/run/containerd",
];

/** What the resolver needs from /run: /etc/resolv.conf often points into it. */
const DNS_DIR = "/run/systemd/resolve";
const RESOLV_CONF = "/etc/resolv.conf";

/** The file-system questions the fence asks; `realFenceFs` answers them from this host. */
export interface FenceFs {
  /** Realpath, or undefined when the path does not exist. */
  realpath(p: string): string | undefined;
  /** Whether the (resolved) path is a directory. */
  isDir(p: string): boolean;
  /** Absolute paths of the symbolic links directly inside `dir`. */
  linksIn(dir: string): string[];
}

export const realFenceFs: FenceFs = {
  realpath: (p) => {
    try {
      return realpathSync(p);
    } catch {
      return undefined;
    }
  },
  isDir: (p) => {
    try {
      return statSync(p).isDirectory();
    } catch {
      return false;
    }
  },
  linksIn: (dir) => {
    try {
      return readdirSync(dir, { withFileTypes: true })
        .filter((e) => e.isSymbolicLink())
        .map((e) => path.join(dir, e.name));
    } catch {
      return [];
    }
  },
};

// No --new-session: the runner starts bwrap in a session of its own (so no terminal of the
// user's is reachable for TIOCSTI), and signals the runner sends to that process group must
// reach the tool; --new-session would put the tool in yet another session out of their reach.
// The network namespace is shared: tools fetch dependencies.
const NAMESPACES = ["--unshare-pid", "--unshare-ipc", "--die-with-parent", "--cap-drop", "ALL"];

function inside(p: string, dir: string): boolean {
  return p === dir || p.startsWith(dir === "/" ? "/" : `${dir}/`);
}

interface Hide {
  path: string;
  dir: boolean;
}

/**
 * What the fence hides, in order, as realpaths: /tmp and /dev/shm (tmux sockets, other
 * programs' files), /run, the runtime dir, engine sockets, the home secrets (and what symbolic
 * links directly inside a secret directory point at), then `plan.hide`. Paths that do not exist
 * are skipped, and so are paths already inside a hidden directory.
 */
function hiddenPaths(plan: FencePlan, fs: FenceFs): Hide[] {
  const out: Hide[] = [
    { path: "/tmp", dir: true },
    { path: "/dev/shm", dir: true },
  ];
  const add = (p: string, follow = false) => {
    const real = fs.realpath(p);
    if (real === undefined || out.some((h) => h.dir && inside(real, h.path))) return;
    const dir = fs.isDir(real);
    out.push({ path: real, dir });
    if (dir && follow) for (const link of fs.linksIn(real)) add(link);
  };
  add("/run");
  if (plan.runtimeDir) add(plan.runtimeDir);
  for (const p of SYSTEM_SECRETS) add(p);
  for (const rel of HOME_SECRETS) add(path.join(plan.home, rel), true);
  for (const p of plan.hide) add(p);
  return out;
}

/** The parts of /run that name resolution needs, re-bound read-only over the hidden /run. */
function dnsBinds(fs: FenceFs): string[] {
  const args: string[] = [];
  const dnsDir = fs.realpath(DNS_DIR);
  if (dnsDir !== undefined && fs.isDir(dnsDir)) args.push("--ro-bind", dnsDir, dnsDir);
  const resolv = fs.realpath(RESOLV_CONF);
  if (resolv && inside(resolv, "/run") && !(dnsDir && inside(resolv, dnsDir))) {
    args.push("--ro-bind", resolv, resolv);
  }
  return args;
}

function refuseWritable(entry: string, why: string): never {
  throw new RpcError(
    "ConfigInvalid",
    `sandbox.host_exec.writable: ${entry} ${why}; list only a tool's own directories (e.g. ~/.cargo) in ~/.config/workmux/config.yaml`,
  );
}

/** Existing writable entries as realpaths; refuses those that would undo the fence. */
function writablePaths(plan: FencePlan, hidden: readonly Hide[], fs: FenceFs): string[] {
  const out: string[] = [];
  const home = fs.realpath(plan.home) ?? plan.home;
  for (const entry of plan.writable) {
    if (!path.isAbsolute(entry)) refuseWritable(entry, "is not an absolute path");
    const real = fs.realpath(entry);
    if (real === undefined) continue;
    if (inside(home, real)) {
      refuseWritable(
        entry,
        "is your home directory or above it (shell startup files would be writable)",
      );
    }
    const starter = STARTUP_PATHS.map((rel) => path.join(home, rel)).find((p) => inside(p, real));
    if (starter) {
      refuseWritable(entry, `holds ${starter}, which runs programs outside the fence later`);
    }
    const hiddenBy = hidden.find((h) => inside(real, h.path));
    if (hiddenBy)
      refuseWritable(entry, `lies inside ${hiddenBy.path}, which host commands never see`);
    if (!out.includes(real)) out.push(real);
  }
  return out;
}

function checkPlan(plan: FencePlan, argv: readonly string[]): void {
  for (const [key, p] of [
    ["home", plan.home],
    ["worktree", plan.worktree],
    ["cwd", plan.cwd],
  ] as const) {
    if (!path.isAbsolute(p)) throw new Error(`fence: ${key} ${p} is not an absolute path`);
  }
  if (!inside(path.resolve(plan.cwd), path.resolve(plan.worktree))) {
    throw new Error(`fence: cwd ${plan.cwd} is outside the worktree ${plan.worktree}`);
  }
  if (argv.length === 0) throw new Error("fence: no command to run");
}

/**
 * Arguments for `bwrap` that run `argv` inside the fence (SECURITY.md §2). Layers, in order —
 * in bubblewrap a later mount covers an earlier one:
 *
 * 1. the host's root read-only, a fresh /dev and /proc (of a new PID namespace);
 * 2. `plan.writable`, read-write;
 * 3. hidden (an empty tmpfs for a directory, /dev/null for a file): /tmp, /dev/shm, /run
 *    (its DNS part bound back read-only), engine sockets, the home secrets, `plan.hide`;
 * 4. the worktree, read-write, then the git mounts, exactly as the container has them.
 *
 * So hiding wins over writable: a secret inside a writable directory (~/.cargo/credentials.toml
 * in a writable ~/.cargo) stays hidden, and a writable entry inside a hidden path (or one that
 * is the home directory or above it) is refused with ConfigInvalid rather than silently
 * exposed. The worktree and git mounts win over hiding: they are what the sandbox already has
 * (the main checkout's `.git` is hidden with the checkout and bound back read-only by them).
 *
 * Spawn `bwrap` with the environment from hostExecEnv; the fence passes it on unchanged.
 */
export function bwrapArgs(
  plan: FencePlan,
  argv: readonly string[],
  fs: FenceFs = realFenceFs,
): string[] {
  checkPlan(plan, argv);
  const hidden = hiddenPaths(plan, fs);
  const args = ["--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc", ...NAMESPACES];
  if (plan.dropTo) args.push("--cap-add", "CAP_SETUID", "--cap-add", "CAP_SETGID");
  for (const w of writablePaths(plan, hidden, fs)) args.push("--bind", w, w);
  for (const h of hidden) {
    args.push(...(h.dir ? ["--tmpfs", h.path] : ["--ro-bind", "/dev/null", h.path]));
    if (h.path === "/run") args.push(...dnsBinds(fs));
  }
  args.push(...openParents([plan.worktree, ...plan.gitMounts.map((m) => m.target)], hidden));
  args.push("--bind", plan.worktree, plan.worktree);
  for (const m of plan.gitMounts)
    args.push(m.readOnly ? "--ro-bind" : "--bind", m.source, m.target);
  args.push("--chdir", plan.cwd, "--");
  if (plan.dropTo) {
    const { uid, gid } = plan.dropTo;
    args.push("setpriv", `--reuid=${uid}`, `--regid=${gid}`, "--clear-groups", "--");
  }
  args.push(...argv);
  return args;
}

/**
 * A mount inside a hidden directory needs its parents made in the empty tmpfs; bwrap makes
 * them owner-only, which a tool run as another user (dropTo) could not walk through. Make them
 * first, 0755, as they are on the host (their contents stay hidden: only the path exists).
 */
function openParents(targets: readonly string[], hidden: readonly Hide[]): string[] {
  const made = new Set<string>();
  const args: string[] = [];
  for (const target of targets) {
    for (const h of hidden) {
      if (!h.dir || target === h.path || !inside(target, h.path)) continue;
      let dir = h.path;
      for (const part of path.relative(h.path, path.dirname(target)).split(path.sep)) {
        if (!part) continue;
        dir = path.join(dir, part);
        if (made.has(dir)) continue;
        made.add(dir);
        args.push("--perms", "0755", "--dir", dir);
      }
    }
  }
  return args;
}

/** One line for the log and docs when host commands run without the fence. */
export function unfencedNote(): string {
  return "host commands run WITHOUT bubblewrap (sandbox.dangerously_allow_unsandboxed_host_exec): an allowed command can read every file you can (~/.ssh included), write anywhere you can and reach every socket you can";
}
