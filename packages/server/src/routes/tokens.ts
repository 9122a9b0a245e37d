/**
 * Token management, for the admin alone: create (the secret is answered this
 * once and stored only as its SHA-256), list (never a secret nor a hash) and
 * revoke. Every answer, errors included, is Cache-Control: no-store.
 */
import type { FastifyInstance } from "fastify";
import type { CreatedToken, TokenInfo, TokenList } from "@wasm-registry/core";
import { type Authenticator, newTokenSecret, tokenRecord } from "../auth.js";
import { badRequest, conflict, notFound } from "../errors.js";
import { TOKEN_SCOPES, type TokenRecord, type TokenScope } from "../store/types.js";
import type { RouteContext } from "./context.js";

const NAMESPACE = /^[a-z][a-z0-9]*(?:-[a-z][a-z0-9]*)*$/;
const MAX_NAMESPACE_LENGTH = 64;
const MAX_DAYS = 3650;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const FIELDS = new Set(["namespace", "scopes", "expires_at", "expires_in_days"]);

export function tokenInfo(token: TokenRecord, auth: Authenticator): TokenInfo {
  return {
    id: token.id,
    namespace: token.namespace,
    scopes: token.scopes,
    created_at: token.createdAt,
    last_used_at: auth.lastUsedAt(token),
    expires_at: token.expiresAt,
    source: token.source,
  };
}

interface NewToken {
  namespace: string;
  scopes: TokenScope[];
  expiresAt: number | null;
}

/** The body of POST /api/v1/tokens, checked field by field; each problem is a 400 that names it. */
export function parseNewToken(body: unknown, now: number): NewToken {
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    throw badRequest(
      "invalid_body",
      'send a JSON object with Content-Type: application/json, e.g. {"namespace": "alice", "scopes": ["publish", "yank"], "expires_in_days": 90}',
    );
  }
  const fields = body as Record<string, unknown>;
  for (const key of Object.keys(fields)) {
    if (!FIELDS.has(key)) throw badRequest("unknown_field", `"${key}" is not a field of a new token; the fields are ${[...FIELDS].join(", ")}`);
  }

  const namespace = fields.namespace;
  if (namespace === undefined) throw badRequest("missing_namespace", '"namespace" is required: the namespace the token may act in, e.g. "alice"');
  if (typeof namespace !== "string" || namespace.length > MAX_NAMESPACE_LENGTH || !NAMESPACE.test(namespace)) {
    throw badRequest(
      "invalid_namespace",
      `"namespace" must be a namespace in lowercase kebab-case words of at most ${MAX_NAMESPACE_LENGTH} characters, e.g. "my-org"`,
    );
  }

  let scopes: TokenScope[] = [...TOKEN_SCOPES];
  if (fields.scopes !== undefined) {
    const given = fields.scopes;
    if (!Array.isArray(given) || given.length === 0) {
      throw badRequest("invalid_scopes", `"scopes" must be a non-empty array of ${TOKEN_SCOPES.map((s) => `"${s}"`).join(", ")}`);
    }
    for (const scope of given) {
      if (typeof scope !== "string" || !(TOKEN_SCOPES as readonly string[]).includes(scope)) {
        throw badRequest("invalid_scopes", `${JSON.stringify(scope)} is not a scope; the scopes are ${TOKEN_SCOPES.join(", ")}`);
      }
    }
    if (new Set(given).size !== given.length) throw badRequest("invalid_scopes", `"scopes" names a scope twice`);
    scopes = [...(given as TokenScope[])].sort();
  }

  const { expires_at: at, expires_in_days: days } = fields;
  if (at !== undefined && at !== null && days !== undefined && days !== null) {
    throw badRequest("invalid_expiry", 'give "expires_at" or "expires_in_days", not both');
  }
  let expiresAt: number | null = null;
  if (days !== undefined && days !== null) {
    if (typeof days !== "number" || !Number.isInteger(days) || days < 1 || days > MAX_DAYS) {
      throw badRequest("invalid_expiry", `"expires_in_days" must be a whole number from 1 to ${MAX_DAYS}`);
    }
    expiresAt = now + days * 86_400;
  } else if (at !== undefined && at !== null) {
    if (typeof at !== "number" || !Number.isInteger(at)) {
      throw badRequest("invalid_expiry", '"expires_at" must be a time in unix seconds, a whole number');
    }
    if (at <= now) throw badRequest("invalid_expiry", `"expires_at" (${at}) is not in the future; now is ${now}`);
    if (at > now + MAX_DAYS * 86_400) throw badRequest("invalid_expiry", `"expires_at" is more than ${MAX_DAYS} days away`);
    expiresAt = at;
  }
  return { namespace, scopes, expiresAt };
}

export function tokenRoutes(app: FastifyInstance, context: RouteContext): void {
  const { auth, stores } = context;
  const { metadata } = stores;
  const now = () => Math.floor(Date.now() / 1000);

  void app.register(async (scope) => {
    // Per-identity answers, and one of them holds a secret: no cache may keep any.
    scope.addHook("onRequest", async (_request, reply) => {
      reply.header("cache-control", "no-store");
    });

    scope.post("/api/v1/tokens", async (request, reply) => {
      const admin = await auth.identify(request.headers.authorization);
      auth.requireAdmin(admin);
      const wanted = parseNewToken(request.body, now());
      const secret = newTokenSecret();
      const record = tokenRecord(secret, wanted.namespace, "api", { scopes: wanted.scopes, expiresAt: wanted.expiresAt, now: now() });
      await metadata.insertToken(record);
      auth.used(admin);
      request.log.info({ tokenId: record.id, namespace: record.namespace }, "token created");
      return reply.code(201).send({ token: secret, ...tokenInfo(record, auth) } satisfies CreatedToken);
    });

    scope.get("/api/v1/tokens", async (request): Promise<TokenList> => {
      const admin = await auth.identify(request.headers.authorization);
      auth.requireAdmin(admin);
      auth.used(admin);
      const tokens = await metadata.listTokens();
      return { tokens: tokens.filter((token) => token.revokedAt === null).map((token) => tokenInfo(token, auth)) };
    });

    scope.delete("/api/v1/tokens/:id", async (request) => {
      const admin = await auth.identify(request.headers.authorization);
      auth.requireAdmin(admin);
      const { id } = request.params as { id: string };
      if (!UUID.test(id)) throw badRequest("invalid_token_id", `"${id.slice(0, 64)}" is not a token id; ids look like 123e4567-e89b-12d3-a456-426614174000 (see GET /api/v1/tokens)`);
      const token = await metadata.findTokenById(id);
      if (!token || token.revokedAt !== null) {
        throw notFound("token_not_found", `no live token has the id ${id}${token ? " (it was already revoked)" : ""}; see GET /api/v1/tokens`);
      }
      if (token.source === "env") {
        throw conflict(
          "env_token",
          "this token comes from REGISTRY_TOKENS or REGISTRY_ADMIN_TOKEN and would come back at the next start; remove it from the environment and restart the servers",
        );
      }
      if (!(await metadata.revokeToken(id, now()))) throw notFound("token_not_found", `no live token has the id ${id}`);
      auth.used(admin);
      request.log.info({ tokenId: id }, "token revoked");
      return { ...tokenInfo(token, auth), revoked_at: now() };
    });
  });
}
