import { execFileSync } from "node:child_process";
import { promises as fs } from "node:fs";
import os from "node:os";
import path from "node:path";
import { pino } from "pino";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { z } from "zod";
import { JsonRecords } from "./json-records.ts";

let dir: string;
beforeEach(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), "wm-records-"));
});
afterEach(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

const schema = z.object({ id: z.string(), n: z.number() });
type Rec = z.infer<typeof schema>;

function open() {
  const lines: Array<Record<string, unknown>> = [];
  const log = pino({ level: "debug" }, { write: (s: string) => lines.push(JSON.parse(s)) });
  const records = new JsonRecords<Rec>(
    dir,
    { what: "test record", idPattern: /^r-[0-9]$/, schema, idOf: (r) => r.id },
    log,
  );
  return { records, warnings: () => lines.filter((l) => l.level === 40) };
}

const file = (id: string) => path.join(dir, `${id}.json`);
const put = (records: JsonRecords<Rec>, rec: Rec) => records.write(rec.id, () => rec);

describe("a directory of state records", () => {
  it("reads back what was written, owner-only, and ignores names that are not records", async () => {
    const { records } = open();
    await put(records, { id: "r-1", n: 1 });
    await put(records, { id: "r-2", n: 2 });
    await fs.writeFile(path.join(dir, ".r-1.json.123.abcd.tmp"), '{"id": "r-');
    await fs.writeFile(path.join(dir, "notes.txt"), "x");
    const all = await open().records.readAll();
    expect(all.sort((a, b) => a.n - b.n)).toEqual([
      { id: "r-1", n: 1 },
      { id: "r-2", n: 2 },
    ]);
    expect((await fs.stat(file("r-1"))).mode & 0o777).toBe(0o600);
  });

  it("refuses an id that could name another file", async () => {
    const { records } = open();
    expect(() => records.write("../r-1", () => ({ id: "../r-1", n: 0 }))).toThrow(/invalid/);
    expect(() => records.remove("r-10")).toThrow(/invalid/);
  });

  it("writes to one id land in order: the file ends as the last value", async () => {
    const { records } = open();
    let current: Rec = { id: "r-3", n: 0 };
    const writes = [];
    for (let n = 1; n <= 30; n++) {
      current = { id: "r-3", n };
      writes.push(records.write("r-3", () => current));
    }
    await Promise.all(writes);
    expect(JSON.parse(await fs.readFile(file("r-3"), "utf8"))).toEqual({ id: "r-3", n: 30 });
  });

  it("a removal queued after a write wins, and a write after a removal brings it back", async () => {
    const { records } = open();
    const rec = { id: "r-4", n: 1 };
    await Promise.all([put(records, rec), records.remove("r-4")]);
    await expect(fs.lstat(file("r-4"))).rejects.toThrow(/ENOENT/);
    await Promise.all([records.remove("r-4"), put(records, rec)]);
    expect(JSON.parse(await fs.readFile(file("r-4"), "utf8"))).toEqual(rec);
  });
});

const damages: Record<string, (f: string) => Promise<unknown>> = {
  truncated: (f) => fs.writeFile(f, '{"id": "r-5", "n'),
  garbage: (f) => fs.writeFile(f, "\u0000garbage"),
  "failing the schema": (f) => fs.writeFile(f, JSON.stringify({ id: "r-5", n: "one" })),
  "another id's record": (f) => fs.writeFile(f, JSON.stringify({ id: "r-6", n: 1 })),
  "a symlink to a valid record": async (f) => {
    await fs.writeFile(path.join(dir, "elsewhere"), JSON.stringify({ id: "r-5", n: 9 }));
    await fs.symlink(path.join(dir, "elsewhere"), f);
  },
  "a FIFO": async (f) => execFileSync("mkfifo", [f]),
  "larger than 1 MiB": async (f) => {
    await fs.writeFile(f, "");
    await fs.truncate(f, 1024 * 1024 + 1);
  },
};

describe("a damaged record is moved aside; the others load", () => {
  for (const [damage, make] of Object.entries(damages)) {
    it(damage, async () => {
      const { records, warnings } = open();
      await put(records, { id: "r-1", n: 1 });
      await make(file("r-5"));
      expect(await records.readAll()).toEqual([{ id: "r-1", n: 1 }]);
      const aside = (await fs.readdir(dir)).filter((n) => n.startsWith("r-5.json.unreadable-"));
      expect(aside).toHaveLength(1);
      expect(warnings()).toEqual([
        expect.objectContaining({
          file: file("r-5"),
          movedTo: path.join(dir, aside[0] as string),
          msg: "moved an unreadable test record aside",
        }),
      ]);
      if (damage.startsWith("a symlink")) {
        expect(await fs.readFile(path.join(dir, "elsewhere"), "utf8")).toBe(
          JSON.stringify({ id: "r-5", n: 9 }),
        );
      }
      await put(records, { id: "r-5", n: 5 });
      expect((await open().records.readAll()).map((r) => r.n).sort()).toEqual([1, 5]);
    });
  }
});
