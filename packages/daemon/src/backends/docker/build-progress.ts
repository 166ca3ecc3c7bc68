import type { BuildProgress } from "../types.ts";

interface BuildMessage {
  stream?: string;
  status?: string;
  progress?: string;
  id?: string;
  error?: string;
  errorDetail?: { message?: string };
  message?: string;
}

/** The builder stopped with an error of its own (a failing RUN, a missing base image). */
export class BuilderError extends Error {
  override readonly name = "BuilderError";
}

function linesOf(msg: BuildMessage): string[] {
  if (typeof msg.stream === "string") return msg.stream.split(/\r?\n/);
  if (typeof msg.status === "string") {
    return [[msg.id, msg.status, msg.progress].filter(Boolean).join(" ")];
  }
  return [];
}

/**
 * Reads the engine's JSON message stream of a build, reporting each line of output; rejects
 * with the builder's own message when a message carries `error`/`errorDetail`.
 */
export function followBuild(
  stream: NodeJS.ReadableStream,
  onProgress: (p: BuildProgress) => void,
): Promise<void> {
  return new Promise((resolve, reject) => {
    let pending = "";
    let failure: string | undefined;
    const handle = (text: string) => {
      if (text.trim() === "") return;
      let msg: BuildMessage;
      try {
        msg = JSON.parse(text) as BuildMessage;
      } catch {
        onProgress({ line: text.trimEnd() });
        return;
      }
      const error = msg.errorDetail?.message ?? msg.error;
      if (error !== undefined) {
        failure ??= error.trim();
        onProgress({ error: error.trim() });
        return;
      }
      for (const line of linesOf(msg)) {
        if (line.trim() !== "") onProgress({ line: line.trimEnd() });
      }
    };
    stream.on("data", (chunk: Buffer | string) => {
      pending += chunk.toString();
      const parts = pending.split("\n");
      pending = parts.pop() ?? "";
      for (const part of parts) handle(part);
    });
    stream.on("error", reject);
    stream.on("end", () => {
      handle(pending);
      if (failure !== undefined) reject(new BuilderError(failure));
      else resolve();
    });
  });
}
