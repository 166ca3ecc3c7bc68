import { promises as fs, watch } from "node:fs";

/** One line of the daemon's log (pino: `msg`, `pid`, `level`, `time` and the line's fields). */
export type LogLine = Record<string, unknown> & { msg?: string; pid?: number };

/** The log's length now: pass it as `after` to wait only for lines written from here on. */
export async function logLength(file: string): Promise<number> {
  return (await fs.stat(file).catch(() => undefined))?.size ?? 0;
}

/**
 * Resolves with the first line of the daemon's log past byte `after` that `matches`. The file
 * is read again each time it changes (fs.watch), never on a timer; a line is looked at once it
 * is complete. It has no time limit of its own (the test's applies), and does not follow the
 * log's rotation, which a test's log never reaches.
 */
export function waitForLogLine(
  file: string,
  matches: (line: LogLine) => boolean,
  { after = 0 }: { after?: number } = {},
): Promise<LogLine> {
  return new Promise((resolve, reject) => {
    const watcher = watch(file);
    let offset = after;
    let reading = false;
    let again = false;
    const done = (settle: () => void) => {
      watcher.close();
      settle();
    };
    const found = async (): Promise<LogLine | undefined> => {
      const handle = await fs.open(file, "r");
      try {
        const { size } = await handle.stat();
        if (size <= offset) return undefined;
        const { buffer } = await handle.read(Buffer.alloc(size - offset), 0, size - offset, offset);
        const end = buffer.lastIndexOf("\n");
        if (end < 0) return undefined;
        offset += end + 1;
        for (const text of buffer.subarray(0, end).toString("utf8").split("\n")) {
          let line: LogLine;
          try {
            line = JSON.parse(text) as LogLine;
          } catch {
            continue; // not one of the daemon's lines (a crash's stderr, say)
          }
          if (matches(line)) return line;
        }
        return undefined;
      } finally {
        await handle.close();
      }
    };
    const check = async () => {
      if (reading) {
        again = true;
        return;
      }
      reading = true;
      try {
        do {
          again = false;
          const line = await found();
          if (line) return done(() => resolve(line));
        } while (again);
      } catch (err) {
        done(() => reject(err));
      } finally {
        reading = false;
      }
    };
    watcher.on("change", () => void check());
    watcher.on("error", (err) => done(() => reject(err)));
    void check();
  });
}
