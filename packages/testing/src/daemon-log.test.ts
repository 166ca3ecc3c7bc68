import { promises as fs } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { logLength, waitForLogLine } from "./daemon-log.ts";

const dirs: string[] = [];
afterEach(async () => {
  for (const dir of dirs.splice(0)) await fs.rm(dir, { recursive: true, force: true });
});

async function logFile(text: string): Promise<string> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), "wm-log-"));
  dirs.push(dir);
  const file = path.join(dir, "daemon.log");
  await fs.writeFile(file, text);
  return file;
}

const line = (fields: Record<string, unknown>) => `${JSON.stringify(fields)}\n`;

describe("waitForLogLine", () => {
  it("finds a line already there", async () => {
    const file = await logFile(line({ msg: "a", n: 1 }) + line({ msg: "b", n: 2 }));
    expect(await waitForLogLine(file, (l) => l.msg === "b")).toEqual({ msg: "b", n: 2 });
  });

  it("looks past `after` only, and at a line once it is complete", async () => {
    const file = await logFile(line({ msg: "ready", n: 1 }));
    const after = await logLength(file);
    const waiting = waitForLogLine(file, (l) => l.msg === "ready", { after });
    const half = line({ msg: "ready", n: 2 });
    await fs.appendFile(file, `not json\n${half.slice(0, 8)}`);
    await fs.appendFile(file, half.slice(8));
    expect(await waiting).toEqual({ msg: "ready", n: 2 });
  });
});
