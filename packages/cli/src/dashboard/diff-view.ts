import type { WorktreeDiffFile } from "@wm/protocol";
import type { Caller } from "./dashboard.ts";
import type { Key } from "./keys.ts";
import type { DashboardRow } from "./model.ts";
import type { DashboardView } from "./render.ts";

const firstLine = (err: unknown) =>
  (err instanceof Error ? err.message : String(err)).split("\n")[0] ?? "";

/**
 * The `d` view of one worktree: its changed files since the merge base with the main branch
 * (committed and not), and the selected file's patch, fetched from the daemon's `worktree.diff`.
 */
interface Patch {
  path: string;
  lines: string[];
  truncated: boolean;
}

export class DiffView {
  files: WorktreeDiffFile[] = [];
  selected = 0;
  base = "";
  #patch: Patch | null = null;
  #offset = 0;
  #status = "loading the changed files…";

  constructor(
    readonly row: DashboardRow,
    private readonly rpc: Caller,
    private readonly redraw: () => void,
  ) {}

  async load(): Promise<void> {
    try {
      const res = await this.rpc.call("worktree.diff", {
        cwd: this.row.repo,
        name: this.row.handle,
      });
      this.files = res.files;
      this.base = res.base;
      this.#status = "";
      this.redraw();
      await this.#loadPatch();
    } catch (err) {
      this.#status = `cannot list the changes: ${firstLine(err)}`;
      this.redraw();
    }
  }

  async #loadPatch(): Promise<void> {
    const file = this.files[this.selected];
    if (!file) return;
    this.#patch = { path: file.path, lines: ["loading…"], truncated: false };
    this.#offset = 0;
    this.redraw();
    let next: Patch;
    try {
      const res = await this.rpc.call("worktree.diff", {
        cwd: this.row.repo,
        name: this.row.handle,
        path: file.path,
      });
      const patch = res.patch ?? { text: "", truncated: false };
      const lines = patch.text.replace(/\n$/, "").split("\n");
      if (patch.truncated)
        lines.push("… (the patch is longer than 256 KiB; the rest is not shown)");
      next = { path: file.path, lines, truncated: patch.truncated };
    } catch (err) {
      next = {
        path: file.path,
        lines: [`cannot show the patch: ${firstLine(err)}`],
        truncated: false,
      };
    }
    if (this.files[this.selected] !== file) return;
    this.#patch = next;
    this.redraw();
  }

  /** Handles a key; false when the key leaves the view (`d`, esc). */
  onKey(key: Key, page: number): boolean {
    if (key.name === "escape" || (key.name === "char" && key.char === "d" && !key.alt))
      return false;
    const move = (to: number) => {
      const next = Math.max(0, Math.min(this.files.length - 1, to));
      if (next === this.selected) return;
      this.selected = next;
      void this.#loadPatch();
    };
    const scroll = (to: number) => {
      const last = Math.max(0, (this.#patch?.lines.length ?? 0) - page);
      this.#offset = Math.max(0, Math.min(last, to));
    };
    const char = key.name === "char" && !key.alt ? key.char : undefined;
    if (key.name === "up" || char === "k") move(this.selected - 1);
    else if (key.name === "down" || char === "j") move(this.selected + 1);
    else if (key.name === "pageup" || char === "b") scroll(this.#offset - page);
    else if (key.name === "pagedown" || char === " ") scroll(this.#offset + page);
    else if (key.name === "home" || char === "g") scroll(0);
    else if (key.name === "end" || char === "G") scroll(Number.POSITIVE_INFINITY);
    return true;
  }

  /** The list and preview parts of the dashboard's view. */
  view(size: number): Pick<DashboardView, "files" | "preview"> {
    const count = `${this.files.length} ${this.files.length === 1 ? "file" : "files"}`;
    const title = this.#status
      ? `${this.row.handle}: ${this.#status}`
      : `${this.row.handle}: ${count} changed since the merge base with ${this.base}`;
    const files = { title, lines: this.files, selected: this.selected };
    const patch = this.#patch;
    if (!patch) return { files, preview: null };
    const total = patch.lines.length;
    const shown = `lines ${Math.min(total, this.#offset + 1)}-${total}`;
    return {
      files,
      preview: {
        title: `${patch.path}  ${shown}  (PgUp/PgDn scroll, d or esc back)`,
        lines: patch.lines,
        size,
        patch: { offset: this.#offset },
      },
    };
  }
}
