/** Counts a flow's bytes each way and calls `onExceeded` once when the total passes `limit`. */
export class ByteMeter {
  up = 0;
  down = 0;
  private exceeded = false;

  constructor(
    private readonly limit: number,
    private readonly onExceeded: () => void,
  ) {}

  add(direction: "up" | "down", bytes: number): void {
    this[direction] += bytes;
    if (!this.exceeded && this.up + this.down > this.limit) {
      this.exceeded = true;
      this.onExceeded();
    }
  }

  get over(): boolean {
    return this.exceeded;
  }
}
