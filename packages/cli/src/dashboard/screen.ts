export const ESC = {
  altScreenOn: "\x1b[?1049h",
  altScreenOff: "\x1b[?1049l",
  cursorHide: "\x1b[?25l",
  cursorShow: "\x1b[?25h",
  wrapOff: "\x1b[?7l",
  wrapOn: "\x1b[?7h",
  clear: "\x1b[2J",
  clearLine: "\x1b[2K",
  clearBelow: "\x1b[J",
  reset: "\x1b[0m",
  moveTo: (row: number, col: number) => `\x1b[${row};${col}H`,
} as const;

export interface TerminalOut {
  write(text: string): unknown;
  columns?: number;
  rows?: number;
}

export interface TerminalIn {
  isTTY?: boolean;
  setRawMode?(raw: boolean): unknown;
}

/**
 * The full-screen terminal: alternate screen buffer, hidden cursor, no line wrap, raw input.
 * `leave` puts everything back and may be called any number of times.
 */
export class Screen {
  #active = false;

  constructor(
    private readonly out: TerminalOut,
    private readonly input: TerminalIn,
  ) {}

  get active(): boolean {
    return this.#active;
  }

  size(): { width: number; height: number } {
    return { width: this.out.columns || 80, height: this.out.rows || 24 };
  }

  enter(): void {
    if (this.#active) return;
    this.#active = true;
    if (this.input.isTTY) this.input.setRawMode?.(true);
    this.out.write(ESC.altScreenOn + ESC.cursorHide + ESC.wrapOff + ESC.clear + ESC.moveTo(1, 1));
  }

  leave(): void {
    if (!this.#active) return;
    this.#active = false;
    try {
      this.out.write(ESC.reset + ESC.wrapOn + ESC.cursorShow + ESC.altScreenOff);
    } finally {
      if (this.input.isTTY) this.input.setRawMode?.(false);
    }
  }

  /** Writes `lines` from the top, each over an erased line, and clears what lies below them. */
  draw(lines: readonly string[]): void {
    if (!this.#active) return;
    const { height } = this.size();
    const shown = lines.slice(0, height);
    let frame = shown.map((l, i) => ESC.moveTo(i + 1, 1) + ESC.clearLine + l).join("");
    if (shown.length < height) frame += ESC.moveTo(shown.length + 1, 1) + ESC.clearBelow;
    this.out.write(frame);
  }
}
