import { execFileSync } from "node:child_process";
import { promises as fs } from "node:fs";
import path from "node:path";
import {
  type EngineEvent,
  type EngineEvents,
  gitOut,
  killDaemon,
  makeSandboxHome,
  runWm,
  type SandboxHome,
  watchEngineEvents,
} from "@wm/testing";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";

const OWNER = { uid: 1000, gid: 1000 };
/** Prints the sandbox's id, then what the script adds. */
const SCRIPT = 'echo "id=$WM_SANDBOX_ID"; ';
/** A sandbox's own container, not the network holder made with it (which has its labels). */
const isSandbox = (e: EngineEvent) => e.attributes["wm.netns.helper-of"] === undefined;

// Every test runs on Docker and on Podman (through its Docker-compatible API).
describe.each(["docker", "podman"] as const)("%s: the next sandbox of a worktree", (runtime) => {
  let bench: SandboxHome;
  let wt: string;
  let events: EngineEvents;
  let n = 0;

  beforeAll(async () => {
    bench = await makeSandboxHome({
      branches: ["p0", "p1", "p2", "p3", "p4", "p5", "p6", "p7", "p8"],
      owner: OWNER,
      config: `agent: demo\nsandbox:\n  container:\n    runtime: ${runtime}\n`,
    });
  }, 320_000);

  afterAll(() => bench.cleanup());

  // Each test has a worktree of its own, and follows the engine's events for its sandboxes
  // (their network holders carry no worktree label).
  beforeEach(() => {
    wt = bench.repo.worktrees[`p${n++}`] as string;
    events = watchEngineEvents(runtime, `wm.worktree=${wt}`);
    return () => events.close();
  });

  const run = async (script: string, input?: string) => {
    const res = await runWm(["sandbox", "run", "--worktree", wt, "--", "sh", "-c", script], {
      env: bench.home.env,
      timeoutMs: 60_000,
      ...(input !== undefined ? { input } : {}),
    });
    const id = /^id=(sb-[0-9a-f]+)$/m.exec(res.stdout)?.[1];
    return { ...res, id };
  };

  /** The container the daemon created for the worktree's next run (started, at its gate). */
  const prepared = async (after: readonly EngineEvent[] = []) => {
    const created = await events.next(
      (e) => e.action === "create" && isSandbox(e) && !after.some((a) => a.id === e.id),
      "a prepared sandbox was created",
    );
    // Started: it waits at its gate, its mounts made.
    await events.next((e) => e.action === "start" && e.id === created.id, "it started");
    return created;
  };

  const exists = (id: string) => {
    try {
      execFileSync(runtime, ["inspect", id], { stdio: "ignore" });
      return true;
    } catch {
      return false;
    }
  };

  it("the same command again starts the container prepared when the last one ended", async () => {
    const first = await run(`${SCRIPT}exit 4`);
    expect(first.code).toBe(4);
    const ranFirst = await events.next(
      (e) => e.action === "create" && isSandbox(e),
      "the first sandbox",
    );
    const next = await prepared([ranFirst]);
    expect(next.attributes["wm.sandbox"]).not.toBe(first.id);

    const second = await run(`${SCRIPT}exit 4`);
    expect(second.code).toBe(4);
    // It ran in the prepared container: the sandbox is the prepared one, and so is the start.
    expect(second.id).toBe(next.attributes["wm.sandbox"]);
    const started = events.seen().filter((e) => e.action === "start" && isSandbox(e));
    expect(started.map((e) => e.id)).toEqual([ranFirst.id, next.id]);
    expect(exists(ranFirst.id)).toBe(false);
  });

  it("a claimed sandbox gets the client's stdin, including its end", async () => {
    const script = `${SCRIPT}cat; echo eof-seen`;
    await run(script, "first\n");
    const next = await prepared(events.seen().filter((e) => e.action === "create"));
    const second = await run(script, "line one\nline two\n");
    expect(second.id).toBe(next.attributes["wm.sandbox"]);
    expect(second.stdout).toBe(`id=${second.id}\nline one\nline two\neof-seen\n`);
    expect(second.code).toBe(0);
  });

  it("another command gets a sandbox of its own, and the prepared one is removed", async () => {
    await run(`${SCRIPT}true`);
    const next = await prepared(events.seen().filter((e) => e.action === "create"));

    const other = await run(`${SCRIPT}echo other`);
    expect(other.stdout).toContain("other\n");
    expect(other.id).toBeDefined();
    expect(other.id).not.toBe(next.attributes["wm.sandbox"]);
    await events.next(
      (e) => e.action === "destroy" && e.id === next.id,
      "the unused prepared sandbox was removed",
    );
  });

  it("after a prepared sandbox went unused, the next is made only once a run repeats", async () => {
    /** Whether the daemon logged sandbox `id` as started from a prepared one. */
    const fromPrepared = async (id: string | undefined) => {
      const started = (await fs.readFile(bench.home.logFile, "utf8"))
        .split("\n")
        .filter((l) => l.includes(`"sandbox":"${id}"`) && l.includes('"msg":"sandbox started"'));
      expect(started).toHaveLength(1);
      return JSON.parse(started[0] as string).prepared as boolean;
    };
    await run(`${SCRIPT}echo a`);
    const unused = await prepared(events.seen().filter((e) => e.action === "create"));
    const b = await run(`${SCRIPT}echo b`);
    await events.next(
      (e) => e.action === "destroy" && e.id === unused.id,
      "the unused one removed",
    );
    expect(await fromPrepared(b.id)).toBe(false);
    // Had b's end prepared the next, this run (the same as b) would have taken it.
    const again = await run(`${SCRIPT}echo b`);
    expect(await fromPrepared(again.id)).toBe(false);
    // It repeated: its end prepares the next, and the third run takes it.
    const next = await prepared(events.seen().filter((e) => e.action === "create"));
    const third = await run(`${SCRIPT}echo b`);
    expect(third.id).toBe(next.attributes["wm.sandbox"]);
    expect(await fromPrepared(third.id)).toBe(true);
  });

  it("a config changed since it was prepared is honoured: a fresh sandbox runs", async () => {
    const script = `${SCRIPT}echo "flavour=$WM_FLAVOUR"`;
    const first = await run(script);
    expect(first.stdout).toContain("flavour=\n");
    const next = await prepared(events.seen().filter((e) => e.action === "create"));
    const configFile = path.join(bench.home.configDir, "config.yaml");
    const config = await fs.readFile(configFile, "utf8");
    await fs.writeFile(configFile, `${config}  env:\n    WM_FLAVOUR: mint\n`);
    try {
      const second = await run(script);
      expect(second.stdout).toContain("flavour=mint\n");
      expect(second.id).not.toBe(next.attributes["wm.sandbox"]);
    } finally {
      await fs.writeFile(configFile, config);
    }
  });

  it("a mounted file replaced since it was prepared is seen: a fresh sandbox runs", async () => {
    const configFile = path.join(bench.home.configDir, "config.yaml");
    const config = await fs.readFile(configFile, "utf8");
    const notes = path.join(bench.home.root, "notes.txt");
    await fs.writeFile(notes, "old notes\n");
    await fs.writeFile(
      configFile,
      `${config}  extra_mounts:\n    - { host_path: ${notes}, guest_path: /opt/notes.txt }\n`,
    );
    try {
      const script = `${SCRIPT}cat /opt/notes.txt`;
      expect((await run(script)).stdout).toContain("old notes\n");
      const next = await prepared(events.seen().filter((e) => e.action === "create"));
      // Replaced as editors save: a new file renamed over the old one.
      await fs.writeFile(`${notes}.tmp`, "new notes\n");
      await fs.rename(`${notes}.tmp`, notes);
      const second = await run(script);
      expect(second.stdout).toContain("new notes\n");
      expect(second.id).not.toBe(next.attributes["wm.sandbox"]);
    } finally {
      await fs.writeFile(configFile, config);
    }
  });

  it("the worktree's branch moved on the host meanwhile: the prepared sandbox sees the new commit", async () => {
    const script = `${SCRIPT}git rev-parse HEAD`;
    await run(script);
    const next = await prepared(events.seen().filter((e) => e.action === "create"));
    await fs.writeFile(path.join(wt, "moved.txt"), "moved\n");
    gitOut(wt, "add", "moved.txt");
    gitOut(wt, "-c", "user.name=t", "-c", "user.email=t@e", "commit", "-qm", "moved");
    const head = gitOut(wt, "rev-parse", "HEAD");

    const second = await run(script);
    expect(second.id).toBe(next.attributes["wm.sandbox"]);
    expect(second.stdout).toContain(`${head}\n`);
  });

  it("a stopped daemon removes what it prepared", async () => {
    await run(`${SCRIPT}true`);
    const next = await prepared(events.seen().filter((e) => e.action === "create"));
    expect((await runWm(["daemon", "stop"], { env: bench.home.env })).code).toBe(0);
    await events.next((e) => e.action === "destroy" && e.id === next.id, "removed at stop");
  });

  it("a killed daemon's prepared sandbox is removed by the next daemon", async () => {
    await run(`${SCRIPT}true`);
    const next = await prepared(events.seen().filter((e) => e.action === "create"));
    expect(await killDaemon(bench.home)).toBeDefined();
    // The next daemon removes containers no record explains: Docker's at start, another
    // engine's before it first creates anything there (this run).
    expect((await run(`${SCRIPT}echo other`)).code).toBe(0);
    await events.next((e) => e.action === "destroy" && e.id === next.id, "swept by the next");
  });
});
