/**
 * Serialized version metadata, kept for a few seconds: the hottest read of a
 * registry then costs a Map lookup instead of a query and a JSON encoding.
 * A version's metadata changes only when it is yanked or unyanked; the server
 * that does it forgets its copy at once, other servers within `ttlMs`.
 */
export class MetadataCache {
  private readonly entries = new Map<string, { json: string; expires: number }>();

  constructor(
    private readonly ttlMs: number,
    private readonly maxEntries = 10_000,
    private readonly now: () => number = Date.now,
  ) {}

  get(name: string, version: string): string | undefined {
    const key = `${name}@${version}`;
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    if (entry.expires <= this.now()) {
      this.entries.delete(key);
      return undefined;
    }
    return entry.json;
  }

  set(name: string, version: string, json: string): void {
    if (this.ttlMs <= 0) return;
    const key = `${name}@${version}`;
    this.entries.delete(key);
    // A Map iterates in insertion order: the first key is the oldest entry.
    if (this.entries.size >= this.maxEntries) this.entries.delete(this.entries.keys().next().value!);
    this.entries.set(key, { json, expires: this.now() + this.ttlMs });
  }

  forget(name: string, version: string): void {
    this.entries.delete(`${name}@${version}`);
  }
}
