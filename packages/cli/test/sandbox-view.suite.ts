import { execFileSync } from "node:child_process";
import { promises as fs } from "node:fs";
import path from "node:path";
import { gitOut, makeRepo, runWm, type TempHome, type TestRepo } from "@wm/testing";
import { describe, expect, it } from "vitest";

/** What the shared cases need from a test file's sandbox bench. */
export interface ViewBench {
  home: TempHome;
  repo: TestRepo;
  /** The worktree the sandboxes run in (its repository's `feature-b` is another worktree). */
  wt: string;
  owner: { uid: number; gid: number };
  /** For one `wm sandbox run` (a VM's first may boot it). */
  timeoutMs: number;
}

/**
 * What a sandbox can see and do, the same on every backend (containers on Docker and Podman,
 * sessions in a VM): its worktree and nothing else of the host, files owned by the host user,
 * commits the host sees, only its own branch moved, no code planted for host git (each with its
 * control), no capabilities, and the in-sandbox `wm` through its own endpoint only. The bench
 * writes `~/.ssh/id_ed25519` in the home before these run.
 */
export function describeSandboxView(get: () => ViewBench): void {
  const inSandbox = (script: string, opts: { input?: string; worktree?: string } = {}) => {
    const { home, wt, timeoutMs } = get();
    return runWm(["sandbox", "run", "--worktree", opts.worktree ?? wt, "--", "sh", "-c", script], {
      env: home.env,
      ...(opts.input !== undefined ? { input: opts.input } : {}),
      timeoutMs,
    });
  };

  describe("what a sandbox can see", () => {
    it("has its worktree and nothing else of the host", async () => {
      const { home, repo, wt } = get();
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
      const { repo, wt, owner } = get();
      const res = await inSandbox(
        "echo from-sandbox > made-inside.txt && git add made-inside.txt && git commit -q -m 'inside commit' && git log --oneline | head -1",
      );
      expect(res.code, res.stderr).toBe(0);
      const st = await fs.stat(path.join(wt, "made-inside.txt"));
      expect([st.uid, st.gid]).toEqual([owner.uid, owner.gid]);
      expect(gitOut(repo.main, "log", "--format=%s", "-1", "feature-a")).toBe("inside commit");
    });

    it("moves only its own branch: main and another worktree's branch stay where the host left them", async () => {
      const { repo } = get();
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
      const { home, repo } = get();
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
      const { wt } = get();
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
      const { home, wt } = get();
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
}
