/** First inherited file descriptor under the systemd socket-activation protocol. */
const SD_LISTEN_FDS_START = 3;

/**
 * The listening socket systemd passed us, if any (sd_listen_fds(3)): LISTEN_PID must name
 * this process and LISTEN_FDS must be at least 1.
 */
export function inheritedListenFd(
  env: Readonly<Record<string, string | undefined>>,
  pid: number,
): number | undefined {
  if (env.LISTEN_PID === undefined || Number(env.LISTEN_PID) !== pid) return undefined;
  const count = Number(env.LISTEN_FDS ?? "0");
  return Number.isInteger(count) && count >= 1 ? SD_LISTEN_FDS_START : undefined;
}
