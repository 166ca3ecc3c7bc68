import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { promises as fs } from "node:fs";
import path from "node:path";
import {
  killDaemon,
  makeSandboxHome,
  runWm,
  type SandboxHome,
  startSandboxClient,
  type TempHome,
  waitForRunningSandbox,
} from "@wm/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

let home: TempHome;
let wt: string;

let bench: SandboxHome;
beforeAll(async () => {
  bench = await makeSandboxHome({ branches: ["rec"] });
  home = bench.home;
  wt = bench.repo.worktrees.rec as string;
}, 320_000);

afterAll(() => bench.cleanup());

const homeId = () => createHash("sha256").update(home.stateDir).digest("hex").slice(0, 12);

function containerExists(id: string): boolean {
  return (
    execFileSync("docker", ["ps", "-aq", "--no-trunc", "--filter", `id=${id}`], {
      encoding: "utf8",
    }).trim() !== ""
  );
}

describe("reconciling with the engine", () => {
  it("a damaged record never costs a running agent: moved aside, rebuilt from the container's labels", async () => {
    const client = startSandboxClient(home.env, wt, "sleep 600");
    const first = await waitForRunningSandbox(home.env);
    client.child.kill("SIGKILL");
    const dir = path.join(home.stateDir, "sandboxes");
    const recordFile = path.join(dir, `${first.id}.json`);
    const intact = await fs.readFile(recordFile, "utf8");
    const elsewhere = path.join(home.root, "elsewhere.json");
    await fs.writeFile(elsewhere, intact);
    const damages: Record<string, () => Promise<void>> = {
      garbage: () => fs.writeFile(recordFile, "\u0000{not json"),
      truncated: () => fs.writeFile(recordFile, intact.slice(0, intact.length / 2)),
      "another sandbox's id": () =>
        fs.writeFile(recordFile, intact.replace(first.id, "sb-000000000000")),
      "a symlink (never followed, even to a valid record)": () => fs.symlink(elsewhere, recordFile),
    };
    for (const [damage, apply] of Object.entries(damages)) {
      expect(await killDaemon(home), damage).toBeDefined();
      await fs.rm(recordFile);
      await apply();
      const again = await waitForRunningSandbox(home.env, (s) => s.id === first.id);
      expect(again.containerId, damage).toBe(first.containerId);
      expect(containerExists(first.containerId), damage).toBe(true);
      const st = await fs.lstat(recordFile);
      expect(st.isFile(), damage).toBe(true);
      const aside = (await fs.readdir(dir)).filter((n) =>
        n.startsWith(`${first.id}.json.unreadable-`),
      );
      expect(aside.length, damage).toBeGreaterThan(0);
      for (const n of aside) await fs.rm(path.join(dir, n));
    }
    expect(await fs.readFile(elsewhere, "utf8")).toBe(intact);
    const stopped = await runWm(["sandbox", "stop", first.id], { env: home.env });
    expect(stopped.code, stopped.stderr).toBe(0);
    expect(containerExists(first.containerId)).toBe(false);
  }, 120_000);

  it("a sandbox that ended while no daemon ran is recorded as exited, its container removed", async () => {
    const go = path.join(wt, ".go");
    const client = startSandboxClient(
      home.env,
      wt,
      `while [ ! -e ${go} ]; do sleep 0.1; done; exit 9`,
    );
    const { containerId } = await waitForRunningSandbox(home.env);
    client.child.kill("SIGKILL");
    expect(await killDaemon(home)).toBeDefined();
    await fs.writeFile(go, "");
    execFileSync("docker", ["wait", containerId]);
    expect(containerExists(containerId)).toBe(true);
    const listed = JSON.parse(
      (await runWm(["sandbox", "list", "--json"], { env: home.env })).stdout,
    ).sandboxes;
    expect(listed).toMatchObject([{ state: "exited", exitCode: 9 }]);
    expect(containerExists(containerId)).toBe(false);
    const pruned = await runWm(["sandbox", "prune", "--json"], { env: home.env });
    expect(JSON.parse(pruned.stdout).removedRecords).toEqual(["rec"]);
    expect(
      JSON.parse((await runWm(["sandbox", "list", "--json"], { env: home.env })).stdout).sandboxes,
    ).toEqual([]);
  });

  it("prune removes a container labelled as this daemon's that no record explains, and no one else's", async () => {
    await runWm(["daemon", "start"], { env: home.env });
    const ours = execFileSync(
      "docker",
      [
        "create",
        "--label",
        `wm.home=${homeId()}`,
        "--label",
        `wm.owner=${process.getuid?.() ?? 0}`,
        "wm-sandbox:demo",
        "true",
      ],
      { encoding: "utf8" },
    ).trim();
    const theirs = execFileSync(
      "docker",
      [
        "create",
        "--label",
        "wm.home=someoneelse0",
        "--label",
        `wm.owner=${process.getuid?.() ?? 0}`,
        "wm-sandbox:demo",
        "true",
      ],
      { encoding: "utf8" },
    ).trim();
    try {
      const pruned = await runWm(["sandbox", "prune", "--json"], { env: home.env });
      expect(pruned.code, pruned.stderr).toBe(0);
      expect(JSON.parse(pruned.stdout).removedContainers).toHaveLength(1);
      expect(containerExists(ours)).toBe(false);
      expect(containerExists(theirs)).toBe(true);
    } finally {
      execFileSync("docker", ["rm", "-f", ours, theirs], { stdio: "ignore" });
    }
  });
});
