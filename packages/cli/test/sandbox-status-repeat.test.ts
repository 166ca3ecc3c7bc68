import { execFile } from "node:child_process";
import { promises as fs } from "node:fs";
import path from "node:path";
import {
  type ListedSandbox,
  makeSandboxHome,
  type SandboxHome,
  startSandboxClient,
  waitForRunningSandbox,
} from "@wm/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

let bench: SandboxHome;
let box: ListedSandbox;

beforeAll(async () => {
  bench = await makeSandboxHome({ branches: ["alpha"] });
  const client = startSandboxClient(
    bench.home.env,
    bench.repo.worktrees.alpha as string,
    "sleep 600",
  );
  client.child.unref();
  box = await waitForRunningSandbox(bench.home.env, (s) => s.name === "alpha");
}, 320_000);

afterAll(() => bench.cleanup());

/** `wm status set STATUS` inside the sandbox, as its agent's hook runs it. */
function statusSet(status: string): Promise<void> {
  return new Promise((resolve, reject) =>
    execFile("docker", ["exec", box.containerId, "wm", "status", "set", status], (err, _o, e) =>
      err ? reject(new Error(`wm status set ${status} failed: ${e}`)) : resolve(),
    ),
  );
}

/** The sandbox's record file: its inode (a new one on every atomic write) and its status. */
async function record(): Promise<{ ino: number; agentStatus: unknown }> {
  const file = path.join(bench.home.stateDir, "sandboxes", `${box.id}.json`);
  const [stat, text] = await Promise.all([fs.stat(file), fs.readFile(file, "utf8")]);
  return { ino: stat.ino, agentStatus: JSON.parse(text).agentStatus };
}

describe("a sandbox reporting the status it already has", () => {
  it("leaves its record unwritten; a different status is written (control)", async () => {
    await statusSet("working");
    const first = await record();
    expect(first.agentStatus).toBe("working");

    await statusSet("working");
    expect(await record()).toEqual(first);

    await statusSet("done");
    const changed = await record();
    expect(changed.agentStatus).toBe("done");
    expect(changed.ino).not.toBe(first.ino);
  });
});
