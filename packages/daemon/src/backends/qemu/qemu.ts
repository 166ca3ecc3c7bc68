import { spawn } from "node:child_process";
import { existsSync, watch } from "node:fs";
import { mkdir, open, readFile, rm } from "node:fs/promises";
import path from "node:path";
import { installHint } from "../../images/vm-exec.ts";
import { type Accelerator, qemuArgs, type VmSpec, vmPaths } from "./qemu-args.ts";
import { QmpClient } from "./qmp.ts";
import { waitForSerial } from "./serial.ts";

export const QEMU_BINARY = "qemu-system-x86_64";

/** A running QEMU, whether this process started it or adopted it after a restart. */
export class VmHandle {
  /** Resolves when QEMU exits (its QMP socket closes). */
  readonly exited: Promise<void>;

  constructor(
    readonly dir: string,
    readonly pid: number,
    readonly qmp: QmpClient,
  ) {
    this.exited = qmp.closed;
  }

  get serialLog(): string {
    return vmPaths(this.dir).serial;
  }

  waitForSerial(pattern: RegExp, timeoutMs: number): Promise<RegExpExecArray> {
    return waitForSerial(this.serialLog, pattern, { timeoutMs, stop: this.exited });
  }

  async status(): Promise<string> {
    const r = await this.qmp.execute<{ status: string }>("query-status");
    return r.status;
  }

  /**
   * Asks the guest to power off (ACPI power button: /sbin/wm-init ends the command and powers
   * off), then, if it has not after `graceMs`, tells QEMU to quit; SIGKILL as the last resort.
   */
  async stop(graceMs = 15_000): Promise<"powerdown" | "quit" | "kill"> {
    const gone = (ms: number) =>
      Promise.race([
        this.exited.then(() => true),
        new Promise<boolean>((r) => setTimeout(() => r(false), ms).unref()),
      ]);
    await this.qmp.execute("system_powerdown").catch(() => {});
    if (await gone(graceMs)) return "powerdown";
    await this.qmp.execute("quit").catch(() => {});
    if (await gone(5_000)) return "quit";
    try {
      process.kill(this.pid, "SIGKILL");
    } catch {}
    await this.exited;
    return "kill";
  }

  /** Forgets the VM without stopping it (the daemon is going away; adoptVm finds it again). */
  detach(): void {
    this.qmp.close();
  }
}

function waitForFile(file: string, stop: Promise<unknown>, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    let done = false;
    const finish = (err?: Error) => {
      if (done) return;
      done = true;
      watcher.close();
      clearTimeout(timer);
      if (err) reject(err);
      else resolve();
    };
    const watcher = watch(path.dirname(file), () => {
      if (existsSync(file)) finish();
    });
    const timer = setTimeout(
      () => finish(new Error(`QEMU did not create ${file} within ${timeoutMs} ms`)),
      timeoutMs,
    );
    stop.then(
      () => finish(new Error("QEMU exited while starting")),
      () => {},
    );
    if (existsSync(file)) finish();
  });
}

/**
 * Starts QEMU detached from this process (it outlives a daemon restart), with its stdout and
 * stderr in `<dir>/qemu.log`, and connects to its QMP socket. A start failure shows the log.
 */
export async function startVm(
  spec: VmSpec,
  accel: Accelerator,
  env: Readonly<Record<string, string | undefined>>,
): Promise<VmHandle> {
  await mkdir(spec.dir, { recursive: true });
  const p = vmPaths(spec.dir);
  await Promise.all([p.qmp, p.pidfile, p.serial].map((f) => rm(f, { force: true })));
  const args = qemuArgs({ ...spec, serial: "file" }, accel);
  const log = await open(p.log, "w");
  const child = spawn(QEMU_BINARY, args, {
    env: { ...env },
    detached: true,
    stdio: ["ignore", log.fd, log.fd],
  });
  let spawnError: NodeJS.ErrnoException | undefined;
  const exited = new Promise<void>((resolve) => {
    child.once("exit", () => resolve());
    child.once("error", (e) => {
      spawnError = e;
      resolve();
    });
  });
  await log.close();
  try {
    await waitForFile(p.qmp, exited, 30_000);
  } catch (e) {
    if (spawnError?.code === "ENOENT") {
      throw new Error(`${QEMU_BINARY} is not installed; ${installHint(QEMU_BINARY)}`);
    }
    const text = await readFile(p.log, "utf8").catch(() => "");
    child.kill("SIGKILL");
    const tail = text.trim() ? `\n  | ${text.trim().split("\n").slice(-10).join("\n  | ")}` : "";
    throw new Error(`${(spawnError ?? (e as Error)).message}${tail}`);
  }
  try {
    const qmp = await QmpClient.connect(p.qmp);
    child.unref();
    return new VmHandle(spec.dir, child.pid as number, qmp);
  } catch (e) {
    child.kill("SIGKILL");
    throw e;
  }
}

export type AdoptResult = { state: "running"; vm: VmHandle } | { state: "stopped"; reason: string };

/**
 * Finds the QEMU of a VM directory again (after a daemon restart): the pidfile names a live
 * qemu-system process whose command line names this directory's pidfile, and its QMP socket
 * answers. Anything else is "stopped", with the reason.
 */
export async function adoptVm(dir: string): Promise<AdoptResult> {
  const p = vmPaths(dir);
  const pidText = await readFile(p.pidfile, "utf8").catch(() => undefined);
  if (pidText === undefined) return { state: "stopped", reason: "no pidfile" };
  const pid = Number(pidText.trim());
  if (!Number.isInteger(pid) || pid <= 0)
    return { state: "stopped", reason: `bad pidfile ${p.pidfile}` };
  const cmdline = await readFile(`/proc/${pid}/cmdline`, "utf8").catch(() => undefined);
  if (cmdline === undefined) return { state: "stopped", reason: `process ${pid} is gone` };
  const argv = cmdline.split("\0");
  if (!path.basename(argv[0] ?? "").startsWith("qemu-system") || !argv.includes(p.pidfile)) {
    return { state: "stopped", reason: `process ${pid} is not this VM's QEMU` };
  }
  try {
    const qmp = await QmpClient.connect(p.qmp, 5_000);
    return { state: "running", vm: new VmHandle(dir, pid, qmp) };
  } catch (e) {
    return {
      state: "stopped",
      reason: `QEMU ${pid} does not answer on ${p.qmp}: ${(e as Error).message}`,
    };
  }
}
