/**
 * Bearer tokens. Secrets are never stored or logged: the store keeps their
 * SHA-256, and a request's token is found by the hash of what it presents.
 * Every write goes through `authorize`.
 */
import { randomBytes, randomUUID, timingSafeEqual } from "node:crypto";
import { sha256Hex } from "@wasm-registry/core";
import type { Config } from "./config.js";
import { forbidden, unauthorized } from "./errors.js";
import { TOKEN_SCOPES, type MetadataStore, type TokenRecord, type TokenScope } from "./store/types.js";

export interface Identity {
  tokenId: string;
  /** Null for the admin, who may write anywhere. */
  namespace: string | null;
  scopes: readonly TokenScope[];
}

/** How often one server writes a token's last_used_at: the list may lag by this much. */
export const LAST_USED_WRITE_SECONDS = 60;

/** A new secret: 32 random bytes, prefixed so that secret scanners can spot a leaked one. */
export function newTokenSecret(): string {
  return `wcr_${randomBytes(32).toString("base64url")}`;
}

export function tokenRecord(
  secret: string,
  namespace: string | null,
  source: TokenRecord["source"],
  options: { scopes?: readonly TokenScope[]; expiresAt?: number | null; now?: number } = {},
): TokenRecord {
  return {
    id: randomUUID(),
    namespace,
    hash: sha256Hex(secret),
    source,
    createdAt: options.now ?? Math.floor(Date.now() / 1000),
    scopes: [...new Set(options.scopes ?? TOKEN_SCOPES)].sort(),
    expiresAt: options.expiresAt ?? null,
    revokedAt: null,
    lastUsedAt: null,
  };
}

/**
 * Puts the environment's tokens in the store. With none configured and none
 * stored, creates an admin token and returns its secret, to be shown once.
 */
export async function bootstrapTokens(config: Config, store: MetadataStore): Promise<string | undefined> {
  const fromEnv: TokenRecord[] = config.namespaceTokens.map((t) => tokenRecord(t.token, t.namespace, "env"));
  if (config.adminToken) fromEnv.push(tokenRecord(config.adminToken, null, "env"));
  await store.replaceEnvTokens(fromEnv);
  if (fromEnv.length > 0 || (await store.countTokens()) > 0) return undefined;
  const secret = newTokenSecret();
  await store.insertToken(tokenRecord(secret, null, "generated"));
  return secret;
}

export class Authenticator {
  /** Per token id: the last use seen by this server, and when this server last wrote one. */
  private readonly lastUsed = new Map<string, number>();
  private readonly lastWritten = new Map<string, number>();

  constructor(
    private readonly store: MetadataStore,
    /** Unix seconds; a test may move time. */
    private readonly now: () => number = () => Math.floor(Date.now() / 1000),
    private readonly onError: (error: unknown) => void = () => {},
  ) {}

  /** Who presents this Authorization header; 401 when nobody we know. */
  async identify(authorization: string | undefined): Promise<Identity> {
    if (!authorization) {
      throw unauthorized("this request needs a token: send Authorization: Bearer <token> (run v2 publish --token, or RUN_AUTH_TOKEN)");
    }
    const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization);
    if (!match) throw unauthorized("the Authorization header must be Bearer <token>");
    const presentedHash = sha256Hex(match[1]!);
    const token = await this.store.findTokenByHash(presentedHash);
    // The lookup is by hash, so its timing tells nothing about the secret; the
    // constant-time comparison guards against a store that matches loosely.
    if (!token || !timingSafeEqual(Buffer.from(token.hash, "hex"), Buffer.from(presentedHash, "hex"))) {
      throw unauthorized("the token is not known to this registry; ask its administrator for a valid one");
    }
    const now = this.now();
    if (token.revokedAt !== null) {
      throw unauthorized("the token was revoked; ask the registry's administrator for a new one (run v2 token create)");
    }
    if (token.expiresAt !== null && token.expiresAt <= now) {
      throw unauthorized(
        `the token expired at ${new Date(token.expiresAt * 1000).toISOString()}; ask the registry's administrator for a new one`,
      );
    }
    return { tokenId: token.id, namespace: token.namespace, scopes: token.scopes };
  }

  /**
   * Records that a request with this identity succeeded (called once it has:
   * a refused request changes nothing stored, not even last_used_at).
   * Remembered in memory and written at most once a minute per token, so that
   * a busy token costs no database write per request.
   */
  used(identity: Identity): void {
    const id = identity.tokenId;
    const now = this.now();
    this.lastUsed.set(id, Math.max(now, this.lastUsed.get(id) ?? 0));
    const written = this.lastWritten.get(id);
    if (written !== undefined && now - written < LAST_USED_WRITE_SECONDS) return;
    this.lastWritten.set(id, now);
    this.store.touchToken(id, now).catch(this.onError);
  }

  /** The last use of a token as this server knows it: its own memory or the store, whichever is later. */
  lastUsedAt(token: TokenRecord): number | null {
    const seen = this.lastUsed.get(token.id);
    if (seen === undefined) return token.lastUsedAt;
    return Math.max(seen, token.lastUsedAt ?? 0);
  }

  /** Writes every use not yet written (at shutdown). */
  async flushUses(): Promise<void> {
    const pending = [...this.lastUsed].filter(([id, at]) => (this.lastWritten.get(id) ?? 0) < at);
    for (const [id, at] of pending) {
      this.lastWritten.set(id, at);
      await this.store.touchToken(id, at);
    }
  }

  /**
   * The one check every write passes: may this identity do `scope` in this
   * namespace? The admin may do anything anywhere; a namespace token needs
   * the namespace and the scope.
   */
  authorize(identity: Identity, namespace: string, scope: TokenScope): void {
    if (identity.namespace !== null && identity.namespace !== namespace) {
      throw forbidden(
        `this token may ${scope === "publish" ? "publish only into" : "yank only in"} the namespace "${identity.namespace}", not "${namespace}"; ` +
          `use a token for "${namespace}" or an admin token`,
      );
    }
    if (!identity.scopes.includes(scope)) {
      throw forbidden(
        `this token lacks the "${scope}" scope (it has: ${identity.scopes.join(", ") || "none"}); ` +
          `ask the registry's administrator for a token with it (run v2 token create --scope ${scope})`,
      );
    }
  }

  /** Token management is for the admin alone. */
  requireAdmin(identity: Identity): void {
    if (identity.namespace !== null) {
      throw forbidden(`only an admin token may manage tokens; this one belongs to the namespace "${identity.namespace}"`);
    }
  }
}
