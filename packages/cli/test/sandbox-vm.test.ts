import { promises as fs } from "node:fs";
import os from "node:os";
import path from "node:path";
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
import {
  failInCiWithoutVmTools,
  missingVmTools,
} from "../../daemon/src/backends/qemu/vm-tools.test-support.ts";
import { describeSandboxView } from "./sandbox-view.suite.ts";

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
        "  host_commands: [uname]",
        "  lima:",
        "    cpus: 2",
        "    memory: 1GiB",
        "    disk: 8GiB",
        '    provision: "id -u > /home/agent/provisioned-by; ls /mnt/wm > /home/agent/exports-at-provision; tail -n +3 /proc/net/dev | cut -d: -f1 | tr -d \\" \\" > /home/agent/net-at-provision"',
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
      "id -u; cat /home/agent/provisioned-by; /bin/uname -r; echo kept > /home/agent/kept; pwd",
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

  describeSandboxView(() => ({ home, repo, wt, owner: OWNER, timeoutMs: 400_000 }));

  it("sees none of the VM's exports or other sandboxes' endpoints, and cannot repoint its worktree (control: the VM has them)", async () => {
    const admin = path.join(repo.main, ".git", "worktrees", path.basename(wt));
    const res = await inSandbox(
      [
        "cat /home/agent/exports-at-provision",
        "echo ---",
        "ls -A /mnt/wm /run/wm-ep",
        "echo ---",
        `echo /tmp > ${admin}/commondir 2>/dev/null && echo commondir-written`,
        "umount /run/wm 2>/dev/null && echo unmounted",
        "echo done",
      ].join("; "),
    );
    const [atProvision = "", inside = "", attempts = ""] = res.stdout.split("---\n");
    // Control: the exports are mounted in the VM (the provisioning script, run in the VM's own
    // view, lists them).
    expect(atProvision.trim().split("\n").length).toBeGreaterThanOrEqual(4);
    expect(
      inside
        .trim()
        .split("\n")
        .filter((l) => l && !l.endsWith(":")),
    ).toEqual([]);
    expect(attempts).toBe("done\n");
  }, 400_000);

  it("cannot reach the guest agent's link port (control: the VM's own network has the card that reaches it)", async () => {
    const res = await inSandbox(
      [
        "cat /home/agent/net-at-provision",
        "echo ---",
        "tail -n +3 /proc/net/dev | cut -d: -f1 | tr -d ' '",
        "echo ---",
        "bash -c 'exec 3<>/dev/tcp/10.0.2.100/7070' 2>/dev/null && echo link-reached || echo link-unreachable",
        "echo ---",
        // Its loopback is up: a port nobody listens on refuses, it is not unreachable.
        "bash -c 'exec 3<>/dev/tcp/127.0.0.1/9' 2>&1 | grep -o 'Connection refused'",
      ].join("; "),
    );
    const [atProvision = "", inside = "", attempt = "", loopback = ""] = res.stdout.split("---\n");
    expect(atProvision.split("\n")).toContain("eth0");
    expect(inside.trim()).toBe("lo");
    expect(attempt.trim()).toBe("link-unreachable");
    expect(loopback).toContain("Connection refused");
  }, 400_000);

  it("runs a host command (sandbox.host_commands) on the host through the VM's endpoint", async () => {
    const res = await inSandbox("command -v uname; uname -r; /bin/uname -r");
    expect(res.code, res.stderr).toBe(0);
    const [wrapper, viaHost, guest] = res.stdout.trim().split("\n");
    expect(wrapper).toBe("/run/wm/host-bin/uname");
    expect(viaHost).toBe(os.release());
    expect(guest).not.toBe(os.release());
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

describe.runIf(missingVmTools.length === 0)("VM provisioning and idle stop", () => {
  let bench: SandboxHome;
  let configFile: string;
  const config = (provision: string | undefined) =>
    [
      "agent: demo",
      "sandbox:",
      "  backend: vm",
      "  lima:",
      "    cpus: 2",
      "    memory: 1GiB",
      "    disk: 8GiB",
      ...(provision ? [`    provision: ${JSON.stringify(provision)}`] : []),
      "",
    ].join("\n");

  beforeAll(async () => {
    bench = await makeSandboxHome({
      branches: ["prov"],
      config: config("echo provisioning-said-hello; exit 3"),
      env: { XDG_CACHE_HOME: path.join(os.homedir(), ".cache"), WM_VM_IDLE_SECONDS: "2" },
    });
    configFile = path.join(bench.home.configDir, "config.yaml");
  }, 320_000);

  afterAll(async () => {
    const listed = await runWm(["sandbox", "list", "--json"], { env: bench.home.env });
    const vms = listed.code === 0 ? (JSON.parse(listed.stdout).vms as ListedVm[]) : [];
    if (vms.length > 0)
      await runWm(["sandbox", "stop", "--vm", "--rm", ...vms.map((v) => v.name)], {
        env: bench.home.env,
        timeoutMs: 120_000,
      });
    await bench?.cleanup();
  }, 180_000);

  it("a failing provision script is a clear error with its output, the VM is kept, the next start provisions again, and an idle VM stops (also one adopted after a kill -9)", async () => {
    const { env } = bench.home;
    const wt = bench.repo.worktrees.prov as string;
    const run = () =>
      runWm(["sandbox", "run", "--worktree", wt, "--", "cat", "/home/agent/fixed"], {
        env,
        timeoutMs: 400_000,
      });
    const failed = await run();
    expect(failed.code).not.toBe(0);
    expect(failed.stderr).toContain("sandbox.lima.provision script exited with 3");
    expect(failed.stderr).toContain("provisioning-said-hello");
    expect(failed.stderr).toContain("provision.log");
    const listVms = async () =>
      // A daemon that has just adopted a VM answers once the guest agent is back: slow under TCG.
      JSON.parse((await runWm(["sandbox", "list", "--json"], { env, timeoutMs: 180_000 })).stdout)
        .vms as ListedVm[];
    expect((await listVms())[0]?.state).toBe("running"); // kept for inspection

    await fs.writeFile(configFile, config("echo fixed > /home/agent/fixed"));
    const ok = await run();
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout).toBe("fixed\n");

    // No sandbox left in it: after WM_VM_IDLE_SECONDS the daemon stops it (its disk stays).
    for (;;) {
      const [vm] = await listVms();
      if (vm?.state === "stopped") break;
      await new Promise((r) => setTimeout(r, 250));
    }
    expect((await listVms())[0]?.diskBytes).toBeGreaterThan(0);

    // A VM whose daemon died (a sandbox running in it) is adopted by the next daemon, idle,
    // and stopped the same way.
    const client = startSandboxClient(env, wt, "sleep 600");
    await waitForRunningSandbox(env, (s) => s.worktree === wt, 400_000);
    expect((await listVms())[0]?.state).toBe("running");
    const daemonPid = Number(
      (await fs.readFile(bench.home.registrationFile, "utf8")).match(/"pid":\s*(\d+)/)?.[1],
    );
    process.kill(daemonPid, "SIGKILL");
    for (;;) {
      const [vm] = await listVms(); // starts the next daemon, which adopts the VM
      if (vm?.state === "stopped") break;
      await new Promise((r) => setTimeout(r, 250));
    }
    client.child.kill("SIGKILL");
  }, 900_000);
});
