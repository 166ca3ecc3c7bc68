/**
 * The link between the daemon and the agent inside a VM (`wm-shim agent`). One WebSocket the
 * agent opens to the daemon (through QEMU's guestfwd, which gives the guest one host
 * connection only) carries every process the daemon runs in the guest:
 * - text frames: one JSON message each, `AgentMessage` (guest → host) or `HostMessage`;
 * - binary frames: `[channel u32 BE][stream u8][bytes]`, a process's stdin (0), stdout (1) or
 *   stderr (2); an empty payload is that stream's end.
 * Flow control is per channel and stream: the receiver sends `pause` when its reader stops
 * taking data and `resume` when it reads again; the sender stops reading the process (or
 * holds the writer's callback) meanwhile.
 *
 * A `listen` asks the agent for a Unix socket in the guest (a VM sandbox's endpoint, the way a
 * container's is a mounted socket): each connection to it becomes a channel the agent names
 * in `accept` (ids from {@link AGENT_CHANNEL_BASE} up), whose bytes travel like a process's:
 * guest → host as stream 1, host → guest as stream 0, each ended by an empty frame. The
 * listener ends on `signal` (any) and reports `exit` like a process.
 */
export const AGENT_LINK_VERSION = 1;
export const AGENT_WS_PATH = "/wm-agent";
/** Channels the agent opens (accepted connections) are numbered from here; the host's below. */
export const AGENT_CHANNEL_BASE = 0x80000000;

export const AgentStream = { Stdin: 0, Stdout: 1, Stderr: 2 } as const;
export type AgentStreamId = (typeof AgentStream)[keyof typeof AgentStream];

export interface TtySize {
  rows: number;
  cols: number;
}

export type HostMessage =
  | {
      type: "exec";
      id: number;
      argv: string[];
      cwd?: string;
      /** Added to the agent's own environment (PATH, HOME, LANG). */
      env?: Record<string, string>;
      tty: TtySize | null;
    }
  /** A Unix socket at `path` in the guest, owned by uid:gid, mode 0600. */
  | { type: "listen"; id: number; path: string; uid: number; gid: number }
  | { type: "resize"; id: number; rows: number; cols: number }
  | { type: "signal"; id: number; signal: string }
  | { type: "pause" | "resume"; id: number; stream: AgentStreamId };

export type AgentMessage =
  /** pty: how the agent makes terminals ("node-pty"), or null when it cannot (tty exec fails). */
  | { type: "hello"; version: string; link: number; pty: string | null }
  | { type: "started"; id: number; pid: number }
  /** Listener `id` accepted a connection, now channel `channel`. */
  | { type: "accept"; id: number; channel: number }
  /** code: the exit status, 128+N after signal N; 127/126 when it could not start (`error`). */
  | { type: "exit"; id: number; code: number; error?: string }
  | { type: "pause" | "resume"; id: number; stream: 0 };

// Hand-written checks rather than zod: the shim bundle, loaded by every `wm` call in a
// sandbox, would grow fivefold.
type Obj = Record<string, unknown>;
const isInt = (v: unknown, min: number, max: number): v is number =>
  Number.isInteger(v) && (v as number) >= min && (v as number) <= max;
const isId = (v: unknown) => isInt(v, 0, 0xffffffff);
const isSize = (v: unknown) => isInt(v, 1, 10_000);
const isStr = (v: unknown): v is string => typeof v === "string";
const isTty = (v: unknown) => v === null || (isObj(v) && isSize(v.rows) && isSize(v.cols));
function isObj(v: unknown): v is Obj {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}
function isEnv(v: unknown): boolean {
  return isObj(v) && Object.values(v).every(isStr);
}

function checkHost(m: Obj): boolean {
  if (!isId(m.id)) return false;
  switch (m.type) {
    case "exec":
      return (
        Array.isArray(m.argv) &&
        m.argv.length > 0 &&
        m.argv.every(isStr) &&
        (m.cwd === undefined || isStr(m.cwd)) &&
        (m.env === undefined || isEnv(m.env)) &&
        isTty(m.tty)
      );
    case "listen":
      return (
        isStr(m.path) &&
        m.path.startsWith("/") &&
        isInt(m.uid, 0, 0xffffffff) &&
        isInt(m.gid, 0, 0xffffffff)
      );
    case "resize":
      return isSize(m.rows) && isSize(m.cols);
    case "signal":
      return isStr(m.signal) && /^SIG[A-Z0-9]+$/.test(m.signal);
    case "pause":
    case "resume":
      return isInt(m.stream, 0, 2);
    default:
      return false;
  }
}

function checkAgent(m: Obj): boolean {
  if (m.type === "hello") {
    return isStr(m.version) && Number.isInteger(m.link) && (m.pty === null || isStr(m.pty));
  }
  if (!isId(m.id)) return false;
  switch (m.type) {
    case "started":
      return Number.isInteger(m.pid);
    case "accept":
      return isInt(m.channel, AGENT_CHANNEL_BASE, 0xffffffff);
    case "exit":
      return Number.isInteger(m.code) && (m.error === undefined || isStr(m.error));
    case "pause":
    case "resume":
      return m.stream === 0;
    default:
      return false;
  }
}

function parse(text: string, check: (m: Obj) => boolean): unknown {
  try {
    const m: unknown = JSON.parse(text);
    return isObj(m) && check(m) ? m : undefined;
  } catch {
    return undefined;
  }
}

/** One text frame from the daemon; undefined when it is not a valid HostMessage. */
export function parseHostMessage(text: string): HostMessage | undefined {
  return parse(text, checkHost) as HostMessage | undefined;
}

/** One text frame from the agent; undefined when it is not a valid AgentMessage. */
export function parseAgentMessage(text: string): AgentMessage | undefined {
  return parse(text, checkAgent) as AgentMessage | undefined;
}

export function encodeFrame(channel: number, streamId: AgentStreamId, data: Uint8Array): Buffer {
  const head = Buffer.allocUnsafe(5);
  head.writeUInt32BE(channel, 0);
  head.writeUInt8(streamId, 4);
  return Buffer.concat([head, data]);
}

export function decodeFrame(
  frame: Buffer,
): { channel: number; stream: AgentStreamId; data: Buffer } | undefined {
  if (frame.length < 5) return undefined;
  const s = frame.readUInt8(4);
  if (s > 2) return undefined;
  return { channel: frame.readUInt32BE(0), stream: s as AgentStreamId, data: frame.subarray(5) };
}
