import { once } from "node:events";
import { promises as fs } from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { extraMountsSchema } from "../config/schema-sandbox.ts";
import { type MountContext, MountRefusedError, resolveExtraMounts } from "./extra-mounts.ts";

let root: string;
let ctx: MountContext;
let server: net.Server;
const at = (...parts: string[]) => path.join(root, ...parts);

function mount(host_path: string, opts: { writable?: boolean; force?: boolean } = {}) {
  return resolveExtraMounts(
    [{ host_path, writable: opts.writable ?? false, force: opts.force }],
    ctx,
  );
}

/** The mount is refused with a message naming it and the reason, and `force: true` lets it through. */
async function refusedUnlessForced(
  host_path: string,
  reason: string | RegExp,
  opts: { writable?: boolean } = {},
) {
  const err = await mount(host_path, opts).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(MountRefusedError);
  const message = (err as Error).message;
  expect(message.startsWith(`sandbox.extra_mounts: ${host_path} `)).toBe(true);
  expect(message).toMatch(reason);
  expect(message).toContain("force: true");
  const source = await fs.realpath(host_path);
  await expect(mount(host_path, { ...opts, force: true })).resolves.toEqual([
    { source, target: source, readOnly: !opts.writable },
  ]);
}

beforeAll(async () => {
  root = await fs.realpath(await fs.mkdtemp(path.join(os.tmpdir(), "wm-mnt-")));
  for (const dir of [
    "home/.config/gh",
    "home/.cargo",
    "xdg/wm",
    "state/wm",
    "config/workmux",
    "src/repo/.git/objects",
    "src/repo/.git/refs",
    "src/repo__worktrees/a",
    "src/repo__worktrees/b",
    "data/plain",
    "data/sockets",
    "data/links",
    "data/proj/.git/objects",
    "data/proj/.git/refs",
    "data/bare.git/objects",
    "data/bare.git/refs",
  ]) {
    await fs.mkdir(at(dir), { recursive: true });
  }
  await fs.writeFile(at("src/repo/.git/HEAD"), "ref: refs/heads/main\n");
  await fs.writeFile(at("data/proj/.git/HEAD"), "ref: refs/heads/main\n");
  await fs.writeFile(at("data/bare.git/HEAD"), "ref: refs/heads/main\n");
  await fs.writeFile(at("data/plain/f"), "data\n");
  await fs.writeFile(at("src/repo/README.md"), "hello\n");
  server = net.createServer((c) => c.end());
  server.listen(at("data/sockets/srv.sock"));
  await once(server, "listening");
  await fs.link(at("data/sockets/srv.sock"), at("data/links/innocent"));
  ctx = {
    homedir: at("home"),
    worktree: {
      worktreePath: at("src/repo__worktrees/a"),
      commonDir: at("src/repo/.git"),
      adminDir: at("src/repo/.git/worktrees/a"),
    },
    paths: {
      runtimeDir: at("xdg/wm"),
      stateDir: at("state/wm"),
      configDir: at("config/workmux"),
    },
  };
});

afterAll(async () => {
  server?.close();
  await fs.rm(root, { recursive: true, force: true });
});

describe("resolveExtraMounts", () => {
  it("mounts a plain directory read-only, or writable when asked", async () => {
    await expect(mount(at("data/plain"))).resolves.toEqual([
      { source: at("data/plain"), target: at("data/plain"), readOnly: true },
    ]);
    await expect(mount(at("data/plain"), { writable: true })).resolves.toEqual([
      { source: at("data/plain"), target: at("data/plain"), readOnly: false },
    ]);
  });

  it("refuses a hard link to a listening socket, by file type", async () => {
    const connected = once(server, "connection");
    const client = net.connect(at("data/links/innocent"));
    await connected;
    client.destroy();
    await refusedUnlessForced(at("data/links/innocent"), /is a Unix socket/);
    await refusedUnlessForced(at("data/sockets/srv.sock"), /is a Unix socket/);
  });

  it("refuses a directory holding a socket at its top level", async () => {
    await refusedUnlessForced(
      at("data/links"),
      `holds the Unix socket ${at("data/links/innocent")}`,
    );
  });

  it("refuses the daemon's runtime, state and config directories and their parents", async () => {
    await refusedUnlessForced(
      at("xdg"),
      `contains ${at("xdg/wm")}, which holds the wm daemon's socket`,
    );
    await refusedUnlessForced(
      at("xdg/wm"),
      `is ${at("xdg/wm")}, which holds the wm daemon's socket`,
    );
    await refusedUnlessForced(
      at("state"),
      `contains ${at("state/wm")}, which holds the wm daemon's state`,
    );
    await refusedUnlessForced(at("config/workmux"), "which holds the global config");
  });

  it("refuses the worktrees directory, the main worktree and their parents", async () => {
    await refusedUnlessForced(
      at("src"),
      `contains ${at("src/repo__worktrees")}, which holds the worktrees of other agents`,
    );
    await refusedUnlessForced(
      at("src/repo__worktrees"),
      "which holds the worktrees of other agents",
    );
    await refusedUnlessForced(at("src/repo"), `is ${at("src/repo")}, which is the main worktree`);
  });

  it("refuses another agent's worktree and the main worktree's files", async () => {
    await refusedUnlessForced(
      at("src/repo__worktrees/b"),
      `is inside ${at("src/repo__worktrees")}, which holds the worktrees of other agents`,
      { writable: true },
    );
    await refusedUnlessForced(at("src/repo/README.md"), "which is the main worktree");
  });

  it("refuses the sandbox's own worktree even when forced", async () => {
    for (const force of [false, true]) {
      await expect(mount(at("src/repo__worktrees/a"), { force })).rejects.toThrow(
        `sandbox.extra_mounts: ${at("src/repo__worktrees/a")} is inside the worktree`,
      );
    }
  });

  const credentials = [
    ".claude",
    ".claude.json",
    ".npmrc",
    ".git-credentials",
    ".docker",
    ".kube",
    ".config/gh",
    ".ssh",
    ".aws",
    ".gnupg",
    ".netrc",
    ".config/gcloud",
    ".azure",
    ".oci",
    ".config/doctl",
    ".terraform.d",
    ".pypirc",
    ".cargo/credentials",
    ".cargo/credentials.toml",
    ".local/share/keyrings",
    ".password-store",
  ];
  it.each(credentials)("refuses ~/%s and what contains it", async (name) => {
    const p = at("home", name);
    await fs.mkdir(path.dirname(p), { recursive: true });
    if (name.includes(".json") || name.includes("credentials") || /rc$/.test(name)) {
      await fs.writeFile(p, "secret\n");
    } else {
      await fs.mkdir(p, { recursive: true });
    }
    await refusedUnlessForced(p, `is ${p}, which holds secrets`);
    if (path.dirname(name) !== ".") {
      await refusedUnlessForced(path.dirname(p), /contains \S+, which holds secrets/);
    }
  });

  it("refuses a symlink whose target is a credential directory", async () => {
    await fs.symlink(at("home/.ssh"), at("data/keys"));
    const err = await mount(at("data/keys")).catch((e: Error) => e);
    expect((err as Error).message).toBe(
      `sandbox.extra_mounts: ${at("data/keys")} (${at("home/.ssh")}) is ${at("home/.ssh")}, which holds secrets; refused unless this mount sets \`force: true\` in the global config`,
    );
  });

  it("refuses the home directory and / itself", async () => {
    await refusedUnlessForced(at("home"), "which is your home directory");
    await refusedUnlessForced("/", "is /, which is the host's whole filesystem");
  });

  it("allows ~/.gitconfig read-only and refuses it writable", async () => {
    await fs.writeFile(at("home/.gitconfig"), "[user]\n\tname = Me\n");
    await expect(mount("~/.gitconfig")).resolves.toHaveLength(1);
    await refusedUnlessForced(
      at("home/.gitconfig"),
      /\(mounted writable\), which is git's configuration/,
      {
        writable: true,
      },
    );
  });

  it("refuses git directories and paths inside them, writable or not", async () => {
    await refusedUnlessForced(at("data/proj/.git"), /is the git directory .*hooks and config/, {
      writable: true,
    });
    await refusedUnlessForced(at("data/proj/.git"), /is the git directory .*can hold credentials/);
    await refusedUnlessForced(
      at("data/proj/.git/objects"),
      `is inside the git directory ${at("data/proj/.git")}`,
      { writable: true },
    );
    await refusedUnlessForced(
      at("data/bare.git/refs"),
      `is inside the git directory ${at("data/bare.git")}`,
    );
    await expect(mount(at("data/proj"))).resolves.toHaveLength(1);
  });
});

describe("the force key", () => {
  it("is false unless set, and kept only when true", () => {
    expect(
      extraMountsSchema.parse([
        "/a",
        { host_path: "/b", force: false },
        { host_path: "/c", force: true },
      ]),
    ).toEqual([
      { host_path: "/a", writable: false },
      { host_path: "/b", writable: false },
      { host_path: "/c", writable: false, force: true },
    ]);
    expect(extraMountsSchema.safeParse([{ host_path: "/a", force: "yes" }]).success).toBe(false);
  });
});
