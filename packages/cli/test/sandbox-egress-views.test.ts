import { promises as fs } from "node:fs";
import path from "node:path";
import {
  makeSandboxHome,
  runWm,
  type SandboxClient,
  type SandboxHome,
  startSandboxClient,
  waitForRunningSandbox,
} from "@wm/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventually } from "./worktree-fixture.ts";

// What `wm sandbox list`, `wm status` and `wm dashboard` show of a sandbox's egress: one
// sandbox under network.policy: deny beside one started under policy: allow.

const ALLOW = "agent: demo\n";
const DENY = [
  "agent: demo",
  "sandbox:",
  "  network:",
  "    policy: deny",
  "    allowed_domains: [example.invalid]",
  "",
].join("\n");
/** Made by the test when the deny sandbox should try an unlisted host. */
const GO = ".go-denied";

let bench: SandboxHome;
let denyWt: string;
let openWt: string;
let denyName: string;
let openName: string;
const clients: SandboxClient[] = [];

const wm = (args: readonly string[]) =>
  runWm(args, { env: bench.home.env, cwd: bench.repo.main, timeoutMs: 30_000 });

/** The text line of `wm sandbox list` (or `wm status`) that names `name`. */
async function lineOf(args: readonly string[], name: string): Promise<string> {
  const res = await wm(args);
  expect(res.code, res.stderr).toBe(0);
  return res.stdout.split("\n").find((l) => l.split(/\s+/).includes(name)) ?? "";
}

beforeAll(async () => {
  bench = await makeSandboxHome({ branches: ["net-deny", "net-open"], config: ALLOW });
  denyWt = bench.repo.worktrees["net-deny"] as string;
  openWt = bench.repo.worktrees["net-open"] as string;
  const configFile = path.join(bench.home.configDir, "config.yaml");
  // `policy` applies to sandboxes started after it is set: one of each.
  clients.push(startSandboxClient(bench.home.env, openWt, "exec sleep 600"));
  openName = (await waitForRunningSandbox(bench.home.env, (s) => s.worktree === openWt, 60_000))
    .name;
  await fs.writeFile(configFile, DENY);
  clients.push(
    startSandboxClient(
      bench.home.env,
      denyWt,
      `until [ -e ${GO} ]; do sleep 0.1; done; curl -s -o /dev/null -w 'curl=%{http_code}\\n' http://denied.invalid/; exec sleep 600`,
    ),
  );
  denyName = (await waitForRunningSandbox(bench.home.env, (s) => s.worktree === denyWt, 60_000))
    .name;
}, 320_000);

afterAll(async () => {
  for (const c of clients) c.child.kill("SIGTERM");
  await bench?.cleanup();
});

describe("the egress of a sandbox in wm's views", () => {
  it("before any denial: wm sandbox list says deny and open, wm status shows no count", async () => {
    expect(await lineOf(["sandbox", "list"], openName)).toMatch(/\sdocker\s+open\s/);
    expect(await lineOf(["sandbox", "list"], denyName)).toMatch(/\sdocker\s+deny\s/);
    const status = await wm(["status"]);
    expect(status.code, status.stderr).toBe(0);
    expect(status.stdout).not.toContain("denied");
  });

  it("after a refused request the deny sandbox's count shows in sandbox list, status and dashboard; the open one shows none", async () => {
    await fs.writeFile(path.join(denyWt, GO), "");
    const client = clients[1] as SandboxClient;
    await eventually(
      () => client.stdout().includes("curl=403"),
      "the proxy's refusal",
      30_000,
    ).catch((err: Error) => {
      throw new Error(`${err.message}\nstdout: ${client.stdout()}\nstderr: ${client.stderr()}`);
    });

    expect(await lineOf(["sandbox", "list"], denyName)).toMatch(/\sdocker\s+deny \(1 denied\)\s/);
    expect(await lineOf(["sandbox", "list"], openName)).toMatch(/\sdocker\s+open\s/);
    const listed = await wm(["sandbox", "list", "--json"]);
    const egress = Object.fromEntries(
      (JSON.parse(listed.stdout).sandboxes as { name: string; egress: unknown }[]).map((s) => [
        s.name,
        s.egress,
      ]),
    );
    expect(egress[denyName]).toEqual({ allowed: 0, denied: 1 });
    expect(egress[openName]).toBeNull();

    expect(await lineOf(["status"], path.basename(denyWt))).toMatch(/net: 1 denied$/);
    expect(await lineOf(["status"], path.basename(openWt))).not.toContain("denied");

    const dash = await runWm(["dashboard", "--once"], {
      env: { ...bench.home.env, COLUMNS: "160" },
      cwd: bench.repo.main,
    });
    expect(dash.code, dash.stderr).toBe(0);
    const row = (handle: string) =>
      dash.stdout.split("\n").find((l) => l.split(/\s+/).includes(handle)) ?? "";
    expect(row(path.basename(denyWt))).toMatch(/\srunning, 1 denied\s/);
    expect(row(path.basename(openWt))).toMatch(/\srunning\s/);
    expect(row(path.basename(openWt))).not.toContain("denied");
    const doc = JSON.parse((await wm(["dashboard", "--once", "--json"])).stdout) as {
      worktrees: { path: string; egress: unknown }[];
    };
    expect(doc.worktrees.find((w) => w.path === denyWt)?.egress).toEqual({ allowed: 0, denied: 1 });
    expect(doc.worktrees.find((w) => w.path === openWt)?.egress).toBeNull();
  }, 60_000);
});
