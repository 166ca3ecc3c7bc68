/** Token bucket plus an in-flight cap, one per sandbox: a flood from one cannot starve another. */
export class RateLimiter {
  #tokens: number;
  #last = Date.now();
  #inFlight = 0;

  constructor(
    private readonly perSecond: number,
    private readonly burst: number,
    private readonly maxInFlight: number,
  ) {
    this.#tokens = burst;
  }

  /** Returns a release function, or undefined when the caller must be refused. */
  acquire(): (() => void) | undefined {
    const now = Date.now();
    this.#tokens = Math.min(
      this.burst,
      this.#tokens + ((now - this.#last) / 1000) * this.perSecond,
    );
    this.#last = now;
    if (this.#tokens < 1 || this.#inFlight >= this.maxInFlight) return undefined;
    this.#tokens -= 1;
    this.#inFlight++;
    let released = false;
    return () => {
      if (!released) {
        released = true;
        this.#inFlight--;
      }
    };
  }
}
