import { stat } from "node:fs/promises";
import path from "node:path";
import type { ConfigDiagnostic } from "@wm/protocol";
import { z } from "zod";
import type { Logger } from "../log.ts";
import { JsonDocument } from "../state/json-document.ts";

/** Files whose showing is remembered; the one shown longest ago is forgotten first. */
const MAX_FILES = 256;

const bodySchema = z.object({
  files: z.record(z.string(), z.object({ identity: z.string(), shownAt: z.string() })),
});
type Body = z.infer<typeof bodySchema>;

/** Device, inode, size, mtime and ctime: a file that changed in any way has another identity. */
async function identityOf(file: string): Promise<string | undefined> {
  const st = await stat(file, { bigint: true }).catch(() => undefined);
  return st ? [st.dev, st.ino, st.size, st.mtimeNs, st.ctimeNs].join(":") : undefined;
}

/**
 * Which config files' problems the user has been shown, as each file was then
 * (`config-warnings-shown.json` in the state directory): commands print a file's warnings once,
 * and again only after the file changes.
 */
export class ShownConfigWarnings {
  readonly #doc: JsonDocument<Body>;

  constructor(stateDir: string, log: Logger) {
    this.#doc = new JsonDocument(
      path.join(stateDir, "config-warnings-shown.json"),
      {
        what: "record of shown config warnings",
        version: 1,
        schema: bodySchema,
        empty: () => ({ files: {} }),
      },
      log,
    );
  }

  /**
   * The diagnostics of files not shown as they are now, in their order; those files are
   * recorded as shown. A file that cannot be looked at is always shown and never recorded.
   */
  async unseen(diagnostics: readonly ConfigDiagnostic[]): Promise<ConfigDiagnostic[]> {
    const files = [...new Set(diagnostics.map((d) => d.file))];
    const identities = new Map(
      await Promise.all(files.map(async (f) => [f, await identityOf(f)] as const)),
    );
    const shown = (await this.#doc.read()).files;
    const fresh = files.filter((f) => {
      const identity = identities.get(f);
      return identity === undefined || shown[f]?.identity !== identity;
    });
    if (fresh.length === 0) return [];
    const now = new Date().toISOString();
    await this.#doc.update((doc) => {
      const next = { ...doc.files };
      for (const f of fresh) {
        const identity = identities.get(f);
        if (identity !== undefined) next[f] = { identity, shownAt: now };
      }
      const kept = Object.entries(next)
        .sort(([, a], [, b]) => b.shownAt.localeCompare(a.shownAt))
        .slice(0, MAX_FILES);
      return { files: Object.fromEntries(kept) };
    });
    const wanted = new Set(fresh);
    return diagnostics.filter((d) => wanted.has(d.file));
  }
}
