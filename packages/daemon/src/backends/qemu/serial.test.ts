import { appendFile, mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { guestExitCode, waitForSerial } from "./serial.ts";

let dir: string | undefined;
afterEach(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe("waitForSerial", () => {
  it("wakes up when the marker is appended later", async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), "wm-serial-"));
    const log = path.join(dir, "serial.log");
    await writeFile(log, "firmware noise\n");
    const waiting = waitForSerial(log, /^WM-READY ([\d.]+)$/m, { timeoutMs: 30_000 });
    await appendFile(log, "\nWM-READY 4.25\n");
    expect((await waiting)[1]).toBe("4.25");
  });

  it("fails with the log's tail when the VM stops first", async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), "wm-serial-"));
    const log = path.join(dir, "serial.log");
    await writeFile(log, "Kernel panic - not syncing\n");
    await expect(
      waitForSerial(log, /WM-READY/, { timeoutMs: 30_000, stop: Promise.resolve() }),
    ).rejects.toThrow(/stopped before[\s\S]*Kernel panic/);
  });
});

describe("guestExitCode", () => {
  it("takes the last WM-EXIT line, after the command's own output", () => {
    expect(guestExitCode("x\nWM-EXIT 3\nmore\nWM-EXIT 0\r\n")).toBe(0);
    expect(guestExitCode("no marker\n")).toBeUndefined();
  });
});
