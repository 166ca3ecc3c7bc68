import { spawnSync } from "node:child_process";
import { promises as fs } from "node:fs";
import path from "node:path";
import {
  makeSandboxHome,
  type SandboxHome,
  startSandboxClient,
  waitForRunningSandbox,
} from "@wm/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

/**
 * The fence around host commands, driven from a real sandbox: each attack is run by a daemon
 * that fences its host commands, and by one without bubblewrap that was told to run them
 * anyway (the control): the attack must fail with the fence and work without it.
 */
const SECRET = "-----BEGIN OPENSSH PRIVATE KEY----- wm-fence-test";
const CONFIG = (unfenced: boolean) =>
  [
    "agent: demo",
    "sandbox:",
    "  host_commands: [cat, git, touch, test]",
    ...(unfenced ? ["  dangerously_allow_unsandboxed_host_exec: true"] : []),
    "",
  ].join("\n");

interface Bench {
  sandbox: SandboxHome;
  /** The daemon's HOME: outside /tmp, which the fence hides wholesale. */
  home: string;
  worktree: string;
  container: string;
}

async function bench(unfenced: boolean, bwrapMissing = unfenced): Promise<Bench> {
  const home = await fs.mkdtemp("/var/tmp/wmh-");
  await fs.mkdir(path.join(home, ".ssh"), { mode: 0o700 });
  await fs.writeFile(path.join(home, ".ssh", "id_ed25519"), `${SECRET}\n`, { mode: 0o600 });
  await fs.writeFile(path.join(home, "notes.txt"), "not a secret\n", { mode: 0o644 });
  // The daemon runs host commands as the sandbox's user (1000 here): the home is theirs.
  for (const p of [
    home,
    path.join(home, ".ssh"),
    path.join(home, ".ssh", "id_ed25519"),
    path.join(home, "notes.txt"),
  ])
    await fs.chown(p, 1000, 1000);
  const sandbox = await makeSandboxHome({
    config: CONFIG(unfenced),
    branches: ["alpha"],
    env: { HOME: home, ...(bwrapMissing ? { WM_BWRAP: "/nonexistent/bwrap" } : {}) },
  });
  const worktree = sandbox.repo.worktrees.alpha as string;
  await fs.symlink(path.join(home, ".ssh", "id_ed25519"), path.join(worktree, "key-link"));
  const client = startSandboxClient(sandbox.home.env, worktree, "sleep 600");
  client.child.unref();
  const s = await waitForRunningSandbox(sandbox.home.env, (x) => x.name === "alpha");
  return { sandbox, home, worktree, container: s.containerId as string };
}

function inside(b: Bench, script: string) {
  const r = spawnSync(
    "docker",
    ["exec", "-u", "1000:1000", "-w", b.worktree, b.container, "/bin/sh", "-c", script],
    { encoding: "utf8" },
  );
  return { code: r.status, out: r.stdout, err: r.stderr };
}

let fenced: Bench;
let open: Bench;
beforeAll(async () => {
  [fenced, open] = await Promise.all([bench(false), bench(true)]);
}, 600_000);
afterAll(async () => {
  for (const b of [fenced, open]) {
    if (!b) continue;
    await b.sandbox.cleanup();
    await fs.rm(b.home, { recursive: true, force: true });
  }
});

describe("a host command cannot read the user's secrets", () => {
  it("cat of ~/.ssh/id_ed25519: nothing with the fence, the key without it", () => {
    const f = inside(fenced, `cat ${fenced.home}/.ssh/id_ed25519`);
    expect(f.code).not.toBe(0);
    expect(f.out + f.err).not.toContain(SECRET);
    const o = inside(open, `cat ${open.home}/.ssh/id_ed25519`);
    expect(o.code, o.err).toBe(0);
    expect(o.out).toContain(SECRET);
  });

  it("the rest of the home stays readable with the fence (it is not hidden wholesale)", () => {
    const f = inside(fenced, `cat ${fenced.home}/notes.txt`);
    expect(f.code, f.err).toBe(0);
    expect(f.out).toBe("not a secret\n");
  });

  it("a worktree symlink to the key reads nothing with the fence, the key without it", () => {
    const f = inside(fenced, "cat key-link");
    expect(f.code).not.toBe(0);
    expect(f.out + f.err).not.toContain(SECRET);
    const o = inside(open, "cat key-link");
    expect(o.out).toContain(SECRET);
  });
});

describe("a host command cannot reach the engine or write outside", () => {
  it("/var/run/docker.sock is absent with the fence, present without it", () => {
    expect(inside(fenced, "wm host-exec test -S /var/run/docker.sock").code).toBe(1);
    expect(inside(open, "wm host-exec test -S /var/run/docker.sock").code).toBe(0);
  });

  it("git -c core.sshCommand=… cannot read the key or write the home with the fence", async () => {
    const payload = (b: Bench) =>
      `git -c core.sshCommand='sh -c "cat ${b.home}/.ssh/id_ed25519 > ${b.worktree}/leak; touch ${b.home}/pwned"' ls-remote ssh://nowhere.invalid/x; true`;
    inside(fenced, payload(fenced));
    const leaked = await fs.readFile(path.join(fenced.worktree, "leak"), "utf8").catch(() => "");
    expect(leaked).not.toContain(SECRET);
    await expect(fs.stat(path.join(fenced.home, "pwned"))).rejects.toThrow();

    inside(open, payload(open));
    expect(await fs.readFile(path.join(open.worktree, "leak"), "utf8")).toContain(SECRET);
    await fs.stat(path.join(open.home, "pwned"));
  });

  it("the worktree itself is writable with the fence, and what is made there is the sandbox user's", async () => {
    const f = inside(fenced, "touch made-on-host");
    expect(f.code, f.err).toBe(0);
    const st = await fs.stat(path.join(fenced.worktree, "made-on-host"));
    expect({ uid: st.uid, gid: st.gid }).toEqual({ uid: 1000, gid: 1000 });
  });
});

describe("without bubblewrap", () => {
  it("host commands are refused unless the global config says to run them unfenced", async () => {
    const b = await bench(false, true);
    try {
      const r = inside(b, `cat ${b.home}/.ssh/id_ed25519`);
      expect(r.code).toBe(126);
      expect(r.out).toBe("");
      expect(r.err).toContain("bubblewrap");
      expect(r.err).toContain("sandbox.dangerously_allow_unsandboxed_host_exec");
      expect(r.err).toContain(path.join(b.sandbox.home.configDir, "config.yaml"));
    } finally {
      await b.sandbox.cleanup();
      await fs.rm(b.home, { recursive: true, force: true });
    }
  });
});
