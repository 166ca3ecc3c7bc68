import {
  EXEC_PATH,
  EXEC_SIGNALS,
  type ExecEnd,
  type ExecStart,
  RpcError,
  StreamChannel,
} from "@wm/protocol";
import type { FastifyInstance } from "fastify";
import type { WebSocket } from "ws";
import { z } from "zod";
import type { DaemonContext } from "../context.ts";
import { type HostChild, spawnPiped, spawnPty } from "./host-child.ts";
import { EXIT_REFUSED, type HostExecPlan, planHostExec } from "./plan.ts";

/** Output waiting to reach the caller, bytes: past it the host child's output is not read. */
const HIGH_WATER = 1024 * 1024;
const LOW_WATER = 256 * 1024;
/** Largest output frame: what one turn of the event loop read, up to this. */
const MAX_FRAME = 1024 * 1024;
/** The caller must say what to run within this time. */
const START_DEADLINE_MS = 5000;
/** After the caller went away: SIGHUP, then SIGKILL this much later if still running. */
const KILL_GRACE_MS = 2000;

/** Host commands one sandbox may have running at once; `WM_HOST_EXEC_MAX` tunes it. */
export function hostExecMax(env: NodeJS.ProcessEnv = process.env): number {
  const n = Number(env.WM_HOST_EXEC_MAX);
  return Number.isInteger(n) && n > 0 ? n : 8;
}

const size = z.strictObject({ rows: z.int().min(1).max(1000), cols: z.int().min(1).max(1000) });
const startSchema = z.strictObject({
  argv: z
    .array(z.string().max(128 * 1024))
    .min(1)
    .max(4096),
  cwd: z.string().min(1).max(4096),
  env: z.record(z.string(), z.string()),
  tty: size.nullable(),
});
const controlSchema = z.union([
  z.strictObject({ resize: size }),
  z.strictObject({ signal: z.enum(EXEC_SIGNALS) }),
]);

/** The host commands running for one sandbox's endpoint. */
export interface HostExecRuns {
  readonly count: number;
  /** The sandbox, its endpoint or the daemon is going away: kill every host child now. */
  killAll(): void;
}

function errorEnd(err: unknown): ExecEnd {
  const e =
    err instanceof RpcError
      ? err
      : new RpcError("InternalError", `host command failed to start: ${(err as Error).message}`, {
          exitCode: EXIT_REFUSED,
        });
  const json = e.toJSON();
  return { error: { code: json.code, message: json.message, data: json.data } };
}

function parseStart(data: Buffer, isBinary: boolean): ExecStart {
  if (isBinary) {
    throw new RpcError("InvalidRequest", "the first message must be JSON text", {
      exitCode: EXIT_REFUSED,
    });
  }
  let json: unknown;
  try {
    json = JSON.parse(data.toString("utf8"));
  } catch {
    throw new RpcError("ParseError", "the first message is not JSON", { exitCode: EXIT_REFUSED });
  }
  const parsed = startSchema.safeParse(json);
  if (!parsed.success) {
    throw new RpcError("InvalidParams", z.prettifyError(parsed.error), {
      exitCode: EXIT_REFUSED,
    });
  }
  return parsed.data;
}

type Message = { data: Buffer; isBinary: boolean };

/**
 * `GET /exec` on a sandbox's endpoint: run one allow-listed host command for it, bytes in and
 * out with back-pressure both ways, and kill it when the caller, the sandbox or the daemon
 * goes away. One audit line per call.
 */
export function registerExecRoute(
  app: FastifyInstance,
  daemon: DaemonContext,
  sandbox: { id: string },
): HostExecRuns {
  const running = new Set<HostChild>();
  const max = hostExecMax();

  app.get(EXEC_PATH, { websocket: true }, (socket) => {
    let child: HostChild | undefined;
    let closed = false;
    // Every message is taken from the first moment: what arrives while the command is being
    // planned (stdin, a resize) waits here, and nothing read from the socket is dropped.
    let deliver: ((m: Message) => void) | undefined;
    const early: Message[] = [];
    let gotStart: (m: Message) => void = () => undefined;
    const startMessage = new Promise<Message>((resolve, reject) => {
      gotStart = resolve;
      const timer = setTimeout(
        () =>
          reject(
            new RpcError("InvalidRequest", "no command within 5 s of connecting", {
              exitCode: EXIT_REFUSED,
            }),
          ),
        START_DEADLINE_MS,
      );
      socket.once("close", () => clearTimeout(timer));
      socket.once("message", () => clearTimeout(timer));
    });
    let first = true;
    let pausedEarly = false;
    socket.on("message", (data, isBinary) => {
      const m = { data: Buffer.isBuffer(data) ? data : Buffer.concat(data as Buffer[]), isBinary };
      if (first) {
        first = false;
        gotStart(m);
      } else if (deliver) deliver(m);
      else {
        early.push(m);
        if (early.length > 64 && !pausedEarly) {
          pausedEarly = true;
          socket.pause();
        }
      }
    });
    const finish = (end: ExecEnd) => {
      if (socket.readyState !== socket.OPEN) return;
      socket.send(JSON.stringify(end), () => socket.close(1000));
    };
    socket.on("close", () => {
      closed = true;
      const c = child;
      if (!c || !running.has(c)) return;
      // The caller is gone (killed, its sandbox stopped, its connection cut): so is the child.
      c.signal("SIGHUP");
      c.signal("SIGCONT");
      const timer = setTimeout(() => c.signal("SIGKILL"), KILL_GRACE_MS);
      timer.unref();
      void c.ended.finally(() => clearTimeout(timer));
    });
    socket.on("error", () => undefined);

    void (async () => {
      const started = Date.now();
      let plan: HostExecPlan | undefined;
      const bytes = { in: 0, out: 0, err: 0 };
      try {
        if (running.size >= max) {
          throw new RpcError(
            "RateLimited",
            `this sandbox already runs ${max} host commands; wait for one to finish`,
            { exitCode: EXIT_REFUSED },
          );
        }
        const m = await startMessage;
        const start = parseStart(m.data, m.isBinary);
        plan = await planHostExec(daemon, sandbox.id, start);
        if (closed) return;
        const spec = {
          file: plan.file,
          args: plan.args,
          cwd: plan.cwd,
          env: plan.env,
          runAs: plan.runAs,
        };
        const c = start.tty ? await spawnPty(spec, start.tty) : spawnPiped(spec);
        child = c;
        running.add(c);
        if (closed) c.signal("SIGKILL");
        const wired = wire(socket, c, bytes);
        deliver = wired.deliver;
        if (pausedEarly) socket.resume();
        for (const e of early.splice(0)) deliver(e);
        const end = await c.ended;
        // What the child wrote last goes out before its exit code.
        wired.flush();
        running.delete(c);
        audit(daemon, sandbox.id, plan, end.code, started, bytes);
        finish({ exit: end });
      } catch (err) {
        if (child) running.delete(child);
        const end = errorEnd(err);
        daemon.log.warn(
          {
            sandbox: sandbox.id,
            audit: true,
            command: plan?.name,
            error: "error" in end ? end.error.message : undefined,
          },
          "host exec refused",
        );
        finish(end);
      }
    })();
  });

  return {
    get count() {
      return running.size;
    },
    killAll() {
      for (const c of running) c.signal("SIGKILL");
    },
  };
}

/** Bytes both ways, with the caller's and the child's buffers as the only queues. */
function wire(
  socket: WebSocket,
  child: HostChild,
  bytes: { in: number; out: number; err: number },
): { deliver: (m: Message) => void; flush: () => void } {
  let pending = 0;
  let paused = false;
  // Output read in one turn of the event loop goes out as one frame (up to 1 MiB): a stream
  // moves in few large messages, and a lone prompt still leaves at once.
  let batch: { channel: 1 | 2; chunks: Buffer[]; size: number } | undefined;
  const flush = () => {
    const b = batch;
    batch = undefined;
    if (!b || socket.readyState !== socket.OPEN) return;
    const frame = Buffer.allocUnsafe(b.size + 1);
    frame[0] = b.channel === 1 ? StreamChannel.Stdout : StreamChannel.Stderr;
    let at = 1;
    for (const c of b.chunks) at += c.copy(frame, at);
    socket.send(frame, { binary: true }, () => {
      pending -= b.size;
      if (paused && pending < LOW_WATER) {
        paused = false;
        child.resume();
      }
    });
  };
  child.onOutput((channel, chunk) => {
    if (channel === 1) bytes.out += chunk.length;
    else bytes.err += chunk.length;
    if (socket.readyState !== socket.OPEN) return;
    if (batch && (batch.channel !== channel || batch.size + chunk.length > MAX_FRAME)) flush();
    if (!batch) {
      batch = { channel, chunks: [], size: 0 };
      setImmediate(flush);
    }
    batch.chunks.push(chunk);
    batch.size += chunk.length;
    pending += chunk.length;
    if (!paused && pending > HIGH_WATER) {
      paused = true;
      child.pause();
    }
  });
  child.onDrain(() => socket.resume());
  const deliver = ({ data: buf, isBinary }: Message) => {
    if (isBinary) {
      if (buf.length === 0 || buf[0] !== StreamChannel.Stdin) return;
      if (buf.length === 1) {
        child.endInput();
        return;
      }
      bytes.in += buf.length - 1;
      if (!child.write(buf.subarray(1))) socket.pause();
      return;
    }
    let json: unknown;
    try {
      json = JSON.parse(buf.toString("utf8"));
    } catch {
      return;
    }
    const control = controlSchema.safeParse(json);
    if (!control.success) return;
    if ("resize" in control.data) child.resize(control.data.resize);
    else child.signal(control.data.signal);
  };
  return { deliver, flush };
}

function audit(
  daemon: DaemonContext,
  sandboxId: string,
  plan: HostExecPlan,
  exit: number,
  started: number,
  bytes: { in: number; out: number; err: number },
) {
  daemon.log.info(
    {
      sandbox: sandboxId,
      audit: true,
      command: plan.name,
      argv: plan.argv,
      cwd: plan.cwd,
      exit,
      durationMs: Date.now() - started,
      bytesIn: bytes.in,
      bytesOut: bytes.out,
      bytesErr: bytes.err,
      fenced: plan.fenced,
      ...(plan.droppedEnv.length > 0 ? { droppedEnv: plan.droppedEnv } : {}),
    },
    "host exec",
  );
}
