import { ExitCode } from "./exit-codes.ts";

/** An error meant for the user: a message, what to do next, and the exit code. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: number = ExitCode.Failure,
    readonly hint?: string,
    readonly details?: string,
  ) {
    super(message);
    this.name = "CliError";
  }
}

export class UsageError extends CliError {
  constructor(message: string, hint?: string) {
    super(message, ExitCode.Usage, hint);
    this.name = "UsageError";
  }
}
