import { type LevelWithSilent, type Logger, pino } from "pino";

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

export interface LoggerOptions {
  level: LevelWithSilent;
  /** Log file (appended, owner-only); omit to log to stderr. */
  file?: string;
}

export function createLogger({ level, file }: LoggerOptions): Logger {
  const destination = file
    ? pino.destination({ dest: file, mkdir: true, sync: false, mode: 0o600, append: true })
    : pino.destination({ dest: 2, sync: true });
  return pino(
    {
      level,
      base: { pid: process.pid },
      redact: { paths: REDACT_PATHS, censor: "[redacted]" },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    destination,
  );
}

export const LOG_LEVELS = ["fatal", "error", "warn", "info", "debug", "trace", "silent"] as const;
