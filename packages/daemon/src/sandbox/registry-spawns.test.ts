import { promises as fs } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { sandboxRecord } from "../../test/fixtures/sandbox-record.ts";
import { createLogger } from "../log.ts";
import type { SandboxRecord } from "./record.ts";
import { SandboxRegistry } from "./registry.ts";

let dir: string;
beforeEach(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), "wm-spawns-"));
});
afterEach(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

const log = createLogger({ level: "silent" });
const uid = process.getuid?.() ?? 0;
const ID = "sb-00000000000a";

function record(): SandboxRecord {
  return sandboxRecord({ id: ID, name: "a", containerName: "wm-a" });
}

async function onDisk(): Promise<SandboxRecord> {
  return JSON.parse(await fs.readFile(path.join(dir, "sandboxes", `${ID}.json`), "utf8"));
}

describe("the spawn count in the sandbox record", () => {
  it("counts up to the limit, then refuses, and a new daemon's registry keeps the count", async () => {
    const a = new SandboxRegistry(dir, log);
    await a.load(uid);
    await a.put(record());
    expect(await a.countSpawn(ID, 2)).toEqual({ counted: true, used: 1 });
    expect(await a.countSpawn(ID, 2)).toEqual({ counted: true, used: 2 });
    expect(await a.countSpawn(ID, 2)).toEqual({ counted: false, used: 2 });
    expect((await onDisk()).spawns).toBe(2);

    const b = new SandboxRegistry(dir, log);
    await b.load(uid);
    expect(await b.countSpawn(ID, 2)).toEqual({ counted: false, used: 2 });
    // Control: a higher limit in the new daemon lets the next one through.
    expect(await b.countSpawn(ID, 3)).toEqual({ counted: true, used: 3 });
    expect(await b.countSpawn("sb-00000000000b", 3)).toBeUndefined();
  });

  it("a record from before the limit existed starts at none; a limit of 0 refuses the first", async () => {
    const a = new SandboxRegistry(dir, log);
    await a.load(uid);
    await a.put(record());
    expect(await a.countSpawn(ID, 0)).toEqual({ counted: false, used: 0 });
  });

  it("concurrent requests cannot both take the last one, and other updates do not lose the count", async () => {
    const a = new SandboxRegistry(dir, log);
    await a.load(uid);
    await a.put(record());
    const results = await Promise.all([
      ...Array.from({ length: 10 }, () => a.countSpawn(ID, 3)),
      a.update(ID, { agentStatus: "working" }),
      ...Array.from({ length: 10 }, () => a.countSpawn(ID, 3)),
    ]);
    const counted = results.filter(
      (r) => r !== undefined && "counted" in r && r.counted === true,
    ).length;
    expect(counted).toBe(3);
    const saved = await onDisk();
    expect(saved.spawns).toBe(3);
    expect(saved.agentStatus).toBe("working");
    const b = new SandboxRegistry(dir, log);
    expect((await b.load(uid))[0]?.spawns).toBe(3);
  });

  it("a write queued before a delete does not bring the record back", async () => {
    const a = new SandboxRegistry(dir, log);
    await a.load(uid);
    await a.put(record());
    const write = a.countSpawn(ID, 5);
    await Promise.all([write, a.delete(ID)]);
    expect(await new SandboxRegistry(dir, log).load(uid)).toEqual([]);
  });
});
