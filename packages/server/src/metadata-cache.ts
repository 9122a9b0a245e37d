/**
 * Serialized version metadata, kept for a few seconds and found by the
 * request's path: the hottest read of a registry then costs one Map lookup,
 * before any parsing, query or JSON encoding. Only paths that were checked
 * and answered once are kept, so a hit needs no checking again.
 * A version's metadata changes only when it is yanked or unyanked; the server
 * that does it forgets every path of that version at once, other servers
 * within `ttlMs`.
 */
interface Entry {
  /** UTF-8 bytes: sent as they are, with no encoding or length to work out per request. */
  json: Buffer;
  expires: number;
  /** `name@version`, for `forget`: one version may be asked for by several paths (raw, percent-encoded). */
  version: string;
}

export class MetadataCache {
  private readonly entries = new Map<string, Entry>();

  constructor(
    private readonly ttlMs: number,
    private readonly maxEntries = 10_000,
    private readonly now: () => number = Date.now,
  ) {}

  get(path: string): Buffer | undefined {
    const entry = this.entries.get(path);
    if (!entry) return undefined;
    if (entry.expires <= this.now()) {
      this.entries.delete(path);
      return undefined;
    }
    return entry.json;
  }

  set(path: string, name: string, version: string, json: Buffer): void {
    if (this.ttlMs <= 0) return;
    this.entries.delete(path);
    // A Map iterates in insertion order: the first key is the oldest entry.
    if (this.entries.size >= this.maxEntries) this.entries.delete(this.entries.keys().next().value!);
    this.entries.set(path, { json, expires: this.now() + this.ttlMs, version: `${name}@${version}` });
  }

  /** Forgets every path of one version. A yank is rare; a pass over at most `maxEntries` is fine. */
  forget(name: string, version: string): void {
    const key = `${name}@${version}`;
    for (const [path, entry] of this.entries) if (entry.version === key) this.entries.delete(path);
  }
}
