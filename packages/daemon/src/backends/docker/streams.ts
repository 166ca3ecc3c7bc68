import { type Duplex, PassThrough, Writable } from "node:stream";
import type Docker from "dockerode";
import type { AttachedStreams } from "../types.ts";

/** Attach's detach sequence, set to one nobody types so Ctrl-P Ctrl-Q reach the agent. */
export const DETACH_KEYS = "ctrl-@,ctrl-^,ctrl-@";

/** Splits an engine stream into stdout and stderr (demultiplexed unless it is a TTY). */
export function splitOutput(
  modem: Docker["modem"],
  raw: NodeJS.ReadableStream,
  tty: boolean,
): { stdout: PassThrough; stderr: PassThrough } {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let ended = false;
  const end = (err?: Error) => {
    if (ended) return;
    ended = true;
    if (err) {
      stdout.destroy(err);
      stderr.destroy(err);
      return;
    }
    stdout.end();
    stderr.end();
  };
  if (tty) raw.pipe(stdout, { end: false });
  else modem.demuxStream(raw, stdout, stderr);
  raw.on("end", () => end());
  raw.on("close", () => end());
  raw.on("error", (err: Error) => end(err));
  return { stdout, stderr };
}

/** A Writable over the hijacked socket: end() half-closes it, which the engine reads as EOF. */
function stdinOf(socket: Duplex): Writable {
  return new Writable({
    write(chunk: Buffer, _enc, cb) {
      if (socket.destroyed) return cb(new Error("the container's stdin is closed"));
      socket.write(chunk, (err) => cb(err ?? null));
    },
    final(cb) {
      if (!socket.destroyed) socket.end();
      cb();
    },
  });
}

export function attachedStreams(
  modem: Docker["modem"],
  socket: Duplex,
  opts: { tty: boolean; stdin: boolean },
): AttachedStreams {
  const { stdout, stderr } = splitOutput(modem, socket, opts.tty);
  return {
    stdin: opts.stdin ? stdinOf(socket) : undefined,
    stdout,
    stderr,
    close() {
      socket.destroy();
    },
  };
}

/** Collects an exec's output, keeping at most `limit` bytes of each stream. */
export async function collectOutput(
  modem: Docker["modem"],
  raw: NodeJS.ReadableStream,
  limit: number,
): Promise<{ stdout: string; stderr: string }> {
  const { stdout, stderr } = splitOutput(modem, raw, false);
  const gather = async (s: PassThrough) => {
    const parts: Buffer[] = [];
    let size = 0;
    let dropped = 0;
    for await (const chunk of s as AsyncIterable<Buffer>) {
      const room = Math.max(0, limit - size);
      if (room > 0) parts.push(chunk.subarray(0, room));
      size += Math.min(room, chunk.length);
      dropped += Math.max(0, chunk.length - room);
    }
    const text = Buffer.concat(parts).toString("utf8");
    return dropped > 0 ? `${text}\n[${dropped} more bytes not kept]` : text;
  };
  const [out, err] = await Promise.all([gather(stdout), gather(stderr)]);
  return { stdout: out, stderr: err };
}
