/** Host header values the daemon answers to; anything else is a rebinding attempt. */
export function allowedHosts(tcpPort?: number): Set<string> {
  const hosts = new Set(["localhost", "wm"]);
  if (tcpPort !== undefined) {
    hosts.add(`localhost:${tcpPort}`);
    hosts.add(`127.0.0.1:${tcpPort}`);
  }
  return hosts;
}

export function isAllowedOrigin(origin: string | undefined, allowed: readonly string[]): boolean {
  return origin === undefined || allowed.includes(origin);
}
