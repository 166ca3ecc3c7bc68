import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { promises as fs } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";
import {
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
  it("a sandbox that ended while no daemon ran is recorded as exited, its container removed", async () => {
    const client = startSandboxClient(home.env, wt, "sleep 2; exit 9");
    const { containerId } = await waitForRunningSandbox(home.env);
    const pid = JSON.parse(await fs.readFile(home.registrationFile, "utf8")).pid as number;
    client.child.kill("SIGKILL");
    process.kill(pid, "SIGKILL");
    await sleep(3000);
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
