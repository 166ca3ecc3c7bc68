import { promises as fs } from "node:fs";
import os from "node:os";
import path from "node:path";
import {
  gitOut,
  makeSandboxHome,
  runWm,
  type SandboxHome,
  startSandboxClient,
  type TempHome,
  type TestRepo,
  waitForRunningSandbox,
} from "@wm/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  failInCiWithoutVmTools,
  missingVmTools,
} from "../../daemon/src/backends/qemu/vm-tools.test-support.ts";

const OWNER = { uid: 1000, gid: 1000 };

failInCiWithoutVmTools();

interface ListedVm {
  name: string;
  state: string;
  sessions: number;
  diskBytes: number;
  uptimeSeconds: number | null;
  scope: string;
}

/**
 * The VM backend end to end: a real QEMU VM (KVM when it works, else software emulation)
 * made from the offline disk, the real daemon, git and the shim in the guest.
 */
describe.runIf(missingVmTools.length === 0)("sandbox.backend: lima (QEMU VM)", () => {
  let home: TempHome;
  let repo: TestRepo;
  let wt: string;
  let bench: SandboxHome;

  beforeAll(async () => {
    bench = await makeSandboxHome({
      branches: ["feature-a", "feature-b"],
      owner: OWNER,
      config: [
        "agent: demo",
        "sandbox:",
        "  backend: lima",
        "  lima:",
        "    cpus: 2",
        "    memory: 1GiB",
        "    disk: 8GiB",
        '    provision: "id -u > /home/agent/provisioned-by"',
        "",
      ].join("\n"),
      // The offline disk is cached where scripts/build-base-image.sh put the Debian tarball.
      env: { XDG_CACHE_HOME: path.join(os.homedir(), ".cache"), WM_VM_IDLE_SECONDS: "0" },
    });
    home = bench.home;
    repo = bench.repo;
    wt = repo.worktrees["feature-a"] as string;
    await fs.mkdir(path.join(home.root, ".ssh"), { recursive: true });
    await fs.writeFile(path.join(home.root, ".ssh", "id_ed25519"), "PRIVATE KEY\n");
  }, 320_000);

  afterAll(async () => {
    const listed = await runWm(["sandbox", "list", "--json"], { env: home.env });
    const vms = listed.code === 0 ? (JSON.parse(listed.stdout).vms as ListedVm[]) : [];
    if (vms.length > 0)
      await runWm(["sandbox", "stop", "--vm", "--rm", ...vms.map((v) => v.name)], {
        env: home.env,
        timeoutMs: 120_000,
      });
    await bench?.cleanup();
  }, 180_000);

  const inSandbox = (script: string, worktree = wt) =>
    runWm(["sandbox", "run", "--worktree", worktree, "--", "sh", "-c", script], {
      env: home.env,
      timeoutMs: 400_000,
    });

  async function vms(): Promise<ListedVm[]> {
    const res = await runWm(["sandbox", "list", "--json"], { env: home.env });
    expect(res.code, res.stderr).toBe(0);
    return JSON.parse(res.stdout).vms as ListedVm[];
  }

  it("boots the project's VM, provisions it once and runs the agent there as the worktree's owner", async () => {
    const res = await inSandbox(
      "id -u; cat /home/agent/provisioned-by; uname -r; echo kept > /home/agent/kept; pwd",
    );
    expect(res.code, res.stderr).toBe(0);
    const [uid, provisionedBy, kernel, cwd] = res.stdout.trim().split("\n");
    expect(uid).toBe("1000");
    expect(provisionedBy).toBe("1000");
    expect(kernel).not.toBe(os.release()); // the guest's own kernel
    expect(cwd).toBe(wt);
    const [vm] = await vms();
    expect(vm).toMatchObject({ state: "running", scope: path.join(repo.main, ".git") });
    expect(vm?.diskBytes).toBeGreaterThan(0);
  }, 600_000);

  it("has its worktree and nothing else of the host", async () => {
    const other = repo.worktrees["feature-b"] as string;
    const res = await inSandbox(
      [
        `test -f ${wt}/README.md && echo worktree-ok`,
        `test -e ${home.root}/.ssh/id_ed25519 || echo no-host-ssh`,
        `test -e ${path.join(repo.main, "main-only.txt")} || echo no-main-worktree`,
        `test -e ${other} || echo no-other-worktree`,
        "test -e /var/run/docker.sock || test -e /run/docker.sock || echo no-docker-socket",
        `test -e ${home.socketPath} || echo no-host-api`,
        "ls /mnt/wm 2>/dev/null | grep -q . || echo no-exports",
        "ls /run/wm-ep 2>/dev/null | grep -q . || echo no-other-endpoints",
      ].join("; "),
    );
    expect(res.code, res.stderr).toBe(0);
    expect(res.stdout.split("\n"), res.stdout).toEqual(
      expect.arrayContaining([
        "worktree-ok",
        "no-host-ssh",
        "no-main-worktree",
        "no-other-worktree",
        "no-docker-socket",
        "no-host-api",
        "no-exports",
        "no-other-endpoints",
      ]),
    );
  }, 400_000);

  it("creates files owned by the host user and commits that the host sees", async () => {
    const res = await inSandbox(
      "echo from-vm > made-in-vm.txt && git add made-in-vm.txt && git commit -q -m 'vm commit' && git log --oneline | head -1",
    );
    expect(res.code, res.stderr).toBe(0);
    const st = await fs.stat(path.join(wt, "made-in-vm.txt"));
    expect([st.uid, st.gid]).toEqual([OWNER.uid, OWNER.gid]);
    expect(gitOut(repo.main, "log", "--format=%s", "-1", "feature-a")).toBe("vm commit");
  }, 400_000);

  it("cannot write the repository's config, hooks or the worktree's pointers (control: its own files it can)", async () => {
    const common = path.join(repo.main, ".git");
    const admin = path.join(common, "worktrees", path.basename(wt));
    const res = await inSandbox(
      [
        `echo x >> ${common}/config 2>/dev/null && echo config-written`,
        `echo x > ${common}/hooks/post-checkout 2>/dev/null && echo hook-planted`,
        `echo /tmp > ${admin}/commondir 2>/dev/null && echo commondir-written`,
        `echo 'gitdir: /tmp' > .git 2>/dev/null && echo pointer-rewritten`,
        "echo mine > mine.txt && echo own-file-written",
        "grep -E '^CapEff' /proc/self/status",
      ].join("; "),
    );
    expect(res.stdout).not.toMatch(
      /config-written|hook-planted|commondir-written|pointer-rewritten/,
    );
    expect(res.stdout).toContain("own-file-written");
    expect(res.stdout).toMatch(/CapEff:\s+0000000000000000/);
  }, 400_000);

  it("reports the agent's status to the host through the guest agent", async () => {
    const client = startSandboxClient(home.env, wt, "wm status set waiting && sleep 600");
    const running = await waitForRunningSandbox(home.env, (s) => s.worktree === wt, 400_000);
    for (;;) {
      const res = await runWm(["sandbox", "list", "--json"], { env: home.env });
      const s = (JSON.parse(res.stdout).sandboxes as { id: string; agentStatus: string }[]).find(
        (x) => x.id === running.id,
      );
      if (s?.agentStatus === "waiting") break;
      await new Promise((r) => setTimeout(r, 200));
    }
    expect((await vms())[0]?.sessions).toBe(1);
    const stopped = await runWm(["sandbox", "stop", running.name], { env: home.env });
    expect(stopped.code, stopped.stderr).toBe(0);
    expect(await client.closed).not.toBe(0);
  }, 600_000);

  it("keeps the VM across a daemon kill -9 (re-adopted), and its disk across a stop and start", async () => {
    const [vm] = await vms();
    const name = vm?.name as string;
    const pidFile = path.join(home.stateDir, "vms", name, "qemu.pid");
    const qemuPid = (await fs.readFile(pidFile, "utf8")).trim();
    const daemonPid = Number(
      (await fs.readFile(home.registrationFile, "utf8")).match(/"pid":\s*(\d+)/)?.[1],
    );
    process.kill(daemonPid, "SIGKILL");
    const after = await inSandbox("cat /home/agent/kept");
    expect(after.code, after.stderr).toBe(0);
    expect(after.stdout.trim()).toBe("kept");
    expect((await fs.readFile(pidFile, "utf8")).trim()).toBe(qemuPid); // the same QEMU

    const stop = await runWm(["sandbox", "stop", "--vm", name], {
      env: home.env,
      timeoutMs: 120_000,
    });
    expect(stop.code, stop.stderr).toBe(0);
    expect((await vms())[0]).toMatchObject({ name, state: "stopped", uptimeSeconds: null });
    const again = await inSandbox("cat /home/agent/kept; cat /home/agent/provisioned-by");
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout.trim().split("\n")).toEqual(["kept", "1000"]);
    expect((await fs.readFile(pidFile, "utf8")).trim()).not.toBe(qemuPid);
  }, 900_000);
});
