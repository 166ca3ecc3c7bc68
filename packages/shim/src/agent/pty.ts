/** The part of @lydell/node-pty the agent uses; the module is loaded at run time, beside the bundle. */
export interface Pty {
  readonly pid: number;
  onData(cb: (data: string) => void): void;
  onExit(cb: (e: { exitCode: number; signal?: number }) => void): void;
  write(data: string | Buffer): void;
  resize(cols: number, rows: number): void;
  pause(): void;
  resume(): void;
}
export interface PtyModule {
  spawn(
    file: string,
    args: string[],
    opts: { name: string; cols: number; rows: number; cwd: string; env: NodeJS.ProcessEnv },
  ): Pty;
}

// Not a literal: the bundler leaves the import to run time (node_modules next to wm-shim.js).
const PTY_MODULE = ["@lydell", "node-pty"].join("/");

/** node-pty, or the reason it cannot load (the agent then refuses tty execs). */
export async function loadPty(): Promise<PtyModule | string> {
  try {
    const mod = (await import(PTY_MODULE)) as PtyModule & { default?: PtyModule };
    return typeof mod.spawn === "function" ? mod : (mod.default ?? "node-pty has no spawn");
  } catch (err) {
    return (err as Error).message.split("\n")[0] ?? "node-pty did not load";
  }
}
