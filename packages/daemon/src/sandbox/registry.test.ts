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
  dir = await fs.mkdtemp(path.join(os.tmpdir(), "wm-reg-"));
});
afterEach(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

const log = createLogger({ level: "silent" });
const uid = process.getuid?.() ?? 0;

function record(id: string, state: SandboxRecord["state"] = "running"): SandboxRecord {
  return sandboxRecord({ id, state });
}

describe("sandbox registry", () => {
  it("persists records owner-only and reads them back in a new process's registry", async () => {
    const a = new SandboxRegistry(dir, log);
    await a.load(uid);
    await a.put(record("sb-000000000001"));
    await a.update("sb-000000000001", { agentStatus: "working" });
    const b = new SandboxRegistry(dir, log);
    const loaded = await b.load(uid);
    expect(loaded.map((r) => [r.id, r.agentStatus])).toEqual([["sb-000000000001", "working"]]);
    const st = await fs.stat(path.join(dir, "sandboxes", "sb-000000000001.json"));
    expect(st.mode & 0o777).toBe(0o600);
    expect((await fs.stat(path.join(dir, "sandboxes"))).mode & 0o777).toBe(0o700);
  });

  it("a crash mid-write leaves the old record: temp files and torn files are ignored", async () => {
    const a = new SandboxRegistry(dir, log);
    await a.load(uid);
    await a.put(record("sb-000000000002"));
    const folder = path.join(dir, "sandboxes");
    await fs.writeFile(
      path.join(folder, ".sb-000000000002.json.123.abcd.tmp"),
      '{"id": "sb-0000000',
    );
    await fs.writeFile(path.join(folder, "sb-000000000003.json"), '{"id": "sb-0000');
    const loaded = await new SandboxRegistry(dir, log).load(uid);
    expect(loaded.map((r) => r.id)).toEqual(["sb-000000000002"]);
  });

  it("loads records written before `spawns` and `git.branch` existed", async () => {
    const folder = path.join(dir, "sandboxes");
    await fs.mkdir(folder, { mode: 0o700 });
    const old = record("sb-000000000005");
    await fs.writeFile(path.join(folder, `${old.id}.json`), JSON.stringify(old));
    const loaded = await new SandboxRegistry(dir, log).load(uid);
    expect(loaded).toEqual([old]);
    expect(loaded[0]?.spawns).toBeUndefined();
    expect(loaded[0]?.git.branch).toBeUndefined();
  });

  it("moves a record failing the schema aside and loads the others", async () => {
    const a = new SandboxRegistry(dir, log);
    await a.load(uid);
    await a.put(record("sb-000000000006"));
    const folder = path.join(dir, "sandboxes");
    const bad = { ...record("sb-000000000007"), runtime: "lxc" };
    await fs.writeFile(path.join(folder, "sb-000000000007.json"), JSON.stringify(bad));
    const loaded = await new SandboxRegistry(dir, log).load(uid);
    expect(loaded.map((r) => r.id)).toEqual(["sb-000000000006"]);
    const names = await fs.readdir(folder);
    expect(names.filter((n) => n.startsWith("sb-000000000007.json.unreadable-"))).toHaveLength(1);
    expect(names).not.toContain("sb-000000000007.json");
  });

  it("refuses ids that could name another file", async () => {
    const a = new SandboxRegistry(dir, log);
    await a.load(uid);
    await expect(a.put(record("../../etc/passwd"))).rejects.toThrow(/invalid sandbox id/);
  });

  it("finds by name as well as id", async () => {
    const a = new SandboxRegistry(dir, log);
    await a.load(uid);
    await a.put(record("sb-000000000004"));
    expect(a.find("000000000004")?.id).toBe("sb-000000000004");
    expect(a.find("nope")).toBeUndefined();
  });
});
