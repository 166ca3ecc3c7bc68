import { promises as fs } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";
import {
  makeTempHome,
  rawRequest,
  rpcBody,
  runWm,
  type TempHome,
  waitForLogLine,
} from "@wm/testing";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import WebSocket from "ws";

let home: TempHome;
beforeEach(async () => {
  home = await makeTempHome();
});
afterEach(async () => {
  await home.cleanup();
});

describe("SIGTERM", () => {
  it("finishes in-flight calls, tells subscribers, closes WebSockets with 1001 and cleans up", async () => {
    const started = await runWm(["daemon", "start", "--json"], { env: home.env });
    const { pid } = JSON.parse(started.stdout) as { pid: number };
    const ws = new WebSocket(`ws+unix://${home.socketPath}:/ws`);
    await new Promise((r) => ws.once("open", r));
    const messages: Array<Record<string, unknown>> = [];
    ws.on("message", (m) => messages.push(JSON.parse(String(m))));
    const closed = new Promise<number>((r) => ws.once("close", (code) => r(code)));
    ws.send(rpcBody("events.subscribe", { topics: ["daemon"] }, 1));
    while (messages.length === 0) await sleep(5);

    // doctor.run spawns several tools, so it is still running when the signal lands.
    const inFlight = rawRequest(home.socketPath, { body: rpcBody("doctor.run", {}, 2) });
    await sleep(30);
    process.kill(pid, "SIGTERM");

    const res = await inFlight;
    expect(res.status).toBe(200);
    expect((res.json() as { result: { checks: unknown[] } }).result.checks.length).toBeGreaterThan(
      3,
    );
    expect(await closed).toBe(1001);
    expect(messages.find((m) => m.method === "events.event")?.params).toMatchObject({
      topic: "daemon",
      type: "stopping",
      data: { reason: "received SIGTERM" },
    });
    // Its last line, written once socket and registration are gone, just before it exits.
    await waitForLogLine(home.logFile, (l) => l.msg === "daemon stopped" && l.pid === pid);
    await expect(fs.lstat(home.socketPath)).rejects.toThrow(/ENOENT/);
    await expect(fs.lstat(home.registrationFile)).rejects.toThrow(/ENOENT/);
  });
});
