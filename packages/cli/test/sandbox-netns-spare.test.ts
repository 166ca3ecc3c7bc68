import { createHash } from "node:crypto";
import {
  killDaemon,
  makeSandboxHome,
  runCommand,
  runWm,
  type SandboxHome,
  startSandboxClient,
  waitForLogLine,
  waitForRunningSandbox,
} from "@wm/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventually } from "./worktree-fixture.ts";

const PODMAN = process.env.WM_PODMAN_SOCKET ?? "/run/podman/podman.sock";
const HELPER_OF = "wm.netns.helper-of";
const HELPER = "wm.netns.helper";

// Under `network.policy: allow` a sandbox joins the network namespace of a holder that routes
// cloud metadata nowhere; the daemon starts the next holder before it is asked for one.
describe.each(["docker", "podman"] as const)("the network holder made ahead (%s)", (runtime) => {
  let bench: SandboxHome;
  let wt: string;
  const engine = runtime === "podman" ? ["-H", `unix://${PODMAN}`] : [];
  const docker = (...args: string[]) => runCommand("docker", [...engine, ...args]);
  const homeId = () => createHash("sha256").update(bench.home.stateDir).digest("hex").slice(0, 12);

  /** Containers of this bench's daemon with their labels. */
  async function ours(): Promise<Array<{ id: string; labels: Record<string, string> }>> {
    const ids = (
      await docker("ps", "-aq", "--no-trunc", "--filter", `label=wm.home=${homeId()}`)
    ).stdout
      .split("\n")
      .filter(Boolean);
    if (ids.length === 0) return [];
    const inspected = await docker("inspect", ...ids);
    return (
      JSON.parse(inspected.stdout) as Array<{
        Id: string;
        Config: { Labels: Record<string, string> };
      }>
    ).map((c) => ({ id: c.Id, labels: c.Config.Labels ?? {} }));
  }
  /** Holders made ahead that no sandbox has joined yet. */
  const spares = async () => {
    const all = await ours();
    const joined = new Set(all.map((c) => c.labels[HELPER]));
    return all.filter((c) => c.labels[HELPER_OF] === "" && !joined.has(c.id));
  };
  const oneSpare = async () =>
    (await eventually(
      async () => {
        const found = await spares();
        return found.length === 1 ? found[0]?.id : undefined;
      },
      "the daemon's spare network holder",
      60_000,
    )) as string;

  const inSandbox = (script: string) =>
    runWm(["sandbox", "run", "--worktree", wt, "--", "sh", "-c", script], {
      env: bench.home.env,
      timeoutMs: 60_000,
    });

  beforeAll(async () => {
    bench = await makeSandboxHome({
      branches: ["ahead"],
      config: `agent: demo\nsandbox:\n  container:\n    runtime: ${runtime}\n`,
      // The holders are what this follows: a sandbox prepared for the worktree's next run
      // would take the spare as soon as a run ends (sandbox-prepared.test.ts covers that).
      env: { WM_SANDBOX_PREPARE: "0" },
    });
    wt = bench.repo.worktrees.ahead as string;
  }, 320_000);

  afterAll(() => bench?.cleanup());

  it("the next sandbox joins the holder made ahead of it, and finds metadata routed nowhere from its first instruction", async () => {
    const first = await inSandbox("/opt/wm/bin/ip route show");
    expect(first.code).toBe(0);
    expect(first.stdout).toContain("blackhole 169.254.0.0/16");
    const spare = await oneSpare();

    const client = startSandboxClient(
      bench.home.env,
      wt,
      "/opt/wm/bin/ip route show > /tmp/routes-at-start; exec sleep 600",
    );
    try {
      const box = await waitForRunningSandbox(bench.home.env, () => true, 60_000);
      const labels = (await ours()).find((c) => c.id === box.containerId)?.labels ?? {};
      expect(labels[HELPER]).toBe(spare);
      const seen = await eventually(
        async () => (await docker("exec", box.containerId, "cat", "/tmp/routes-at-start")).stdout,
        "the sandbox's first instruction's output",
      );
      expect(seen).toContain("blackhole 169.254.0.0/16");
      // The control: without the holder, the same image routes the address out.
      const shim = await docker(
        "inspect",
        "-f",
        '{{range .Mounts}}{{if eq .Destination "/opt/wm" "/opt/wm/node"}}-v {{.Source}}:{{.Destination}}:ro {{end}}{{end}}',
        box.containerId,
      );
      const plain = await docker(
        "run",
        "--rm",
        ...shim.stdout.trim().split(/\s+/),
        "wm-sandbox:demo",
        "/opt/wm/bin/ip",
        "route",
        "get",
        "169.254.169.254",
      );
      expect(plain.stdout).toContain(" via ");
      // And another is on its way for the sandbox after this one.
      await eventually(
        async () => (await spares()).some((c) => c.id !== spare),
        "a new spare behind the claimed one",
        60_000,
      );
    } finally {
      await runWm(["sandbox", "stop", "--all"], { env: bench.home.env });
      await client.closed;
    }
  });

  it("prune leaves the daemon's spare alone", async () => {
    const spare = await oneSpare();
    const pruned = await runWm(["sandbox", "prune"], { env: bench.home.env });
    expect(pruned.code).toBe(0);
    expect((await spares()).map((c) => c.id)).toEqual([spare]);
  });

  it("a spare removed behind the daemon's back: the next sandbox makes its own holder", async () => {
    const spare = await oneSpare();
    expect((await docker("rm", "-f", spare)).code).toBe(0);
    const res = await inSandbox("/opt/wm/bin/ip route show");
    expect(res.code).toBe(0);
    expect(res.stdout).toContain("blackhole 169.254.0.0/16");
  });

  it("a spare left by a killed daemon is swept by the next; a stopped daemon removes its own", async () => {
    const spare = await oneSpare();
    expect(await killDaemon(bench.home)).toBeDefined();
    // The next daemon sweeps Docker at start, and every engine it has used at prune.
    expect((await runWm(["sandbox", "list"], { env: bench.home.env })).code).toBe(0);
    if (runtime === "docker") expect((await ours()).map((c) => c.id)).not.toContain(spare);
    expect((await inSandbox("true")).code).toBe(0);
    expect((await runWm(["sandbox", "prune"], { env: bench.home.env })).code).toBe(0);
    expect((await ours()).map((c) => c.id)).not.toContain(spare);

    await oneSpare();
    const status = await runWm(["daemon", "status", "--json"], { env: bench.home.env });
    const pid = JSON.parse(status.stdout).pid as number;
    expect((await runWm(["daemon", "stop"], { env: bench.home.env })).code).toBe(0);
    // The socket closes first; the stopping daemon then removes its spare, and says it stopped.
    await waitForLogLine(bench.home.logFile, (l) => l.msg === "daemon stopped" && l.pid === pid);
    expect(await ours()).toEqual([]);
  });
});
