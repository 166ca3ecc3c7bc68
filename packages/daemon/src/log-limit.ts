import type { LogFn, Logger } from "pino";

/** How many lines one key may write: a token bucket per key, and a cap on the keys kept. */
export interface LogLimit {
  perSecond: number;
  burst: number;
  maxKeys: number;
}

export const DEFAULT_LOG_LIMIT: LogLimit = { perSecond: 2, burst: 10, maxKeys: 1000 };

interface Bucket {
  tokens: number;
  last: number;
  suppressed: number;
  /** Writes the summary of what this key suppressed. */
  summarise: (suppressed: number) => void;
}

/**
 * Counts instead of writing once a key is over its rate. A key that suppressed lines reports
 * how many, once: with its next token, on `sweep`, or when it is evicted.
 */
export class LogLimiter {
  readonly #buckets = new Map<string, Bucket>();

  constructor(
    private readonly limit: LogLimit,
    private readonly now: () => number = Date.now,
  ) {}

  get keys(): number {
    return this.#buckets.size;
  }

  /** Runs `write` when `key` is within its rate; returns whether it ran. */
  submit(key: string, write: () => void, summarise: (suppressed: number) => void): boolean {
    const now = this.now();
    let bucket = this.#buckets.get(key);
    if (bucket) {
      // Most recently used last, so eviction takes the key unused the longest.
      this.#buckets.delete(key);
      this.#refill(bucket, now);
    } else {
      this.#makeRoom();
      bucket = { tokens: this.limit.burst, last: now, suppressed: 0, summarise };
    }
    this.#buckets.set(key, bucket);
    // The summary is a line too: it spends a token, so a flooded key writes at its rate in all.
    if (bucket.suppressed > 0 && bucket.tokens >= 1) {
      bucket.tokens -= 1;
      report(bucket);
    }
    if (bucket.tokens < 1) {
      bucket.suppressed++;
      bucket.summarise = summarise;
      return false;
    }
    bucket.tokens -= 1;
    write();
    return true;
  }

  /** Reports every pending count and forgets the keys whose bucket is full again. */
  sweep(): void {
    const now = this.now();
    for (const [key, bucket] of this.#buckets) {
      report(bucket);
      this.#refill(bucket, now);
      if (bucket.tokens >= this.limit.burst) this.#buckets.delete(key);
    }
  }

  #refill(bucket: Bucket, now: number): void {
    const earned = (Math.max(0, now - bucket.last) / 1000) * this.limit.perSecond;
    bucket.tokens = Math.min(this.limit.burst, bucket.tokens + earned);
    bucket.last = now;
  }

  #makeRoom(): void {
    for (const [key, bucket] of this.#buckets) {
      if (this.#buckets.size < this.limit.maxKeys) return;
      report(bucket);
      this.#buckets.delete(key);
    }
  }
}

function report(bucket: Bucket): void {
  if (bucket.suppressed === 0) return;
  const n = bucket.suppressed;
  bucket.suppressed = 0;
  bucket.summarise(n);
}

type LogMethodHook = (this: Logger, args: Parameters<LogFn>, method: LogFn, level: number) => void;

/** Fields that name what a line is about when a sandbox can make it repeat. */
const SUBJECTS = ["sandbox", "worktree"] as const;

/**
 * A pino `logMethod` hook: a line that names a sandbox or a worktree (a string `sandbox` or
 * `worktree` field) is limited per subject, level and message, so nothing a sandbox does can
 * make the daemon write without bound. Other lines pass untouched. Summaries keep the level
 * and the subject: `{sandbox, suppressed: N, msg: "<message> (N similar suppressed)"}`.
 */
export function limitPerSandbox(limiter: LogLimiter): LogMethodHook {
  return function logMethod(args, method, level) {
    const [fields, msg] = args as unknown[];
    const record =
      typeof fields === "object" && fields !== null ? (fields as Record<string, unknown>) : {};
    const field = SUBJECTS.find((f) => typeof record[f] === "string");
    // Audit lines (one per host command) are kept whole: their rate is already bounded by the
    // guest endpoint's own limits (20 calls/s and 8 commands at once per sandbox).
    if (!field || typeof msg !== "string" || record.audit === true) {
      method.apply(this, args);
      return;
    }
    const subject = record[field] as string;
    limiter.submit(
      `${level}\0${field}\0${subject}\0${msg}`,
      () => method.apply(this, args),
      summaryOf(this, method, field, subject, msg),
    );
  };
}

/** Built apart from the hook so that a pending summary keeps no reference to the line's fields. */
function summaryOf(logger: Logger, method: LogFn, field: string, subject: string, msg: string) {
  return (n: number) =>
    method.call(logger, { [field]: subject, suppressed: n }, `${msg} (${n} similar suppressed)`);
}
