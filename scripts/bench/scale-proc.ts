// What /proc tells of the daemon under the scale bench: its memory, and the CPU its threads ran.
import { promises as fs } from "node:fs";

/** What the daemon's threads ran over a phase, ms (from /proc/<pid>/task/<tid>/schedstat). */
export interface DaemonCpu {
  /** CPU time of all its threads (main, libuv's pool, V8's). */
  cpuMs: number;
  /** CPU time of its main thread (the event loop). */
  mainCpuMs: number;
  /** Time its main thread was ready to run but waited for a CPU. */
  mainWaitMs: number;
}

/** VmRSS and VmHWM of a process, MB. */
export async function memoryOf(pid: number): Promise<{ rss: number; peak: number }> {
  const status = await fs.readFile(`/proc/${pid}/status`, "utf8");
  const kb = (field: string) =>
    Number(new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(status)?.[1]);
  return { rss: (kb("VmRSS") * 1024) / 1e6, peak: (kb("VmHWM") * 1024) / 1e6 };
}

export async function schedOf(pid: number): Promise<DaemonCpu> {
  const read = async (tid: string) => {
    const text = await fs.readFile(`/proc/${pid}/task/${tid}/schedstat`, "utf8").catch(() => "");
    const [run = 0, wait = 0] = text.split(" ").map(Number);
    return { run: run / 1e6, wait: wait / 1e6 };
  };
  const all = await Promise.all((await fs.readdir(`/proc/${pid}/task`)).map(read));
  const main = await read(String(pid));
  return { cpuMs: all.reduce((a, t) => a + t.run, 0), mainCpuMs: main.run, mainWaitMs: main.wait };
}

/** What ran between two readings. */
export const cpuSince = (a: DaemonCpu, b: DaemonCpu): DaemonCpu => ({
  cpuMs: b.cpuMs - a.cpuMs,
  mainCpuMs: b.mainCpuMs - a.mainCpuMs,
  mainWaitMs: b.mainWaitMs - a.mainWaitMs,
});

export const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};
