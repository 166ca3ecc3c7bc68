import { promises as fs } from "node:fs";
import os from "node:os";
import path from "node:path";
import { type Logger, pino } from "pino";
import { afterEach, describe, expect, it } from "vitest";
import { createLogger, type LoggerOptions } from "./log.ts";

const SECRET = "s3cr3t-value-1234";
const record = {
  token: SECRET,
  params: { token: SECRET },
  req: { headers: { authorization: `Bearer ${SECRET}` } },
  sandbox: { env: { GITHUB_TOKEN: SECRET } },
};

const dirs: string[] = [];
afterEach(async () => {
  for (const dir of dirs.splice(0)) await fs.rm(dir, { recursive: true, force: true });
});

async function tempLog(name = "daemon.log"): Promise<string> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), "wm-log-"));
  dirs.push(dir);
  return path.join(dir, name);
}

function flushed(log: Logger): Promise<void> {
  return new Promise((resolve, reject) => log.flush((err) => (err ? reject(err) : resolve())));
}

async function linesOf(file: string): Promise<Record<string, unknown>[]> {
  const text = await fs.readFile(file, "utf8");
  return text
    .split("\n")
    .filter(Boolean)
    .map((l) => JSON.parse(l));
}

describe("daemon logger", () => {
  it("redacts tokens, authorization headers and environments (control: a plain logger leaks them)", async () => {
    const plainFile = await tempLog();
    const plain = pino(pino.destination({ dest: plainFile, sync: true }));
    plain.info(record, "request");
    expect(await fs.readFile(plainFile, "utf8")).toContain(SECRET);

    const file = await tempLog();
    const log = createLogger({ level: "info", file });
    log.info(record, "request");
    await flushed(log);
    const redacted = await fs.readFile(file, "utf8");
    expect(redacted).toContain('"msg":"request"');
    expect(redacted).not.toContain(SECRET);
  });

  it("creates the log file owner-only", async () => {
    const file = path.join(path.dirname(await tempLog()), "sub", "daemon.log");
    const log = createLogger({ level: "info", file });
    log.info("hello");
    await flushed(log);
    expect((await fs.stat(file)).mode & 0o777).toBe(0o600);
  });
});

describe("daemon logger: lines a sandbox can cause", () => {
  async function flood(opts: Partial<LoggerOptions>) {
    const file = await tempLog();
    const log = createLogger({ level: "info", file, now: () => 0, ...opts });
    for (let i = 0; i < 500; i++) {
      log.warn({ sandbox: "sb-1" }, "guest call with a wrong token refused");
      log.info({ sandbox: "sb-2", message: `n${i}` }, "agent notification");
    }
    log.info({ sandbox: "sb-2", message: "other" }, "agent notification");
    log.info("daemon listening");
    await flushed(log);
    return linesOf(file);
  }

  it("are limited per sandbox and message and summarised (control: without the limit all are written)", async () => {
    const unlimited = await flood({ limit: false });
    expect(unlimited).toHaveLength(1002);

    const lines = await flood({});
    const bySandbox = (id: string) => lines.filter((l) => l.sandbox === id);
    // A burst of 10 each, then one summary each with the count it stands for.
    expect(bySandbox("sb-1")).toHaveLength(11);
    expect(bySandbox("sb-2")).toHaveLength(11);
    expect(bySandbox("sb-1").at(-1)).toMatchObject({
      level: 40,
      suppressed: 490,
      msg: "guest call with a wrong token refused (490 similar suppressed)",
    });
    expect(bySandbox("sb-2").at(-1)).toMatchObject({ suppressed: 491 });
    expect(lines.filter((l) => l.msg === "daemon listening")).toHaveLength(1);
  });

  it("keeps every audit line (one per host command), however many (control: plain lines are cut)", async () => {
    const file = await tempLog();
    const log = createLogger({ level: "info", file, now: () => 0 });
    for (let i = 0; i < 100; i++) {
      log.info({ sandbox: "sb-1", audit: true, command: "just", exit: i }, "host exec");
      log.info({ sandbox: "sb-1", command: "just", exit: i }, "host exec (plain)");
    }
    await flushed(log);
    const lines = await linesOf(file);
    expect(lines.filter((l) => l.msg === "host exec")).toHaveLength(100);
    expect(lines.filter((l) => l.msg === "host exec (plain)")).toHaveLength(10);
  });

  it("lets a sandbox's lines through again once it slows down", async () => {
    let now = 0;
    const file = await tempLog();
    const log = createLogger({ level: "info", file, now: () => now });
    for (let i = 0; i < 50; i++)
      log.info({ sandbox: "sb-1", message: `n${i}` }, "agent notification");
    now += 60_000;
    log.info({ sandbox: "sb-1", message: "later" }, "agent notification");
    await flushed(log);
    const lines = await linesOf(file);
    expect(lines.slice(-2)).toMatchObject([
      { suppressed: 40, msg: "agent notification (40 similar suppressed)" },
      { message: "later", msg: "agent notification" },
    ]);
  });
});
