import { execFileSync } from "node:child_process";
import { promises as fs } from "node:fs";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import {
  gitOut,
  makeRepo,
  makeSandboxHome,
  runWm,
  type SandboxHome,
  startSandboxClient,
  type TempHome,
  type TestRepo,
  waitForRunningSandbox,
} from "@wm/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

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
      await inSandbox("true");
      const listed = await runWm(["sandbox", "list", "--json"], { env: home.env });
      expect(JSON.parse(listed.stdout).sandboxes).toEqual([]);
      const containers = execFileSync(runtime, ["ps", "-aq", "--filter", "label=wm.worktree"], {
        encoding: "utf8",
      });
      const ours = containers
        .split("\n")
        .filter(Boolean)
        .filter(
          (id) =>
            execFileSync(runtime, ["inspect", "-f", '{{index .Config.Labels "wm.worktree"}}', id], {
              encoding: "utf8",
            }).trim() === wt,
        );
      expect(ours).toEqual([]);
    });
  });

  describe("what a sandbox can see", () => {
    it("has its worktree and nothing else of the host", async () => {
      const other = repo.worktrees["feature-b"] as string;
      const res = await inSandbox(
        [
          `test -f ${wt}/README.md && echo worktree-ok`,
          `test -e ${home.root}/.ssh/id_ed25519 || echo no-host-ssh`,
          "test -e /root/.ssh || echo no-root-ssh",
          `test -e ${path.join(repo.main, "main-only.txt")} || echo no-main-worktree`,
          `test -e ${other} || echo no-other-worktree`,
          "test -e /var/run/docker.sock || test -e /run/docker.sock || echo no-docker-socket",
          `test -e ${home.socketPath} || echo no-host-api`,
          "test -e /run/podman/podman.sock || echo no-podman-socket",
          "ls /run/wm",
          "id -u; id -g",
          `pwd`,
        ].join("; "),
      );
      expect(res.code, res.stderr).toBe(0);
      const lines = res.stdout.split("\n");
      for (const want of [
        "worktree-ok",
        "no-host-ssh",
        "no-root-ssh",
        "no-main-worktree",
        "no-other-worktree",
        "no-docker-socket",
        "no-host-api",
        "no-podman-socket",
        "1000",
        wt,
      ]) {
        expect(lines).toContain(want);
      }
      expect(res.stdout).not.toContain("token");
    });

    it("creates files owned by the host user and commits that the host sees", async () => {
      const res = await inSandbox(
        "echo from-sandbox > made-inside.txt && git add made-inside.txt && git commit -q -m 'inside commit' && git log --oneline | head -1",
      );
      expect(res.code, res.stderr).toBe(0);
      const st = await fs.stat(path.join(wt, "made-inside.txt"));
      expect([st.uid, st.gid]).toEqual([OWNER.uid, OWNER.gid]);
      expect(gitOut(repo.main, "log", "--format=%s", "-1", "feature-a")).toBe("inside commit");
    });

    it("moves only its own branch: main and another worktree's branch stay where the host left them", async () => {
      const before = gitOut(repo.main, "rev-parse", "main", "feature-b");
      const res = await inSandbox(
        [
          "git commit -q --allow-empty -m mine",
          "git update-ref refs/heads/main HEAD",
          "git update-ref refs/heads/feature-b HEAD",
          "git branch scratch HEAD",
          "git rev-parse HEAD main",
        ].join(" && "),
      );
      expect(res.code, res.stderr).toBe(0);
      const [mine, insideMain] = res.stdout.trim().split("\n");
      expect(insideMain).toBe(mine);
      expect(gitOut(repo.main, "rev-parse", "main", "feature-b")).toBe(before);
      expect(gitOut(repo.main, "rev-parse", "feature-a")).toBe(mine);
      expect(gitOut(repo.main, "branch", "--list", "scratch")).toBe("");
    });

    it("cannot plant code that host git would run (control: the same payload fires when written on the host)", async () => {
      const common = path.join(repo.main, ".git");
      const marker = path.join(home.root, "pwned");
      const payload = `#!/bin/sh\ntouch ${marker}\n`;
      const res = await inSandbox(
        [
          `printf '${payload.replaceAll("\n", "\\n")}' > ${common}/hooks/post-checkout 2>/dev/null && echo hook-planted`,
          `git config --file ${common}/config core.fsmonitor ${common}/hooks/post-checkout 2>/dev/null && echo fsmonitor-planted`,
          `git config --file ${common}/config alias.st '!touch ${marker}' 2>/dev/null && echo alias-planted`,
          `echo '* filter=evil' > ${common}/info/attributes 2>/dev/null && echo attributes-planted`,
          `echo 'gitdir: /tmp' > .git 2>/dev/null && echo pointer-rewritten`,
          "echo attempts-done",
        ].join("; "),
      );
      expect(res.stdout).toBe("attempts-done\n");
      execFileSync("git", ["-C", repo.main, "-c", "safe.directory=*", "status", "--short"], {
        stdio: "ignore",
      });
      await expect(fs.stat(marker)).rejects.toThrow(/ENOENT/);
      // Control: the same fsmonitor written where host git reads it does run on `git status`.
      const control = path.join(home.root, "control-repo");
      await makeRepo(control, []);
      const hook = path.join(control, "fsmonitor.sh");
      await fs.writeFile(hook, payload, { mode: 0o755 });
      execFileSync("git", ["-C", path.join(control, "repo"), "config", "core.fsmonitor", hook]);
      execFileSync("git", ["-C", path.join(control, "repo"), "status", "--short"], {
        stdio: "ignore",
      });
      await fs.stat(marker);
      await fs.rm(marker);
    });

    it("runs with no capabilities and no-new-privileges", async () => {
      const res = await inSandbox("grep -E '^(CapEff|NoNewPrivs)' /proc/self/status");
      expect(res.stdout).toMatch(/CapEff:\s+0000000000000000/);
      expect(res.stdout).toMatch(/NoNewPrivs:\s+1/);
    });
  });

  describe("the shim inside a sandbox", () => {
    it("sets and reads the agent status through the daemon", async () => {
      const res = await inSandbox(
        "wm status set working && wm status && wm status set done && wm status --json",
      );
      expect(res.code, res.stderr).toBe(0);
      const [first, second] = res.stdout.trim().split("\n");
      expect(first).toBe("working");
      expect(JSON.parse(second as string)).toMatchObject({ status: "done", worktree: wt });
    });

    it("refuses host commands with a clear message", async () => {
      const res = await inSandbox("wm sandbox list; echo code=$?; wm daemon stop; echo code=$?");
      expect(res.stderr).toContain(
        "`wm sandbox` is a host command; it cannot run inside a sandbox",
      );
      expect(res.stdout).toBe("code=6\ncode=6\n");
    });

    it("the guest endpoint rejects host methods (control: its own methods work)", async () => {
      const call = (method: string) =>
        `/opt/wm/lib/ld-linux-x86-64.so.2 --library-path /opt/wm/lib /opt/wm/node -e '
          const http = require("http");
          const body = JSON.stringify({ jsonrpc: "2.0", id: 1, method: "${method}", params: {} });
          const req = http.request({ socketPath: "/run/wm/guest.sock", method: "POST", path: "/rpc", headers: { host: "localhost" } },
            (res) => { let t = ""; res.on("data", (c) => t += c); res.on("end", () => console.log(t)); });
          req.end(body);'`;
      const res = await inSandbox(
        `${call("daemon.shutdown")}; ${call("sandbox.list")}; ${call("status.get")}`,
      );
      const [shutdown, list, own] = res.stdout
        .trim()
        .split("\n")
        .map((l) => JSON.parse(l));
      expect(shutdown.error.code).toBe(-32601);
      expect(list.error.code).toBe(-32601);
      expect(own.result.worktree).toBe(wt);
      const status = await runWm(["daemon", "status"], { env: home.env });
      expect(status.code).toBe(0);
    });
  });

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
