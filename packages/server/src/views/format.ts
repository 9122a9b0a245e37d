/** Numbers and dates the way a person reads them (sizes: formatBytes in @wasm-registry/core). */
export function formatDate(unixSeconds: number): string {
  return new Date(unixSeconds * 1000).toISOString().slice(0, 10);
}

export function formatCount(count: number): string {
  return count.toLocaleString("en-US");
}
