import type { MethodName, Params, Result } from "@wm/protocol";
import { WsRpc } from "../client/ws-rpc.ts";
import { CliError } from "../errors.ts";
import { ExitCode } from "../exit-codes.ts";
import { tmuxClientFromEnv } from "../worktree/tmux-env.ts";
import { actionOf, answerOf, type Key, parseKeys } from "./keys.ts";
import { buildRows, type DashboardRow, iconsOf, type StatusIcons } from "./model.ts";
import { type DashboardView, renderFrame } from "./render.ts";
import { Screen, type TerminalIn, type TerminalOut } from "./screen.ts";

export interface Caller {
  call<M extends MethodName>(method: M, params: Params<M>): Promise<Result<M>>;
}

const EVENT_NOTIFICATION = "events.event";
const SIGNALS = { SIGINT: 130, SIGTERM: 143, SIGHUP: 129 } as const;

/** Every tracked worktree with its sandbox state and status icon; icons are fetched once per repository. */
export async function fetchRows(
  rpc: Caller,
  icons: Map<string, StatusIcons>,
): Promise<DashboardRow[]> {
  const [list, boxes] = await Promise.all([
    rpc.call("worktree.list", { all: true }),
    rpc.call("sandbox.list", {}).catch(() => ({ sandboxes: [] })),
  ]);
  for (const repo of new Set(list.worktrees.map((w) => w.repo))) {
    if (icons.has(repo)) continue;
    const config = await rpc.call("config.get", { cwd: repo }).catch(() => undefined);
    icons.set(repo, config ? iconsOf(config.config) : {});
  }
  return buildRows(list.worktrees, boxes.sandboxes, icons);
}

const firstLine = (err: unknown) =>
  (err instanceof Error ? err.message : String(err)).split("\n")[0] ?? "";

export interface DashboardOptions {
  socketPath: string;
  env: Readonly<Record<string, string | undefined>>;
  stdin: TerminalIn & NodeJS.EventEmitter & { pause(): unknown; resume(): unknown };
  stdout: TerminalOut & NodeJS.EventEmitter;
  debounceMs?: number;
}

/** Runs the full-screen dashboard until the user quits; returns the exit code. */
export async function runDashboard(opts: DashboardOptions): Promise<number> {
  const tmux = tmuxClientFromEnv(opts.env);
  const icons = new Map<string, StatusIcons>();
  const screen = new Screen(opts.stdout, opts.stdin);
  const view: DashboardView = {
    rows: [],
    selected: 0,
    now: Date.now(),
    help: false,
    prompt: null,
    message: null,
  };
  let confirm: (() => void) | null = null;
  let closing = false;
  let finish: (outcome: number | Error) => void = () => undefined;
  const outcome = new Promise<number | Error>((resolve) => {
    finish = (o) => {
      closing = true;
      resolve(o);
    };
  });

  const draw = () => {
    if (!screen.active) return;
    const { width, height } = screen.size();
    screen.draw(
      renderFrame({ ...view, now: Date.now() }, width, height, { ansi: true, footer: true }),
    );
  };
  const selectedRow = () => view.rows[view.selected];
  const setRows = (rows: DashboardRow[]) => {
    const path = selectedRow()?.path;
    const kept = path ? rows.findIndex((r) => r.path === path) : -1;
    view.rows = rows;
    view.selected = kept >= 0 ? kept : Math.max(0, Math.min(view.selected, rows.length - 1));
  };

  let ws: WsRpc | undefined;
  let timer: NodeJS.Timeout | undefined;
  let fetching = false;
  let again = false;
  const refresh = async (): Promise<void> => {
    if (!ws || closing) return;
    if (fetching) {
      again = true;
      return;
    }
    fetching = true;
    try {
      setRows(await fetchRows(ws, icons));
    } catch (err) {
      if (!closing) view.message = `refresh failed: ${firstLine(err)}`;
    } finally {
      fetching = false;
      draw();
      if (again) {
        again = false;
        schedule();
      }
    }
  };
  const schedule = () => {
    timer ??= setTimeout(() => {
      timer = undefined;
      void refresh();
    }, opts.debounceMs ?? 50);
  };

  const act = async (
    row: DashboardRow | undefined,
    pending: string,
    run: (row: DashboardRow, rpc: WsRpc) => Promise<string>,
  ) => {
    if (!row || !ws) return;
    view.message = pending;
    draw();
    try {
      view.message = await run(row, ws);
    } catch (err) {
      view.message = firstLine(err);
    }
    draw();
  };
  const open = () =>
    act(selectedRow(), "opening…", async (row, rpc) => {
      const res = await rpc.call("worktree.open", {
        cwd: row.repo,
        name: row.handle,
        ...(tmux ? { tmux } : {}),
      });
      const name = res.worktree.window?.name ?? row.handle;
      return `${res.created ? "opened a new" : "selected the"} window ${name}`;
    });
  const close = () =>
    act(selectedRow(), "closing…", async (row, rpc) => {
      const res = await rpc.call("worktree.close", { cwd: row.repo, name: row.handle });
      return res.closed ? `closed the window of ${row.handle}` : `${row.handle} had no window open`;
    });
  const merge = () => {
    const row = selectedRow();
    if (!row) return;
    view.prompt = `merge ${row.branch} into ${row.diff?.base ?? "the main branch"}? [y/n]`;
    confirm = () =>
      void act(row, `merging ${row.branch}…`, async (target, rpc) => {
        const res = await rpc.call("worktree.merge", { cwd: target.repo, name: target.handle });
        const removed = res.removed ? "; worktree and branch removed" : "";
        return `merged ${res.branch} into ${res.target} (${res.strategy})${removed}`;
      });
  };

  const onKey = (key: Key) => {
    if (key.name === "ctrl-c") {
      finish(ExitCode.Interrupted);
      return;
    }
    if (view.prompt) {
      const yes = answerOf(key);
      if (yes === undefined) return;
      const run = confirm;
      view.prompt = null;
      confirm = null;
      if (yes && run) run();
      else view.message = "cancelled";
      return;
    }
    const action = actionOf(key);
    if (view.help && (action === "help" || key.name === "escape")) {
      view.help = false;
      return;
    }
    const last = view.rows.length - 1;
    if (action === "up") view.selected = Math.max(0, view.selected - 1);
    else if (action === "down") view.selected = Math.max(0, Math.min(last, view.selected + 1));
    else if (action === "top") view.selected = 0;
    else if (action === "bottom") view.selected = Math.max(0, last);
    else if (action === "help") view.help = true;
    else if (action === "quit") finish(ExitCode.Ok);
    else if (action === "open") void open();
    else if (action === "close") void close();
    else if (action === "merge") merge();
  };
  const onData = (data: Buffer | string) => {
    try {
      for (const key of parseKeys(String(data))) onKey(key);
    } catch (err) {
      view.message = firstLine(err);
    }
    draw();
  };
  const onSignal = (signal: keyof typeof SIGNALS) => finish(SIGNALS[signal]);
  const restore = () => screen.leave();

  try {
    ws = await WsRpc.open(opts.socketPath, {
      onNotification: (method) => {
        if (method === EVENT_NOTIFICATION) schedule();
      },
      onBinary: () => undefined,
      onClose: () => {
        if (!closing)
          finish(new CliError("the daemon closed the connection", ExitCode.DaemonUnavailable));
      },
    });
    await ws.call("events.subscribe", { topics: ["worktree", "status", "sandbox"] });
    setRows(await fetchRows(ws, icons));
    process.on("exit", restore);
    for (const s of Object.keys(SIGNALS) as (keyof typeof SIGNALS)[]) process.on(s, onSignal);
    screen.enter();
    opts.stdin.on("data", onData);
    opts.stdout.on("resize", draw);
    opts.stdin.resume();
    draw();
    const clock = setInterval(draw, 1000);
    const result = await outcome.finally(() => clearInterval(clock));
    if (result instanceof Error) throw result;
    return result;
  } finally {
    closing = true;
    if (timer) clearTimeout(timer);
    opts.stdin.off("data", onData);
    opts.stdout.off("resize", draw);
    opts.stdin.pause();
    screen.leave();
    process.off("exit", restore);
    for (const s of Object.keys(SIGNALS)) process.off(s, onSignal);
    ws?.close();
  }
}
