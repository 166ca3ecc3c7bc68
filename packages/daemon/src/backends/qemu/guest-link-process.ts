import { Readable, Writable } from "node:stream";
import { type AgentStreamId, encodeFrame, type HostMessage } from "@wm/protocol/guest-agent";

/** What a GuestExec sends over its link. */
export interface ExecWire {
  message(msg: HostMessage): void;
  frame(data: Buffer, done: (err?: Error | null) => void): void;
}

/** A process the agent runs for us: streams, terminal size, signals and exit code. */
export class GuestExec {
  readonly id: number;
  readonly stdin: Writable;
  readonly stdout: Readable;
  readonly stderr: Readable;
  /** Exit status, 128+N after signal N; rejects when the link to the agent broke first. */
  readonly exited: Promise<number>;
  /** The guest's pid once started. */
  pid: number | undefined;
  /** Resolves when the agent reports it started (a listener: listening); rejects if it ended first. */
  readonly started: Promise<void>;
  #markStarted!: (ok: boolean, why?: string) => void;
  /** Why the agent could not start it (exit code 127 or 126). */
  error: string | undefined;
  readonly #wire: ExecWire;
  #resolve!: (code: number) => void;
  #reject!: (err: Error) => void;
  #stdinPaused = false;
  #heldWrite: { send: () => void; cb: () => void } | undefined;
  #finished = false;

  constructor(id: number, wire: ExecWire) {
    this.id = id;
    this.#wire = wire;
    this.exited = new Promise<number>((res, rej) => {
      this.#resolve = res;
      this.#reject = rej;
    });
    this.exited.catch(() => {}); // callers that only read the streams see the stream errors
    this.started = new Promise<void>((res, rej) => {
      this.#markStarted = (ok, why) => (ok ? res() : rej(new Error(why)));
    });
    this.started.catch(() => {});
    this.stdout = this.#output(1);
    this.stderr = this.#output(2);
    this.stdin = new Writable({
      write: (chunk: Buffer, _enc, cb) => {
        const send = () => wire.frame(encodeFrame(id, 0, chunk), cb);
        if (this.#finished) cb();
        else if (this.#stdinPaused) this.#heldWrite = { send, cb: () => cb() };
        else send();
      },
      final: (cb) => {
        if (this.#finished) cb();
        else wire.frame(encodeFrame(id, 0, Buffer.alloc(0)), cb);
      },
    });
    this.stdin.on("error", () => {});
  }

  resize(rows: number, cols: number): void {
    if (!this.#finished) this.#wire.message({ type: "resize", id: this.id, rows, cols });
  }

  signal(signal: NodeJS.Signals): void {
    if (!this.#finished) this.#wire.message({ type: "signal", id: this.id, signal });
  }

  #output(stream: 1 | 2): Readable {
    let paused = false;
    return new Readable({
      read: () => {
        if (paused && !this.#finished) {
          paused = false;
          this.#wire.message({ type: "resume", id: this.id, stream });
        }
      },
    }).on("pause-request", () => {
      if (!paused && !this.#finished) {
        paused = true;
        this.#wire.message({ type: "pause", id: this.id, stream });
      }
    });
  }

  /** Output from the agent. */
  data(stream: AgentStreamId, data: Buffer): void {
    const r = stream === 1 ? this.stdout : stream === 2 ? this.stderr : undefined;
    if (!r || this.#finished) return;
    if (data.length === 0) r.push(null);
    else if (!r.push(data)) r.emit("pause-request");
  }

  /** The agent's pause/resume of this process's stdin. */
  inputPaused(paused: boolean): void {
    this.#stdinPaused = paused;
    if (!paused && this.#heldWrite) {
      const held = this.#heldWrite;
      this.#heldWrite = undefined;
      held.send();
    }
  }

  /** The agent started it as pid `pid`. */
  begun(pid: number): void {
    this.pid = pid;
    this.#markStarted(true);
  }

  exit(code: number, error?: string): void {
    if (this.#finished) return;
    this.#markStarted(false, error ?? `it ended (exit code ${code}) before it started`);
    this.#finish();
    this.error = error;
    this.#resolve(code);
  }

  /** The link broke: the process is lost with it. */
  lost(reason: string): void {
    if (this.#finished) return;
    this.#markStarted(false, `the link to the guest agent broke: ${reason}`);
    this.#finish();
    this.#reject(new Error(`the link to the guest agent broke: ${reason}`));
  }

  #finish(): void {
    this.#finished = true;
    this.stdout.push(null);
    this.stderr.push(null);
    const held = this.#heldWrite;
    this.#heldWrite = undefined;
    held?.cb();
  }
}
