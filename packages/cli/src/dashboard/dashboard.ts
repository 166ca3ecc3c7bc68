import type { MethodName, Params, Result } from "@wm/protocol";
import { WsRpc } from "../client/ws-rpc.ts";
import { CliError } from "../errors.ts";
import { ExitCode } from "../exit-codes.ts";
import { tmuxClientFromEnv } from "../worktree/tmux-env.ts";
import { DiffView } from "./diff-view.ts";
import {
  actionOf,
  answerOf,
  type ForwardedKey,
  forwardOf,
  joinTyped,
  jumpOf,
  type Key,
  parseKeys,
} from "./keys.ts";
import {
  buildRows,
  type DashboardRow,
  type DashboardSettings,
  dashboardSettingsOf,
  filterRows,
  iconsOf,
  SORT_LABELS,
  SORT_MODES,
  type SortMode,
  type StatusIcons,
  sortRows,
} from "./model.ts";
import { bodyHeightOf, type DashboardView, diffPreviewHeight, renderFrame } from "./render.ts";
import { Screen, type TerminalIn, type TerminalOut } from "./screen.ts";
import { type Palette, resolvePalette } from "./theme.ts";

export interface Caller {
  call<M extends MethodName>(method: M, params: Params<M>): Promise<Result<M>>;
}

const EVENT_NOTIFICATION = "events.event";
const SIGNALS = { SIGINT: 130, SIGTERM: 143, SIGHUP: 129 } as const;

/**
 * Every tracked worktree with its sandbox state and status icon; each repository's config (its
 * icons and `dashboard.*` settings) is fetched once.
 */
export async function fetchRows(
  rpc: Caller,
  icons: Map<string, StatusIcons>,
  settings?: Map<string, DashboardSettings>,
): Promise<DashboardRow[]> {
  const [list, boxes] = await Promise.all([
    rpc.call("worktree.list", { all: true }),
    rpc.call("sandbox.list", {}).catch(() => ({ sandboxes: [] })),
  ]);
  for (const repo of new Set(list.worktrees.map((w) => w.repo))) {
    if (icons.has(repo)) continue;
    const config = await rpc.call("config.get", { cwd: repo }).catch(() => undefined);
    icons.set(repo, config ? iconsOf(config.config) : {});
    settings?.set(repo, dashboardSettingsOf(config?.config));
  }
  return buildRows(list.worktrees, boxes.sandboxes, icons);
}

const firstLine = (err: unknown) =>
  (err instanceof Error ? err.message : String(err)).split("\n")[0] ?? "";

export interface DashboardOptions {
  socketPath: string;
  /** Where the dashboard runs: its config (`theme`) is read for this directory. */
  cwd: string;
  env: Readonly<Record<string, string | undefined>>;
  stdin: TerminalIn & NodeJS.EventEmitter & { pause(): unknown; resume(): unknown };
  stdout: TerminalOut & NodeJS.EventEmitter;
  debounceMs?: number;
}

type Editing = { kind: "filter"; text: string } | { kind: "input"; row: DashboardRow };

/** The dashboard's colours from `theme` in the config at `cwd`; a config error is reported. */
async function paletteAt(
  rpc: Caller,
  cwd: string,
  env: DashboardOptions["env"],
): Promise<{ palette: Palette | null; problem: string | null }> {
  try {
    const res = await rpc.call("config.get", { cwd });
    return { palette: resolvePalette(res.config.theme, env), problem: null };
  } catch (err) {
    return { palette: resolvePalette(undefined, env), problem: `config: ${firstLine(err)}` };
  }
}

/** Runs the full-screen dashboard until the user quits; returns the exit code. */
export async function runDashboard(opts: DashboardOptions): Promise<number> {
  const tmux = tmuxClientFromEnv(opts.env);
  const icons = new Map<string, StatusIcons>();
  const settings = new Map<string, DashboardSettings>();
  const settingsOf = (row: DashboardRow | undefined) =>
    (row && settings.get(row.repo)) || dashboardSettingsOf(undefined);
  const screen = new Screen(opts.stdout, opts.stdin);
  const view: DashboardView = {
    rows: [],
    selected: 0,
    now: Date.now(),
    help: false,
    prompt: null,
    message: null,
  };
  let confirm: { question: string; run: () => void } | null = null;
  /** A name filter being typed on the bottom line, or input mode: keys go to `row`'s agent. */
  let editing: Editing | null = null;
  let diffView: DiffView | null = null;
  let palette: Palette | null = null;
  let allRows: DashboardRow[] = [];
  let sortMode: SortMode | null = null;
  let filter = "";
  let screenOf: { path: string; lines: string[] } | null = null;
  let closing = false;
  let finish: (outcome: number | Error) => void = () => undefined;
  const outcome = new Promise<number | Error>((resolve) => {
    finish = (o) => {
      closing = true;
      resolve(o);
    };
  });

  const bottomLine = () => {
    if (confirm) return confirm.question;
    if (editing?.kind === "filter") return `/${editing.text}▏  (enter applies, esc clears)`;
    if (editing)
      return `input to ${editing.row.handle} (Esc leaves): each key goes to its agent as typed`;
    return null;
  };
  const previewOf = (row: DashboardRow | undefined): DashboardView["preview"] => {
    if (!row) return null;
    const size = settingsOf(row).previewSize;
    if (!row.window) return { title: row.handle, lines: ["no window open; enter opens it"], size };
    const lines = screenOf?.path === row.path ? screenOf.lines : [];
    return { title: `${row.handle} (d: diff)`, lines, size };
  };
  const draw = () => {
    if (!screen.active) return;
    view.prompt = bottomLine();
    view.sort = sortMode ? SORT_LABELS[sortMode] : undefined;
    view.filter = filter || undefined;
    const diff = diffView?.view(settingsOf(diffView.row).previewSize);
    view.files = diff?.files ?? null;
    view.preview = diff ? diff.preview : previewOf(selectedRow());
    const { width, height } = screen.size();
    screen.draw(
      renderFrame({ ...view, now: Date.now() }, width, height, {
        ansi: true,
        footer: true,
        palette,
      }),
    );
  };
  const selectedRow = () => view.rows[view.selected];
  /** Lines one PageUp/PageDown moves a patch: the patch pane's height. */
  const pageOf = (files: number) =>
    Math.max(1, diffPreviewHeight(bodyHeightOf(screen.size().height), files) - 1);
  const applyRows = () => {
    const path = selectedRow()?.path;
    const rows = filterRows(sortRows(allRows, sortMode ?? "priority"), filter);
    const kept = path ? rows.findIndex((r) => r.path === path) : -1;
    view.rows = rows;
    view.selected = kept >= 0 ? kept : Math.max(0, Math.min(view.selected, rows.length - 1));
  };
  const setRows = (rows: DashboardRow[]) => {
    allRows = rows;
    if (!sortMode && rows[0]) sortMode = settingsOf(rows[0]).sortMode;
    applyRows();
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
      setRows(await fetchRows(ws, icons, settings));
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
  let capturing = false;
  /** The selected agent's screen, for the preview; tmux has no event for pane output. */
  const capture = async () => {
    const row = selectedRow();
    if (!ws || closing || capturing || diffView || !row?.window) return;
    capturing = true;
    try {
      const res = await ws.call("worktree.capture", {
        cwd: row.repo,
        name: row.handle,
        lines: 200,
      });
      screenOf = { path: row.path, lines: res.text.split("\n") };
    } catch (err) {
      screenOf = { path: row.path, lines: [`cannot show the agent's screen: ${firstLine(err)}`] };
    } finally {
      capturing = false;
      draw();
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
  const ask = (question: string, run: () => void) => {
    if (selectedRow()) confirm = { question: `${question} [y/n]`, run };
  };
  const close = (row: DashboardRow) =>
    ask(`close the window of ${row.handle}? its agent stops`, () =>
      act(row, "closing…", async (target, rpc) => {
        const res = await rpc.call("worktree.close", { cwd: target.repo, name: target.handle });
        return res.closed
          ? `closed the window of ${target.handle}`
          : `${target.handle} had no window open`;
      }),
    );
  /** After y: types `text` into the agent of `row`, then Enter (`dashboard.commit`/`merge`). */
  const askToType = (row: DashboardRow, question: string, text: string, done: string) =>
    ask(`${question}: type "${text}" into its agent?`, () =>
      act(row, "sending…", async (target, rpc) => {
        await rpc.call("worktree.send", { cwd: target.repo, name: target.handle, text });
        return `asked the agent of ${target.handle} to ${done}`;
      }),
    );
  const commit = (row: DashboardRow) =>
    askToType(row, `commit in ${row.handle}`, settingsOf(row).commit, "commit");
  const merge = (row: DashboardRow) => {
    const text = settingsOf(row).merge;
    if (text !== null) {
      askToType(row, `merge ${row.handle}`, text, "merge");
      return;
    }
    ask(`merge ${row.branch} into ${row.diff?.base ?? "the main branch"}?`, () =>
      act(row, `merging ${row.branch}…`, async (target, rpc) => {
        const res = await rpc.call("worktree.merge", { cwd: target.repo, name: target.handle });
        const removed = res.removed ? "; worktree and branch removed" : "";
        return `merged ${res.branch} into ${res.target} (${res.strategy})${removed}`;
      }),
    );
  };
  /** Keys typed in input mode, sent in order: one call at a time, each with what has queued. */
  let typed: ForwardedKey[] = [];
  let forwarding: Promise<void> = Promise.resolve();
  const forward = (row: DashboardRow) => {
    if (typed.length === 0) return;
    const keys = joinTyped(typed);
    typed = [];
    forwarding = forwarding.then(async () => {
      try {
        await ws?.call("worktree.send", { cwd: row.repo, name: row.handle, keys });
      } catch (err) {
        view.message = firstLine(err);
        editing = null;
        draw();
      }
    });
  };
  const onEdit = (key: Key, edit: Editing) => {
    if (edit.kind === "input") {
      if (key.name === "escape") editing = null;
      else {
        const item = forwardOf(key);
        if (item) typed.push(item);
      }
      return;
    }
    if (key.name === "escape") {
      editing = null;
      filter = "";
      applyRows();
    } else if (key.name === "enter") {
      editing = null;
      filter = edit.text;
      applyRows();
    } else if (key.name === "backspace") {
      edit.text = [...edit.text].slice(0, -1).join("");
    } else if (key.name === "char" && !key.alt) {
      edit.text += key.char;
    }
  };

  const onKey = (key: Key) => {
    if (editing?.kind === "input") {
      onEdit(key, editing);
      return;
    }
    if (key.name === "ctrl-c") {
      finish(ExitCode.Interrupted);
      return;
    }
    if (confirm) {
      const { run } = confirm;
      confirm = null;
      if (answerOf(key)) run();
      else view.message = "cancelled";
      return;
    }
    if (editing) {
      onEdit(key, editing);
      return;
    }
    if (diffView) {
      if (key.name === "char" && key.char === "q" && !key.alt) finish(ExitCode.Ok);
      else if (!diffView.onKey(key, pageOf(diffView.files.length))) {
        diffView = null;
        void capture();
      }
      return;
    }
    const before = selectedRow()?.path;
    onListKey(key);
    if (selectedRow()?.path !== before) void capture();
  };
  const onListKey = (key: Key) => {
    const jump = jumpOf(key);
    if (jump !== undefined) {
      if (jump < view.rows.length) view.selected = jump;
      else view.message = `there is no worktree ${jump + 1}`;
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
    else if (action === "filter") editing = { kind: "filter", text: filter };
    else if (action === "sort") {
      const next = SORT_MODES[(SORT_MODES.indexOf(sortMode ?? "priority") + 1) % SORT_MODES.length];
      sortMode = next ?? "priority";
      applyRows();
    }
    const row = selectedRow();
    if (!row) return;
    if (action === "diff" && ws) {
      view.message = null;
      diffView = new DiffView(row, ws, draw);
      void diffView.load();
    }
    if (action === "close") close(row);
    else if (action === "commit") commit(row);
    else if (action === "merge") merge(row);
    else if (action === "input") editing = { kind: "input", row };
  };
  const onData = (data: Buffer | string) => {
    try {
      for (const key of parseKeys(String(data))) onKey(key);
      if (editing?.kind === "input") forward(editing.row);
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
    const theme = await paletteAt(ws, opts.cwd, opts.env);
    palette = theme.palette;
    view.message = theme.problem;
    setRows(await fetchRows(ws, icons, settings));
    process.on("exit", restore);
    for (const s of Object.keys(SIGNALS) as (keyof typeof SIGNALS)[]) process.on(s, onSignal);
    screen.enter();
    opts.stdin.on("data", onData);
    opts.stdout.on("resize", draw);
    opts.stdin.resume();
    draw();
    void capture();
    const clock = setInterval(() => {
      draw();
      void capture();
    }, 1000);
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
