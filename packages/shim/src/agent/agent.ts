import type net from "node:net";
import {
  AGENT_CHANNEL_BASE,
  AGENT_LINK_VERSION,
  AGENT_WS_PATH,
  type AgentMessage,
  decodeFrame,
  encodeFrame,
  type HostMessage,
  parseHostMessage,
} from "@wm/protocol/guest-agent";
import { WM_VERSION } from "@wm/protocol/version";
import WebSocket from "ws";
import { type GuestProcess, type ProcessEvents, spawnPiped, spawnPty } from "./exec.ts";
import { listenProcess, socketProcess } from "./listen.ts";
import { loadPty, type PtyModule } from "./pty.ts";

/** Above this many bytes queued on the link, every process's output is paused. */
const LINK_HIGH = 1 << 20;
const LINK_LOW = 256 << 10;
const RETRY_MAX_MS = 5_000;
const MAX_FRAME = 16 << 20;
/**
 * QEMU's user network never tells the guest that the host's end went away: the connection to
 * 10.0.2.100 stays open. A ping unanswered this long means the link is dead.
 */
const PING_EVERY_MS = 5_000;
const DEAD_AFTER_MS = 15_000;

export interface AgentOptions {
  /** `ws://HOST:PORT` (through QEMU's guestfwd) or `ws+unix:///PATH` */
  url: string;
  env: NodeJS.ProcessEnv;
  log: (line: string) => void;
}

interface Running {
  proc: GuestProcess;
  /** Streams the host asked to pause. */
  hostPaused: Set<number>;
}

/**
 * One connection at a time to the daemon; every exec is multiplexed over it. When the link
 * drops, the running processes get SIGHUP (their terminal is gone) and the agent reconnects.
 */
export class Agent {
  readonly #opts: AgentOptions;
  readonly #pty: PtyModule | string;
  readonly #running = new Map<number, Running>();
  #ws: WebSocket | undefined;
  #linkBlocked = false;
  #stopped = false;
  #nextChannel = AGENT_CHANNEL_BASE;

  constructor(opts: AgentOptions, pty: PtyModule | string) {
    this.#opts = opts;
    this.#pty = pty;
  }

  /** Connects, and connects again after every drop, until stop(). */
  async run(): Promise<void> {
    let delay = 100;
    while (!this.#stopped) {
      const opened = await this.#connectOnce();
      if (this.#stopped) break;
      delay = opened ? 100 : Math.min(delay * 2, RETRY_MAX_MS);
      await new Promise((r) => setTimeout(r, delay));
    }
  }

  stop(): void {
    this.#stopped = true;
    this.#ws?.terminate(); // no closing handshake: the guest may be powering off
    this.#hangUp();
  }

  /** Resolves when this connection ends; true when it had opened. */
  #connectOnce(): Promise<boolean> {
    return new Promise((resolve) => {
      let opened = false;
      const ws = new WebSocket(`${this.#opts.url}${AGENT_WS_PATH}`, {
        perMessageDeflate: false,
        handshakeTimeout: 10_000,
        maxPayload: MAX_FRAME,
      });
      this.#ws = ws;
      let lastPong = Date.now();
      let pinger: NodeJS.Timeout | undefined;
      ws.on("pong", () => {
        lastPong = Date.now();
      });
      ws.on("open", () => {
        opened = true;
        pinger = setInterval(() => {
          if (Date.now() - lastPong > DEAD_AFTER_MS) {
            this.#opts.log("the daemon does not answer; connecting again");
            ws.terminate();
          } else ws.ping();
        }, PING_EVERY_MS);
        this.#opts.log(`connected to ${this.#opts.url}`);
        this.#send({
          type: "hello",
          version: WM_VERSION,
          link: AGENT_LINK_VERSION,
          pty: typeof this.#pty === "string" ? null : "node-pty",
        });
      });
      ws.on("message", (data: Buffer, isBinary) => {
        if (isBinary) this.#onFrame(data);
        else this.#onMessage(data.toString("utf8"));
      });
      ws.on("error", (err) => {
        if (opened) this.#opts.log(`link error: ${err.message}`);
        ws.terminate(); // e.g. a restarted daemon answering the old stream: no closing handshake
      });
      ws.on("close", () => {
        clearInterval(pinger);
        if (opened) this.#opts.log("link closed");
        this.#ws = undefined;
        this.#hangUp();
        resolve(opened);
      });
    });
  }

  #hangUp(): void {
    for (const r of this.#running.values()) r.proc.signal("SIGHUP");
    this.#running.clear();
    this.#linkBlocked = false;
  }

  #send(msg: AgentMessage): void {
    this.#ws?.send(JSON.stringify(msg));
  }

  #sendFrame(id: number, stream: 1 | 2, data: Buffer): void {
    const ws = this.#ws;
    if (!ws) return;
    ws.send(encodeFrame(id, stream, data), () => {
      if (this.#linkBlocked && ws.bufferedAmount < LINK_LOW) {
        this.#linkBlocked = false;
        this.#applyPause();
      }
    });
    if (!this.#linkBlocked && ws.bufferedAmount > LINK_HIGH) {
      this.#linkBlocked = true;
      this.#applyPause();
    }
  }

  #applyPause(): void {
    for (const r of this.#running.values()) {
      for (const s of [1, 2] as const)
        r.proc.setPaused(s, this.#linkBlocked || r.hostPaused.has(s));
    }
  }

  #onMessage(text: string): void {
    const msg = parseHostMessage(text);
    if (!msg) {
      this.#opts.log(`ignored a message that is not of the agent link: ${text.slice(0, 200)}`);
      return;
    }
    if (msg.type === "exec") {
      this.#exec(msg);
      return;
    }
    if (msg.type === "listen") {
      this.#listen(msg);
      return;
    }
    const r = this.#running.get(msg.id);
    if (!r) return; // it has just exited
    if (msg.type === "resize") r.proc.resize(msg);
    else if (msg.type === "signal") r.proc.signal(msg.signal);
    else if (msg.stream !== 0) {
      if (msg.type === "pause") r.hostPaused.add(msg.stream);
      else r.hostPaused.delete(msg.stream);
      r.proc.setPaused(msg.stream, this.#linkBlocked || r.hostPaused.has(msg.stream));
    }
  }

  #onFrame(frame: Buffer): void {
    const f = decodeFrame(frame);
    if (f?.stream !== 0) return;
    const r = this.#running.get(f.channel);
    if (!r) return;
    if (f.data.length === 0) r.proc.endInput();
    else r.proc.write(f.data);
  }

  /** The link's side of a process on channel `id`: output, input pressure and exit. */
  #events(id: number): ProcessEvents & { readonly done: boolean } {
    let done = false;
    return {
      get done() {
        return done;
      },
      output: (stream: 1 | 2, data: Buffer) => this.#sendFrame(id, stream, data),
      inputFull: (full: boolean) => this.#send({ type: full ? "pause" : "resume", id, stream: 0 }),
      exit: (code: number, error?: string) => {
        if (done) return;
        done = true;
        this.#running.delete(id);
        this.#send({ type: "exit", id, code, ...(error ? { error } : {}) });
      },
    };
  }

  /** A host request on a channel that is still running is answered with exit 126. */
  #free(id: number): boolean {
    if (!this.#running.has(id)) return true;
    this.#send({ type: "exit", id, code: 126, error: `channel ${id} is already in use` });
    return false;
  }

  #track(id: number, proc: GuestProcess): void {
    this.#running.set(id, { proc, hostPaused: new Set() });
    if (this.#linkBlocked) this.#applyPause();
  }

  #listen(msg: Extract<HostMessage, { type: "listen" }>): void {
    const { id } = msg;
    if (!this.#free(id)) return;
    const accepted = (socket: net.Socket) => {
      const channel = this.#nextChannel;
      this.#nextChannel = channel >= 0xffffffff ? AGENT_CHANNEL_BASE : channel + 1;
      this.#send({ type: "accept", id, channel });
      this.#track(channel, socketProcess(socket, this.#events(channel)));
    };
    const events = this.#events(id);
    const proc = listenProcess(msg, accepted, events, () => {
      if (!events.done) this.#send({ type: "started", id, pid: process.pid });
    });
    if (proc && !events.done) this.#track(id, proc);
  }

  #exec(msg: Extract<HostMessage, { type: "exec" }>): void {
    const { id } = msg;
    if (!this.#free(id)) return;
    const base = this.#opts.env;
    const env: NodeJS.ProcessEnv = {
      PATH: base.PATH ?? "/usr/local/bin:/usr/bin:/bin",
      HOME: base.HOME ?? "/root",
      LANG: base.LANG ?? "C.UTF-8",
      ...msg.env,
    };
    const req = { argv: msg.argv, cwd: msg.cwd ?? env.HOME ?? "/", env, tty: msg.tty };
    const events = this.#events(id);
    let proc: GuestProcess | undefined;
    if (req.tty) {
      if (typeof this.#pty === "string") {
        events.exit(126, `no terminal in this guest: ${this.#pty}`);
        return;
      }
      proc = spawnPty(this.#pty, { ...req, tty: req.tty }, events);
    } else {
      proc = spawnPiped(req, events);
    }
    if (!proc || events.done) return;
    this.#track(id, proc);
    this.#send({ type: "started", id, pid: proc.pid });
  }
}

const USAGE = "usage: wm-shim agent --connect HOST:PORT | --connect unix:PATH";

/** `wm-shim agent --connect 10.0.2.100:PORT`: runs until SIGTERM. */
export async function runAgent(
  args: readonly string[],
  io: { stderr: NodeJS.WritableStream },
  env: NodeJS.ProcessEnv,
): Promise<number> {
  const target = args[0] === "--connect" && args.length === 2 ? args[1] : undefined;
  if (!target) {
    io.stderr.write(`wm-shim agent: ${USAGE}\n`);
    return 2;
  }
  const url = target.startsWith("unix:")
    ? `ws+unix://${target.slice(5)}:`
    : /^[\w.-]+:\d+$/.test(target)
      ? `ws://${target}`
      : undefined;
  if (!url) {
    io.stderr.write(`wm-shim agent: bad --connect ${JSON.stringify(target)}; ${USAGE}\n`);
    return 2;
  }
  const log = (line: string) => io.stderr.write(`wm-agent: ${line}\n`);
  const pty = await loadPty();
  if (typeof pty === "string") log(`no terminals: ${pty}`);
  const agent = new Agent({ url, env, log }, pty);
  const stop = () => agent.stop();
  process.once("SIGTERM", stop);
  process.once("SIGINT", stop);
  await agent.run();
  return 143;
}
