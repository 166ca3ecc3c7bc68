import { promises as fs } from "node:fs";
import path from "node:path";
import { makeTempHome, runWm, type TempHome } from "@wm/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

let home: TempHome;
beforeAll(async () => {
  home = await makeTempHome();
});
afterAll(() => home.cleanup());

const line = (n: number) => JSON.stringify({ level: 30, time: `t${n}`, pid: 1, msg: `line ${n}` });

async function writeLog(name: string, from: number, to: number): Promise<void> {
  const lines = [];
  for (let n = from; n <= to; n++) lines.push(`${line(n)}\n`);
  await fs.mkdir(path.dirname(home.logFile), { recursive: true, mode: 0o700 });
  await fs.writeFile(path.join(path.dirname(home.logFile), name), lines.join(""), { mode: 0o600 });
}

describe("wm daemon logs after a rotation", () => {
  it("shows the end of the previous file when the current one is short", async () => {
    await writeLog("daemon.log.2", 1, 10);
    await writeLog("daemon.log.1", 11, 30);
    await writeLog("daemon.log", 31, 33);
    const raw = await runWm(["daemon", "logs", "-n", "5", "--json"], { env: home.env });
    expect(raw.code).toBe(0);
    expect(raw.stdout).toBe([29, 30, 31, 32, 33].map((n) => `${line(n)}\n`).join(""));
    const short = await runWm(["daemon", "logs", "-n", "2"], { env: home.env });
    expect(short.stdout.trim().split("\n")).toEqual(["t32 INFO  line 32", "t33 INFO  line 33"]);
  });
});
