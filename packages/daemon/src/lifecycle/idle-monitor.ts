export interface IdleMonitorOptions {
  idleTimeoutMs: number;
  /** True while anything (a call, a connection, a live sandbox) keeps the daemon busy. */
  busy(): boolean;
  onIdle(): void;
  /** Extra periodic check, e.g. that the registration still names this process. */
  onTick?(): void;
}

/** Fires `onIdle` once the daemon has been idle for `idleTimeoutMs` (0 = never). */
export class IdleMonitor {
  #lastActive = Date.now();
  #timer: NodeJS.Timeout;

  constructor(private readonly opts: IdleMonitorOptions) {
    const period =
      opts.idleTimeoutMs > 0 ? Math.min(Math.max(opts.idleTimeoutMs / 4, 50), 5000) : 5000;
    this.#timer = setInterval(() => this.#tick(), period);
    this.#timer.unref();
  }

  touch(): void {
    this.#lastActive = Date.now();
  }

  stop(): void {
    clearInterval(this.#timer);
  }

  #tick(): void {
    this.opts.onTick?.();
    if (this.opts.busy()) {
      this.touch();
      return;
    }
    if (this.opts.idleTimeoutMs > 0 && Date.now() - this.#lastActive >= this.opts.idleTimeoutMs) {
      this.stop();
      this.opts.onIdle();
    }
  }
}
