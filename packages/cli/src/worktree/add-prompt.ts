import { UsageError } from "../errors.ts";

/** The largest prompt `wm add` takes (the daemon refuses longer ones). */
export const MAX_PROMPT_BYTES = 200_000;

/**
 * The prompt piped into `wm add` (`echo "do x" | wm add b`): read to EOF, at most
 * {@link MAX_PROMPT_BYTES}; undefined when stdin is a terminal or carries only whitespace.
 */
export async function promptFromStdin(
  stdin: NodeJS.ReadStream = process.stdin,
): Promise<string | undefined> {
  if (stdin.isTTY) return undefined;
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stdin) {
    const buf = typeof chunk === "string" ? Buffer.from(chunk) : (chunk as Buffer);
    size += buf.length;
    if (size > MAX_PROMPT_BYTES) {
      stdin.destroy();
      throw new UsageError(
        `the prompt on stdin is longer than ${MAX_PROMPT_BYTES} bytes; shorten it, or put the task in a file in the repository and point the prompt at it`,
      );
    }
    chunks.push(buf);
  }
  const text = Buffer.concat(chunks).toString("utf8");
  return text.trim() === "" ? undefined : text;
}

/** One agent of `--count` / `--foreach`: its number (from 1) and its variables. */
export interface AgentVars {
  index: number;
  vars: Record<string, string>;
}

const MAX_AGENTS = 20;
const VAR_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** `-n N` / `--foreach VAR=a,b,c`: the agents to start; undefined when neither is given. */
export function agentsFrom(
  count: string | undefined,
  foreach: string | undefined,
): AgentVars[] | undefined {
  if (count !== undefined && foreach !== undefined)
    throw new UsageError("-n/--count and --foreach exclude each other (--foreach sets the count)");
  if (count !== undefined) {
    const n = /^\d+$/.test(count) ? Number(count) : Number.NaN;
    if (!(n >= 1 && n <= MAX_AGENTS))
      throw new UsageError(`-n/--count takes a number from 1 to ${MAX_AGENTS}, not "${count}"`);
    return Array.from({ length: n }, (_, i) => ({ index: i + 1, vars: {} }));
  }
  if (foreach === undefined) return undefined;
  const eq = foreach.indexOf("=");
  const name = foreach.slice(0, eq);
  if (eq < 0 || !VAR_NAME.test(name) || name === "index")
    throw new UsageError(
      `--foreach takes VAR=a,b,c (VAR: letters, digits, _; not "index"), not "${foreach}"`,
    );
  const values = foreach.slice(eq + 1).split(",");
  if (values.some((v) => v.trim() === ""))
    throw new UsageError(`--foreach ${name}=…: a value is empty in "${foreach}"`);
  if (values.length > MAX_AGENTS)
    throw new UsageError(`--foreach gives ${values.length} values; at most ${MAX_AGENTS}`);
  return values.map((v, i) => ({ index: i + 1, vars: { [name]: v.trim() } }));
}

/**
 * The prompt for one agent: `{{ index }}` and `{{ VAR }}` replaced by their values. Plain text
 * substitution, nothing evaluated; an unknown name is an error naming the ones there are.
 */
export function renderPrompt(prompt: string, agent: AgentVars): string {
  const values: Record<string, string> = { ...agent.vars, index: String(agent.index) };
  return prompt.replace(/\{\{\s*([^{}]*?)\s*\}\}/g, (whole, name: string) => {
    const value = Object.hasOwn(values, name) ? values[name] : undefined;
    if (value === undefined)
      throw new UsageError(
        `the prompt uses ${whole}, and only ${Object.keys(values)
          .map((n) => `{{ ${n} }}`)
          .join(", ")} are set`,
      );
    return value;
  });
}
