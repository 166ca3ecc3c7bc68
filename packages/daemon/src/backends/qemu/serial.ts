import { watch } from "node:fs";
import { readFile } from "node:fs/promises";
import path from "node:path";

/**
 * Waits until the serial log `file` matches `pattern`; woken by file-system events on its
 * directory (not polling). Fails when `stop` settles first (QEMU exited) or after `timeoutMs`,
 * showing the log's last lines.
 */
export function waitForSerial(
  file: string,
  pattern: RegExp,
  opts: { timeoutMs: number; stop?: Promise<unknown> | undefined },
): Promise<RegExpExecArray> {
  return new Promise((resolve, reject) => {
    let done = false;
    let text = "";
    const check = async (): Promise<boolean> => {
      text = await readFile(file, "utf8").catch(() => "");
      const m = pattern.exec(text);
      if (m && !done) finish(() => resolve(m));
      return Boolean(m);
    };
    const tail = () => text.trim().split("\n").slice(-20).join("\n  | ");
    const watcher = watch(path.dirname(file), () => void check());
    const timer = setTimeout(
      () =>
        finish(() =>
          reject(
            new Error(
              `no ${pattern} on the VM's serial console within ${opts.timeoutMs} ms:\n  | ${tail()}`,
            ),
          ),
        ),
      opts.timeoutMs,
    );
    function finish(settle: () => void) {
      if (done) return;
      done = true;
      watcher.close();
      clearTimeout(timer);
      settle();
    }
    opts.stop?.then(
      async () => {
        if (!(await check()))
          finish(() =>
            reject(new Error(`the VM stopped before ${pattern} appeared:\n  | ${tail()}`)),
          );
      },
      () => {},
    );
    void check();
  });
}

/**
 * The guest command's exit code from the serial log (the last `WM-EXIT <code>` line, which
 * /sbin/wm-init prints after the command's own output), if it ended.
 */
export function guestExitCode(serialText: string): number | undefined {
  const all = [...serialText.matchAll(/^WM-EXIT (\d+)\r?$/gm)];
  const code = all.at(-1)?.[1];
  return code === undefined ? undefined : Number(code);
}
