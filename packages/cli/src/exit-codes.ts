import { ErrorCode } from "@wm/protocol/errors";

/** What `wm` exits with; documented in docs/cli.md and `wm --help`. */
export const ExitCode = {
  Ok: 0,
  /** The command ran and failed (a check failed, an operation was refused by git…). */
  Failure: 1,
  /** Wrong arguments or options. */
  Usage: 2,
  /** The daemon could not be reached or started. */
  DaemonUnavailable: 3,
  /** The running daemon speaks another protocol version; `wm daemon restart` fixes it. */
  VersionMismatch: 4,
  /** A config file is invalid. */
  ConfigInvalid: 5,
  /** Refused for safety (guest limits, insecure directory, forbidden target). */
  Refused: 6,
  /** Interrupted (Ctrl-C). */
  Interrupted: 130,
} as const;

export const EXIT_CODE_HELP: ReadonlyArray<[number, string]> = [
  [ExitCode.Ok, "success"],
  [ExitCode.Failure, "the command failed"],
  [ExitCode.Usage, "wrong arguments or options"],
  [ExitCode.DaemonUnavailable, "the daemon could not be reached or started"],
  [ExitCode.VersionMismatch, "the daemon runs another version (run `wm daemon restart`)"],
  [ExitCode.ConfigInvalid, "a config file is invalid"],
  [ExitCode.Refused, "refused for safety"],
  [ExitCode.Interrupted, "interrupted"],
];

export function exitCodeForRpc(code: number): number {
  switch (code) {
    case ErrorCode.VersionMismatch:
      return ExitCode.VersionMismatch;
    case ErrorCode.ConfigInvalid:
      return ExitCode.ConfigInvalid;
    case ErrorCode.Refused:
    case ErrorCode.Unauthorized:
      return ExitCode.Refused;
    case ErrorCode.InvalidParams:
      return ExitCode.Usage;
    case ErrorCode.ShuttingDown:
    case ErrorCode.Unavailable:
      return ExitCode.DaemonUnavailable;
    default:
      return ExitCode.Failure;
  }
}
