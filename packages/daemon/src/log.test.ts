import { promises as fs } from "node:fs";
import os from "node:os";
import path from "node:path";
import { pino } from "pino";
import { describe, expect, it } from "vitest";
import { createLogger } from "./log.ts";

const SECRET = "s3cr3t-value-1234";
const record = {
  token: SECRET,
  params: { token: SECRET },
  req: { headers: { authorization: `Bearer ${SECRET}` } },
  sandbox: { env: { GITHUB_TOKEN: SECRET } },
};

async function logOnce(make: (file: string) => pino.Logger): Promise<string> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), "wm-log-"));
  const file = path.join(dir, "daemon.log");
  const log = make(file);
  log.info(record, "request");
  log.flush();
  await new Promise((r) => setTimeout(r, 50));
  const text = await fs.readFile(file, "utf8");
  await fs.rm(dir, { recursive: true, force: true });
  return text;
}

describe("daemon logger", () => {
  it("redacts tokens, authorization headers and environments (control: a plain logger leaks them)", async () => {
    const leaked = await logOnce((file) => pino(pino.destination({ dest: file, sync: true })));
    expect(leaked).toContain(SECRET);
    const redacted = await logOnce((file) => createLogger({ level: "info", file }));
    expect(redacted).toContain('"msg":"request"');
    expect(redacted).not.toContain(SECRET);
  });

  it("creates the log file owner-only", async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), "wm-log-"));
    const file = path.join(dir, "sub", "daemon.log");
    const log = createLogger({ level: "info", file });
    log.info("hello");
    log.flush();
    await new Promise((r) => setTimeout(r, 50));
    expect((await fs.stat(file)).mode & 0o777).toBe(0o600);
    await fs.rm(dir, { recursive: true, force: true });
  });
});
