import { createRequire } from "node:module";
import path from "node:path";
import { pathToFileURL } from "node:url";

export interface WorkerEntry {
  script: string | URL;
  /** `script` is code to evaluate rather than a file. */
  eval: boolean;
}

/**
 * The worker's script: `config-check-worker.js` beside the bundle this module was built into
 * (`scripts/build.mjs` writes it next to `wmd.js`). Run from sources, as the tests do, the same
 * worker is `check-worker.ts` loaded through tsx.
 */
export function defaultWorkerEntry(moduleUrl = import.meta.url): WorkerEntry {
  if (!moduleUrl.endsWith(".ts")) {
    return { script: new URL("./config-check-worker.js", moduleUrl), eval: false };
  }
  const tsxDir = path.dirname(createRequire(moduleUrl).resolve("tsx/package.json"));
  const tsx = pathToFileURL(path.join(tsxDir, "dist", "esm", "api", "index.mjs")).href;
  const entry = new URL("./check-worker.ts", moduleUrl).href;
  const [t, e] = [JSON.stringify(tsx), JSON.stringify(entry)];
  return { script: `import(${t}).then((tsx) => tsx.tsImport(${e}, ${e}));`, eval: true };
}
