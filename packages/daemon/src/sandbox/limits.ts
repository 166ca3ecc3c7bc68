const UNITS: Record<string, number> = {
  "": 1,
  b: 1,
  k: 1024,
  kb: 1000,
  kib: 1024,
  m: 1024 ** 2,
  mb: 1000 ** 2,
  mib: 1024 ** 2,
  g: 1024 ** 3,
  gb: 1000 ** 3,
  gib: 1024 ** 3,
  t: 1024 ** 4,
  tb: 1000 ** 4,
  tib: 1024 ** 4,
};

/** "8G", "512M", "4GiB" → bytes (K/M/G alone are binary, as Docker reads them). */
export function parseBytes(size: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*$/.exec(size);
  const unit = UNITS[(m?.[2] ?? "?").toLowerCase()];
  if (!m?.[1] || unit === undefined) throw new Error(`not a size: "${size}"`);
  return Math.round(Number(m[1]) * unit);
}
