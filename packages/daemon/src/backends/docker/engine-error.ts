import type { RuntimeName } from "../types.ts";

/** A failed engine call: says what failed, on which runtime, and keeps the engine's status. */
export class EngineError extends Error {
  override readonly name = "EngineError";
  constructor(
    readonly runtime: RuntimeName,
    readonly statusCode: number | undefined,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

interface RawEngineError {
  statusCode?: number;
  code?: string;
  reason?: string;
  message?: string;
  json?: { message?: string } | string | null;
}

export function statusOf(err: unknown): number | undefined {
  const code = (err as RawEngineError | null)?.statusCode;
  return typeof code === "number" ? code : undefined;
}

/** The engine's own words: its JSON `message` when it sent one, else the transport error. */
export function engineMessage(err: unknown): string {
  const e = (err ?? {}) as RawEngineError;
  if (e.json && typeof e.json === "object" && typeof e.json.message === "string") {
    return e.json.message.trim();
  }
  if (typeof e.json === "string" && e.json.trim() !== "") return e.json.trim();
  const msg = e.message ?? String(err);
  return msg.replace(/^\(HTTP code \d+\) [^-]*- /, "").trim();
}

function connectionProblem(runtime: RuntimeName, code: string | undefined, socketPath: string) {
  const fix =
    runtime === "docker"
      ? "start it (sudo bash scripts/start-docker.sh) or run `wm doctor`"
      : "start its API service (sudo bash scripts/start-podman.sh) or run `wm doctor`";
  if (code === "ENOENT") return `no ${runtime} socket at ${socketPath}; ${fix}`;
  if (code === "ECONNREFUSED") return `${socketPath} refuses connections; ${fix}`;
  if (code === "EACCES") return `permission denied on ${socketPath}; run \`wm doctor\``;
  return undefined;
}

/**
 * Wraps an engine failure as `<runtime>: cannot <what>: <reason>`; `explain` may turn a
 * status code into a clearer reason (with what to do next).
 */
export function wrapEngineError(
  runtime: RuntimeName,
  socketPath: string,
  what: string,
  err: unknown,
  explain?: (status: number | undefined, message: string) => string | undefined,
): EngineError {
  if (err instanceof EngineError) return err;
  const status = statusOf(err);
  const message = engineMessage(err);
  const reason =
    connectionProblem(runtime, (err as RawEngineError | null)?.code, socketPath) ??
    explain?.(status, message) ??
    message;
  return new EngineError(runtime, status, `${runtime}: cannot ${what}: ${reason}`, { cause: err });
}
