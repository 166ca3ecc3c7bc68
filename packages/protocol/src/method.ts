import type { z } from "zod";

/** Which endpoint may serve a method: the user's host socket or a sandbox's guest socket. */
export type Surface = "host" | "guest";

export interface MethodSpec<P extends z.ZodType = z.ZodType, R extends z.ZodType = z.ZodType> {
  readonly params: P;
  readonly result: R;
  readonly summary: string;
  readonly surfaces: readonly Surface[];
  /** Served over the WebSocket only (it streams notifications after the result). */
  readonly stream?: boolean;
}

export function defineMethod<P extends z.ZodType, R extends z.ZodType>(
  spec: MethodSpec<P, R>,
): MethodSpec<P, R> {
  return spec;
}
