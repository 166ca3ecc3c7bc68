import { execFileSync } from "node:child_process";
import { promises as fs } from "node:fs";
import os from "node:os";
import path from "node:path";
import { pino } from "pino";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { z } from "zod";
import { type DocumentLoss, JsonDocument } from "./json-document.ts";

let dir: string;
let file: string;
beforeEach(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), "wm-doc-"));
  file = path.join(dir, "things.json");
});
afterEach(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

/** A logger whose lines are kept, parsed. */
function capturingLog() {
  const lines: Array<Record<string, unknown>> = [];
  const log = pino({ level: "debug" }, { write: (s: string) => lines.push(JSON.parse(s)) });
  return { log, warnings: () => lines.filter((l) => l.level === 40) };
}

const body = z.object({ items: z.array(z.string()) });
type Body = z.infer<typeof body>;
const format = {
  what: "test document",
  version: 2,
  schema: body,
  legacy: z.array(z.string()).transform((items) => ({ items })),
  empty: (): Body => ({ items: [] }),
};

function open(
  opts: { maxBytes?: number; recover?: (loss: DocumentLoss) => Promise<Body | undefined> } = {},
) {
  const { log, warnings } = capturingLog();
  const doc = new JsonDocument(file, { ...format, maxBytes: opts.maxBytes }, log, opts.recover);
  return { doc, warnings };
}

async function asides(): Promise<string[]> {
  return (await fs.readdir(dir))
    .filter((n) => n.startsWith("things.json.unreadable-"))
    .map((n) => path.join(dir, n));
}

const onDisk = async () => JSON.parse(await fs.readFile(file, "utf8"));

const VALID = `${JSON.stringify({ version: 2, items: ["a"] })}\n`;

describe("a state document", () => {
  it("reads its version and writes changes back atomically, owner-only", async () => {
    await fs.writeFile(file, VALID);
    const { doc } = open();
    expect(await doc.read()).toEqual({ items: ["a"] });
    await doc.update((d) => ({ items: [...d.items, "b"] }));
    expect(await onDisk()).toEqual({ version: 2, items: ["a", "b"] });
    expect((await fs.stat(file)).mode & 0o777).toBe(0o600);
    expect(await new JsonDocument(file, format, capturingLog().log).read()).toEqual({
      items: ["a", "b"],
    });
  });

  it("starts empty without a file and writes nothing until changed", async () => {
    const { doc, warnings } = open();
    expect(await doc.read()).toEqual({ items: [] });
    await expect(fs.lstat(file)).rejects.toThrow(/ENOENT/);
    expect(warnings()).toEqual([]);
  });

  it("reads the unversioned legacy form and rewrites it in the current one", async () => {
    await fs.writeFile(file, JSON.stringify(["x", "y"]));
    const { doc, warnings } = open();
    expect(await doc.read()).toEqual({ items: ["x", "y"] });
    expect(await onDisk()).toEqual({ version: 2, items: ["x", "y"] });
    expect(await asides()).toEqual([]);
    expect(warnings()).toEqual([]);
  });
});

const damages: Record<string, { make: () => Promise<void>; reason: RegExp; text: boolean }> = {
  truncated: { make: () => fs.writeFile(file, VALID.slice(0, 12)), reason: /not JSON/, text: true },
  garbage: { make: () => fs.writeFile(file, "\u0000\u0001{{"), reason: /not JSON/, text: true },
  empty: { make: () => fs.writeFile(file, ""), reason: /not JSON/, text: true },
  "not UTF-8": {
    make: () => fs.writeFile(file, Buffer.from([0x22, 0xff, 0xfe, 0x22])),
    reason: /not UTF-8/,
    text: false,
  },
  "another version": {
    make: () => fs.writeFile(file, JSON.stringify({ version: 3, items: ["a"] })),
    reason: /version 3/,
    text: true,
  },
  "failing the schema": {
    make: () => fs.writeFile(file, JSON.stringify({ version: 2, items: [1] })),
    reason: /items\.0/,
    text: true,
  },
  "legacy form failing the schema": {
    make: () => fs.writeFile(file, JSON.stringify({ items: ["a"] })),
    reason: /schema/,
    text: true,
  },
  "a FIFO": {
    make: async () => {
      execFileSync("mkfifo", [file]);
    },
    reason: /not a regular file/,
    text: false,
  },
  "a directory": { make: () => fs.mkdir(file), reason: /not a regular file/, text: false },
  "larger than the bound (never read)": {
    make: async () => {
      await fs.writeFile(file, "");
      await fs.truncate(file, 8 * 1024 * 1024 + 1);
    },
    reason: /larger than 8388608 bytes/,
    text: false,
  },
};

describe("a damaged state document is moved aside and the store goes on", () => {
  for (const [damage, { make, reason, text }] of Object.entries(damages)) {
    it(damage, async () => {
      await make();
      const losses: DocumentLoss[] = [];
      const { doc, warnings } = open({
        recover: async (loss) => {
          losses.push(loss);
          return undefined;
        },
      });
      expect(await doc.read()).toEqual({ items: [] });
      const [aside, ...more] = await asides();
      expect(more).toEqual([]);
      expect(losses).toEqual([
        {
          kind: "moved-aside",
          aside,
          reason: expect.stringMatching(reason),
          text: text ? expect.any(String) : undefined,
        },
      ]);
      expect(warnings()).toEqual([
        expect.objectContaining({
          file,
          movedTo: aside,
          msg: "moved an unreadable test document aside",
        }),
      ]);
      await doc.update((d) => ({ items: [...d.items, "new"] }));
      await doc.read();
      expect(await onDisk()).toEqual({ version: 2, items: ["new"] });
      expect(warnings()).toHaveLength(1);
    });
  }

  it("a symlink is moved aside as a link; its target is neither read nor touched", async () => {
    const target = path.join(dir, "elsewhere.json");
    await fs.writeFile(target, VALID);
    const before = await fs.stat(target);
    await fs.symlink(target, file);
    const losses: DocumentLoss[] = [];
    const { doc, warnings } = open({
      recover: async (loss) => {
        losses.push(loss);
        return undefined;
      },
    });
    expect(await doc.read()).toEqual({ items: [] });
    const [aside] = await asides();
    expect(losses).toEqual([
      { kind: "moved-aside", aside, reason: "it is a symbolic link", text: undefined },
    ]);
    expect(await fs.readlink(aside as string)).toBe(target);
    expect(warnings()).toHaveLength(1);
    await doc.update(() => ({ items: ["mine"] }));
    expect((await fs.lstat(file)).isFile()).toBe(true);
    expect(await fs.readFile(target, "utf8")).toBe(VALID);
    const after = await fs.stat(target);
    expect([after.ino, after.mtimeMs, after.size]).toEqual([
      before.ino,
      before.mtimeMs,
      before.size,
    ]);
  });

  it("a symlink to a FIFO is not followed either (reading it would otherwise block)", async () => {
    const fifo = path.join(dir, "fifo");
    execFileSync("mkfifo", [fifo]);
    await fs.symlink(fifo, file);
    const { doc } = open();
    expect(await doc.read()).toEqual({ items: [] });
    expect(await asides()).toHaveLength(1);
  });

  it("what the recovery returns is the new document, written at once", async () => {
    await fs.writeFile(file, "garbage");
    const { doc } = open({
      recover: async (loss) => ({ items: [loss.kind === "moved-aside" ? (loss.text ?? "") : ""] }),
    });
    expect(await doc.read()).toEqual({ items: ["garbage"] });
    expect(await onDisk()).toEqual({ version: 2, items: ["garbage"] });
  });

  it("a missing file is offered to the recovery too", async () => {
    const { doc } = open({ recover: async (loss) => ({ items: [loss.kind] }) });
    expect(await doc.read()).toEqual({ items: ["missing"] });
    expect(await onDisk()).toEqual({ version: 2, items: ["missing"] });
  });

  it("a smaller bound applies as given", async () => {
    await fs.writeFile(file, JSON.stringify({ version: 2, items: ["x".repeat(100)] }));
    const { doc } = open({ maxBytes: 64 });
    expect(await doc.read()).toEqual({ items: [] });
    expect(await asides()).toHaveLength(1);
  });
});

describe("concurrent changes", () => {
  it("land in call order, each on top of the last; the file never goes back in time", async () => {
    const { doc } = open();
    const all = Array.from({ length: 40 }, (_, i) => String(i));
    // What the file held right after each change resolved: at least that change and all before.
    const seen: string[][] = [];
    await Promise.all(
      all.map((item, i) =>
        doc
          .update((d) => ({ items: [...d.items, item] }))
          .then(async () => {
            seen[i] = (await onDisk()).items;
          }),
      ),
    );
    expect(await onDisk()).toEqual({ version: 2, items: all });
    expect(await doc.read()).toEqual({ items: all });
    all.forEach((_, i) => {
      expect(seen[i]?.slice(0, i + 1)).toEqual(all.slice(0, i + 1));
    });
  });

  it("a failed change leaves the document as it was and the next one goes ahead", async () => {
    const { doc } = open();
    await doc.update(() => ({ items: ["kept"] }));
    const failing = doc.update(() => {
      throw new Error("no");
    });
    const next = doc.update((d) => ({ items: [...d.items, "after"] }));
    await expect(failing).rejects.toThrow("no");
    await next;
    expect(await onDisk()).toEqual({ version: 2, items: ["kept", "after"] });
  });
});
