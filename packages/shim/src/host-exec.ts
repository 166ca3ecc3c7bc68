import {
  EXEC_ENV_ALLOWED,
  EXEC_PATH,
  EXEC_SIGNALS,
  type ExecEnd,
  type ExecStart,
} from "@wm/protocol/host-exec";
import { StreamChannel } from "@wm/protocol/streams";
import { PROTOCOL_HEADER, PROTOCOL_VERSION } from "@wm/protocol/version";
import WebSocket from "ws";
import type { Endpoint } from "./endpoint.ts";

/** Exit code when the daemon could not be reached or the connection broke mid-command. */
export const EXIT_CONNECTION = 255;
const HIGH_WATER = 1024 * 1024;
const LOW_WATER = 256 * 1024;

export interface ExecIo {
  stdin: NodeJS.ReadStream;
  stdout: NodeJS.WriteStream;
  stderr: NodeJS.WriteStream;
}

function connect(endpoint: Endpoint): WebSocket {
  const headers: Record<string, string> = { [PROTOCOL_HEADER]: String(PROTOCOL_VERSION) };
  if (endpoint.transport === "socket") {
    return new WebSocket(`ws+unix://${endpoint.socketPath}:${EXEC_PATH}`, {
      headers: { ...headers, host: "localhost" },
      perMessageDeflate: false,
    });
  }
  return new WebSocket(`ws://${endpoint.host}:${endpoint.port}${EXEC_PATH}`, {
    headers: { ...headers, authorization: `Bearer ${endpoint.token}` },
    perMessageDeflate: false,
  });
}

/**
 * Run `argv` on the host through the daemon, as if it ran here: stdin, stdout and stderr as
 * bytes with back-pressure, a PTY when this process has a terminal (resized with it), signals
 * forwarded, the exit code passed back.
 */
export function hostExec(
  endpoint: Endpoint,
  argv: string[],
  io: ExecIo,
  env: NodeJS.ProcessEnv,
): Promise<number> {
  const tty = Boolean(io.stdin.isTTY && io.stdout.isTTY);
  const start: ExecStart = {
    argv,
    cwd: process.cwd(),
    env: Object.fromEntries(
      EXEC_ENV_ALLOWED.flatMap((k) => (env[k] === undefined ? [] : [[k, env[k] as string]])),
    ),
    tty: tty ? { rows: io.stdout.rows || 24, cols: io.stdout.columns || 80 } : null,
  };
  const ws = connect(endpoint);
  return new Promise<number>((resolve) => {
    let end: ExecEnd | undefined;
    let pending = 0;
    let inputPaused = false;
    const signals = new Map<NodeJS.Signals, () => void>();
    const onResize = () =>
      send(JSON.stringify({ resize: { rows: io.stdout.rows, cols: io.stdout.columns } }));
    const send = (data: string | Buffer, cb?: () => void) => {
      if (ws.readyState === ws.OPEN) ws.send(data, { binary: typeof data !== "string" }, cb);
    };
    const cleanup = () => {
      for (const [sig, fn] of signals) process.off(sig, fn);
      if (tty) {
        io.stdout.off("resize", onResize);
        io.stdin.setRawMode(false);
      }
      // Nothing more is read: a terminal or pipe left open must not keep this process alive.
      io.stdin.destroy();
    };

    ws.on("open", () => {
      ws.send(JSON.stringify(start));
      if (tty) {
        io.stdin.setRawMode(true);
        io.stdout.on("resize", onResize);
      }
      for (const sig of EXEC_SIGNALS) {
        const fn = () => send(JSON.stringify({ signal: sig }));
        signals.set(sig, fn);
        process.on(sig, fn);
      }
      io.stdin.on("data", (chunk: Buffer) => {
        const frame = Buffer.allocUnsafe(chunk.length + 1);
        frame[0] = StreamChannel.Stdin;
        chunk.copy(frame, 1);
        pending += frame.length;
        send(frame, () => {
          pending -= frame.length;
          if (inputPaused && pending < LOW_WATER) {
            inputPaused = false;
            io.stdin.resume();
          }
        });
        if (pending > HIGH_WATER) {
          inputPaused = true;
          io.stdin.pause();
        }
      });
      io.stdin.once("end", () => send(Buffer.from([StreamChannel.Stdin])));
      io.stdin.on("error", () => send(Buffer.from([StreamChannel.Stdin])));
    });

    ws.on("message", (data, isBinary) => {
      const buf = Buffer.isBuffer(data) ? data : Buffer.concat(data as Buffer[]);
      if (isBinary) {
        const out = buf[0] === StreamChannel.Stderr ? io.stderr : io.stdout;
        if (!out.write(buf.subarray(1))) {
          ws.pause();
          out.once("drain", () => ws.resume());
        }
        return;
      }
      try {
        end = JSON.parse(buf.toString("utf8")) as ExecEnd;
      } catch {
        // Not ours to act on.
      }
    });

    ws.on("error", (err: NodeJS.ErrnoException) => {
      if (end) return;
      end = {
        error: {
          code: 0,
          message: `cannot reach the wm daemon from this sandbox (${err.code ?? err.message})`,
          data: { exitCode: EXIT_CONNECTION },
        },
      };
    });

    ws.on("close", () => {
      cleanup();
      let code: number;
      if (end && "exit" in end) code = end.exit.code;
      else {
        const message =
          end?.error.message ?? "the connection to the wm daemon ended before the command did";
        io.stderr.write(`wm: ${message}\n`);
        const data = end?.error.data as { exitCode?: unknown } | undefined;
        code = typeof data?.exitCode === "number" ? data.exitCode : EXIT_CONNECTION;
      }
      // Whatever is still queued for the terminal or pipe goes out before the exit code.
      io.stdout.write("", () => io.stderr.write("", () => resolve(code)));
    });
  });
}
