import { type LevelWithSilent, type Logger, pino } from "pino";
import { DEFAULT_ROTATION, RotatingLogFile, type Rotation } from "./log-file.ts";
import { DEFAULT_LOG_LIMIT, type LogLimit, LogLimiter, limitPerSandbox } from "./log-limit.ts";

export type { Logger } from "pino";

/** Paths whose values never reach the log. */
export const REDACT_PATHS = [
  "token",
  "*.token",
  "*.*.token",
  "params.token",
  "authorization",
  "headers.authorization",
  "req.headers.authorization",
  "req.headers.cookie",
  "password",
  "*.password",
  "secret",
  "*.secret",
  "env",
  "*.env",
];

/** How often counts of suppressed lines are written even if their key stays quiet. */
const SUMMARY_INTERVAL_MS = 10_000;

export interface LoggerOptions {
  level: LevelWithSilent;
  /** Log file (appended, owner-only, rotated by size); omit to log to stderr. */
  file?: string;
  /** Tests set smaller bounds; the daemon uses the defaults. */
  rotation?: Rotation;
  /** Lines naming a sandbox are limited per sandbox; `false` writes every one (tests only). */
  limit?: LogLimit | false;
  /** The limiter's clock (tests). */
  now?: () => number;
}

/**
 * The daemon's logger: secrets redacted, the file rotated by size (log-file.ts), and every line
 * that names a sandbox limited per sandbox (log-limit.ts), so no sandbox can make it write
 * without bound.
 */
export function createLogger(opts: LoggerOptions): Logger {
  const destination = opts.file
    ? new RotatingLogFile(opts.file, opts.rotation ?? DEFAULT_ROTATION)
    : pino.destination({ dest: 2, sync: true });
  const limiter =
    opts.limit === false ? undefined : new LogLimiter(opts.limit ?? DEFAULT_LOG_LIMIT, opts.now);
  const logger = pino(
    {
      level: opts.level,
      base: { pid: process.pid },
      redact: { paths: REDACT_PATHS, censor: "[redacted]" },
      timestamp: pino.stdTimeFunctions.isoTime,
      ...(limiter ? { hooks: { logMethod: limitPerSandbox(limiter) } } : {}),
    },
    destination,
  );
  if (limiter) {
    setInterval(() => limiter.sweep(), SUMMARY_INTERVAL_MS).unref();
    // Flushing (as the daemon does before it exits) writes the pending summaries first.
    const flush = logger.flush.bind(logger);
    logger.flush = (cb) => {
      limiter.sweep();
      flush(cb);
    };
  }
  return logger;
}

export const LOG_LEVELS = ["fatal", "error", "warn", "info", "debug", "trace", "silent"] as const;
