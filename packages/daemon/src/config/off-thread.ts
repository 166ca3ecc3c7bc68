import { Worker } from "node:worker_threads";
import type { CheckedFile, CheckReply, CheckRequest, FileRole } from "./check-text.ts";
import { defaultWorkerEntry, type WorkerEntry } from "./worker-entry.ts";

export interface ConfigCheckWorkerOptions {
  entry?: WorkerEntry;
  /** A file whose check takes longer is refused, and the worker replaced. */
  timeoutMs?: number;
  /** The worker's heap; a file whose parse needs more is refused. */
  heapMb?: number;
}

interface Job extends CheckRequest {
  resolve(checked: CheckedFile): void;
  reject(err: Error): void;
}

interface Running {
  job: Job;
  worker: Worker;
  /** Set once the job is sent: the time allowed counts from then, not from the worker's start. */
  timer?: NodeJS.Timeout;
}

const refused = (file: string, why: string): CheckedFile => ({
  errors: [{ file, key: "", message: `refused: ${why}; wm reads it again once it changes` }],
  warnings: [],
});

/**
 * Checks config files on one worker thread, started when first needed and reused, so that a
 * large or pathological file never holds up the daemon's event loop. One file at a time; a
 * check that runs past its time or memory is abandoned (the worker is replaced) and the file
 * refused with an error naming it. A worker that cannot start or fails otherwise rejects.
 */
export class ConfigCheckWorker {
  private readonly entry: WorkerEntry;
  private readonly timeoutMs: number;
  private readonly heapMb: number;
  private worker: { thread: Worker; ready: boolean } | undefined;
  private readonly queue: Job[] = [];
  private running: Running | undefined;

  constructor(opts: ConfigCheckWorkerOptions = {}) {
    this.entry = opts.entry ?? defaultWorkerEntry();
    this.timeoutMs = opts.timeoutMs ?? 5_000;
    this.heapMb = opts.heapMb ?? 256;
  }

  check(file: string, text: string, role: FileRole): Promise<CheckedFile> {
    return new Promise((resolve, reject) => {
      this.queue.push({ file, text, role, resolve, reject });
      this.next();
    });
  }

  /** Stops the worker; checks still queued or running reject. */
  async close(): Promise<void> {
    const jobs = [...(this.running ? [this.running.job] : []), ...this.queue.splice(0)];
    clearTimeout(this.running?.timer);
    this.running = undefined;
    for (const job of jobs) job.reject(new Error("the config check worker was stopped"));
    const thread = this.worker?.thread;
    this.worker = undefined;
    await thread?.terminate();
  }

  private next(): void {
    if (this.running) return;
    const job = this.queue.shift();
    if (!job) {
      this.worker?.thread.unref();
      return;
    }
    const worker = this.worker ?? this.start();
    worker.thread.ref();
    this.running = { job, worker: worker.thread };
    if (worker.ready) this.send(this.running);
  }

  private send(running: Running): void {
    const { job, worker } = running;
    running.timer = setTimeout(() => {
      this.drop(worker);
      this.settle(worker, (j) =>
        j.resolve(refused(j.file, `checking it took longer than ${this.timeoutMs / 1000} s`)),
      );
    }, this.timeoutMs);
    worker.postMessage({ file: job.file, text: job.text, role: job.role } satisfies CheckRequest);
  }

  private start(): { thread: Worker; ready: boolean } {
    const thread = new Worker(this.entry.script, {
      eval: this.entry.eval,
      resourceLimits: { maxOldGenerationSizeMb: this.heapMb },
    });
    const worker = { thread, ready: false };
    this.worker = worker;
    thread.on("message", (reply: CheckReply) => {
      if ("ready" in reply) {
        worker.ready = true;
        if (this.running?.worker === thread) this.send(this.running);
        return;
      }
      this.settle(thread, (job) =>
        reply.ok ? job.resolve(reply.checked) : job.reject(new Error(reply.message)),
      );
    });
    thread.on("error", (err: Error & { code?: string }) => {
      this.drop(thread);
      const outOfMemory = worker.ready && err.code === "ERR_WORKER_OUT_OF_MEMORY";
      this.settle(thread, (job) =>
        outOfMemory
          ? job.resolve(refused(job.file, `checking it needed more than ${this.heapMb} MB`))
          : job.reject(new Error(`the config check worker failed: ${err.message}`)),
      );
    });
    thread.on("exit", (code) => {
      this.drop(thread);
      this.settle(thread, (job) =>
        job.reject(new Error(`the config check worker exited (code ${code})`)),
      );
    });
    return worker;
  }

  /** Ends the running job with `outcome` if it was given to `from`. */
  private settle(from: Worker, outcome: (job: Job) => void): void {
    if (this.running?.worker !== from) return;
    const { job, timer } = this.running;
    clearTimeout(timer);
    this.running = undefined;
    outcome(job);
    this.next();
  }

  /** Stops using `thread` (and terminates it) if it is the current worker. */
  private drop(thread: Worker): void {
    if (this.worker?.thread !== thread) return;
    this.worker = undefined;
    void thread.terminate();
  }
}
