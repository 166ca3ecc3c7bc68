import type { ConfigDiagnostic } from "@wm/protocol";

/** `file:line: key: message`, leaving out the parts a diagnostic does not have. */
export function formatDiagnostic(d: ConfigDiagnostic): string {
  const where = d.line === undefined ? d.file : `${d.file}:${d.line}`;
  return d.key ? `${where}: ${d.key}: ${d.message}` : `${where}: ${d.message}`;
}

/** Grouped by file (in the order the files were read), then by position. */
export function sortDiagnostics(diagnostics: readonly ConfigDiagnostic[]): ConfigDiagnostic[] {
  const fileOrder = new Map<string, number>();
  for (const d of diagnostics) if (!fileOrder.has(d.file)) fileOrder.set(d.file, fileOrder.size);
  return [...diagnostics].sort(
    (a, b) =>
      (fileOrder.get(a.file) ?? 0) - (fileOrder.get(b.file) ?? 0) ||
      (a.line ?? 0) - (b.line ?? 0) ||
      (a.column ?? 0) - (b.column ?? 0),
  );
}

/** Every problem found in the config files; nothing was loaded. */
export class ConfigError extends Error {
  readonly diagnostics: ConfigDiagnostic[];

  constructor(diagnostics: readonly ConfigDiagnostic[]) {
    const sorted = sortDiagnostics(diagnostics);
    const count = sorted.length === 1 ? "1 problem" : `${sorted.length} problems`;
    super(
      `invalid configuration (${count}):\n${sorted.map((d) => `  ${formatDiagnostic(d)}`).join("\n")}`,
    );
    this.name = "ConfigError";
    this.diagnostics = sorted;
  }
}
