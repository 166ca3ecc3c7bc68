import { execFileSync } from "node:child_process";
import { promises as fs } from "node:fs";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import {
  makeSandboxHome,
  runWm,
  type SandboxHome,
  startSandboxClient,
  type TempHome,
  type TestRepo,
  waitForRunningSandbox,
} from "@wm/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { describeSandboxView } from "./sandbox-view.suite.ts";

const OWNER = { uid: 1000, gid: 1000 };

// Every test runs on Docker and on Podman (through its Docker-compatible API).
describe.each(["docker", "podman"] as const)("%s", (runtime) => {
  let home: TempHome;
  let repo: TestRepo;
  let wt: string;

  let bench: SandboxHome;
  beforeAll(async () => {
    bench = await makeSandboxHome({
      branches: ["feature-a", "feature-b"],
      owner: OWNER,
      config: `agent: demo\nsandbox:\n  container:\n    runtime: ${runtime}\n`,
    });
    home = bench.home;
    repo = bench.repo;
    wt = repo.worktrees["feature-a"] as string;
    await fs.mkdir(path.join(home.root, ".ssh"), { recursive: true });
    await fs.writeFile(path.join(home.root, ".ssh", "id_ed25519"), "PRIVATE KEY\n");
  }, 320_000);

  afterAll(() => bench.cleanup());

  const inSandbox = (script: string, opts: { input?: string; worktree?: string } = {}) =>
    runWm(["sandbox", "run", "--worktree", opts.worktree ?? wt, "--", "sh", "-c", script], {
      env: home.env,
      ...(opts.input !== undefined ? { input: opts.input } : {}),
      timeoutMs: 60_000,
    });

  describe("wm sandbox run without a TTY", () => {
    it("passes stdout, stderr and the exit code through", async () => {
      const res = await inSandbox("echo to-stdout; echo to-stderr >&2; exit 3");
      expect(res.stdout).toBe("to-stdout\n");
      expect(res.stderr).toBe("to-stderr\n");
      expect(res.code).toBe(3);
    });

    it("passes stdin, including its end", async () => {
      const res = await inSandbox("cat; echo eof-seen", { input: "line one\nline two\n" });
      expect(res.stdout).toBe("line one\nline two\neof-seen\n");
      expect(res.code).toBe(0);
    });

    it("removes the container when the command ends", async () => {
      const ran = (await inSandbox('echo "$WM_SANDBOX_ID"')).stdout.trim();
      expect(ran).toMatch(/^sb-/);
      const listed = await runWm(["sandbox", "list", "--json"], { env: home.env });
      expect(JSON.parse(listed.stdout).sandboxes).toEqual([]);
      const containers = execFileSync(runtime, ["ps", "-aq", "--filter", "label=wm.worktree"], {
        encoding: "utf8",
      });
      // What remains of the worktree is at most its next run, prepared and waiting at its gate.
      const ours = containers
        .split("\n")
        .filter(Boolean)
        .map((id) =>
          execFileSync(
            runtime,
            [
              "inspect",
              "-f",
              '{{index .Config.Labels "wm.worktree"}} {{index .Config.Labels "wm.sandbox"}} {{index .Config.Labels "wm.prepared"}}',
              id,
            ],
            { encoding: "utf8" },
          )
            .trim()
            .split(" "),
        )
        .filter(([worktree]) => worktree === wt);
      expect(ours.map(([, sandbox]) => sandbox)).not.toContain(ran);
      expect(ours.filter(([, , prepared]) => prepared !== "1")).toEqual([]);
    });
  });

  describeSandboxView(() => ({ home, repo, wt, owner: OWNER, timeoutMs: 60_000 }));

  describe("lifecycle", () => {
    it("a daemon killed during a running agent loses nothing: the agent keeps running and the client re-attaches", async () => {
      const marker = path.join(wt, "survived.txt");
      const go = path.join(wt, ".go-after-kill");
      // The agent finishes only once the next daemon has adopted it: output written while no
      // daemon is attached is not replayed, and the test must not race the restart.
      const client = startSandboxClient(
        home.env,
        wt,
        `until [ -e ${go} ]; do sleep 0.1; done; echo survived > survived.txt; echo finished; exit 7`,
      );
      const { containerId, id } = await waitForRunningSandbox(home.env);
      const pid = JSON.parse(await fs.readFile(home.registrationFile, "utf8")).pid as number;
      process.kill(pid, "SIGKILL");
      try {
        // The next daemon (started by the client or by this listing) adopted it; it re-attached.
        await waitForRunningSandbox(home.env, (s) => s.id === id && s.attached > 0);
      } catch (err) {
        const log = await fs.readFile(home.logFile, "utf8");
        throw new Error(
          `${(err as Error).message}\nclient: ${client.stderr()}\nlog: ${log.slice(-3000)}`,
        );
      } finally {
        await fs.writeFile(go, "");
      }
      expect(await client.closed).toBe(7);
      await fs.rm(go);
      expect(client.stdout()).toContain("finished");
      expect(await fs.readFile(marker, "utf8")).toBe("survived\n");
      const log = await fs.readFile(home.logFile, "utf8");
      expect(log).toContain("adopted running sandbox");
      expect(
        execFileSync(runtime, ["ps", "-aq", "--no-trunc", "--filter", `id=${containerId}`], {
          encoding: "utf8",
        }).trim(),
      ).toBe("");
    });

    it("`wm daemon restart` during a running agent: the restarted daemon is the restart's, and the client re-attaches to it", async () => {
      const client = startSandboxClient(home.env, wt, "sleep 4; echo after-restart; exit 3");
      await waitForRunningSandbox(home.env);
      const restarted = await runWm(["daemon", "restart", "--json"], {
        env: { ...home.env, WM_DAEMON_IDLE_TIMEOUT: "77" },
      });
      expect(restarted.code, restarted.stderr).toBe(0);
      const pid = JSON.parse(restarted.stdout).status.pid as number;
      expect(await client.closed).toBe(3);
      expect(client.stdout()).toContain("after-restart");
      const reg = JSON.parse(await fs.readFile(home.registrationFile, "utf8"));
      expect(reg.pid).toBe(pid);
      const environ = await fs.readFile(`/proc/${pid}/environ`, "utf8");
      expect(environ.split("\0")).toContain("WM_DAEMON_IDLE_TIMEOUT=77");
    });

    it("Ctrl-C (SIGINT) to a non-TTY client reaches the command inside", async () => {
      const client = startSandboxClient(
        home.env,
        wt,
        "trap 'echo got-int; exit 130' INT; echo ready; while :; do sleep 0.1; done",
      );
      while (!client.stdout().includes("ready")) await sleep(50);
      client.child.kill("SIGINT");
      const code = await client.closed;
      expect(client.stdout()).toContain("got-int");
      expect(code).toBe(130);
    });

    it("stop --all stops a running sandbox and its client exits", async () => {
      const client = startSandboxClient(home.env, wt, "sleep 300");
      const running = await waitForRunningSandbox(home.env, (s) => s.command.includes("sleep 300"));
      expect(running.name).toBe("feature-a");
      const stopped = await runWm(["sandbox", "stop", "--all"], { env: home.env });
      expect(stopped.code).toBe(0);
      expect(stopped.stdout).toContain("stopped feature-a");
      expect(await client.closed).toBe(143);
    });

    it("refuses a directory that is not a linked worktree, and names it", async () => {
      const res = await runWm(["sandbox", "run", "--worktree", home.root, "--", "true"], {
        env: home.env,
      });
      expect(res.code).toBe(2);
      expect(res.stderr).toContain(home.root);
    });
  });
});
