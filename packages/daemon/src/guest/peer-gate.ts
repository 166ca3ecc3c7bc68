/**
 * The addresses a sandbox's TCP endpoint serves: its own container's, once the engine has
 * said what it is. Any other container on the bridge can reach the gateway address the
 * endpoint listens on; its connections are closed before a byte is read, so it costs the
 * daemon no parsing and no log line. Until the container's address is known (it is assigned
 * when the container starts), requests wait for it, within a deadline.
 */
export class PeerGate {
  #peers: ReadonlySet<string> | "any" | undefined;
  #decided: () => void = () => undefined;
  readonly #ready = new Promise<void>((resolve) => {
    this.#decided = resolve;
  });

  /** From now on only `peers` are served; "any" where the engine reports no address. */
  admit(peers: readonly string[] | "any"): void {
    this.#peers = peers === "any" ? "any" : new Set(peers.map(plain));
    this.#decided();
  }

  /** True when the peers are known and `address` is not one of them. */
  refuses(address: string | undefined): boolean {
    const peers = this.#peers;
    return peers !== undefined && peers !== "any" && !peers.has(plain(address ?? ""));
  }

  /** Waits (up to `deadlineMs`) for the peers to be known; false when `address` is not one. */
  async admits(address: string | undefined, deadlineMs: number): Promise<boolean> {
    if (this.#peers === undefined) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        this.#ready,
        new Promise<void>((resolve) => {
          timer = setTimeout(resolve, deadlineMs);
        }),
      ]);
      clearTimeout(timer);
    }
    return this.#peers !== undefined && !this.refuses(address);
  }
}

/** An IPv4 peer seen on a dual-stack socket is `::ffff:a.b.c.d`. */
function plain(address: string): string {
  return address.startsWith("::ffff:") ? address.slice(7) : address;
}
