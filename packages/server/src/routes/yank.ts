/**
 * Yank and unyank: `POST /api/v1/packages/:name/:version/yank` and `…/unyank`.
 * A yanked version is never deleted: it keeps downloading, so that lockfiles
 * that pin it keep working; it is only marked, and skipped when a client
 * resolves a range and when the registry picks a package's latest version.
 * Allowed to the namespace's tokens with the "yank" scope and to the admin.
 */
import type { FastifyInstance } from "fastify";
import { parseName } from "@wasm-registry/core";
import { notFound } from "../errors.js";
import { toVersionMetadata } from "../version-metadata.js";
import { versionNotFound } from "./api.js";
import type { RouteContext } from "./context.js";
import { checkName, checkVersion, pathAfter, splitNamePath } from "./name-path.js";

const PREFIX = "/api/v1/packages/";
const ACTIONS = new Map([
  ["yank", true],
  ["unyank", false],
]);

export function yankRoutes(app: FastifyInstance, context: RouteContext): void {
  const { auth, config, stores, metadataCache } = context;

  app.post("/api/v1/packages/*", async (request, reply) => {
    reply.header("cache-control", "no-store");
    const parts = splitNamePath(pathAfter(request.url, PREFIX), 2);
    const yanked = parts && ACTIONS.get(parts.tail[1]!);
    if (!parts || yanked === undefined) {
      throw notFound("not_found", "expected POST /api/v1/packages/NAMESPACE:PACKAGE/VERSION/yank or …/unyank");
    }
    const identity = await auth.identify(request.headers.authorization);
    const name = checkName(parts.name);
    const version = checkVersion(parts.tail[0]!);
    auth.authorize(identity, parseName(name).namespace, "yank");
    if (!(await stores.metadata.setYanked(name, version, yanked))) throw await versionNotFound(context, name, version);
    metadataCache.forget(name, version);
    auth.used(identity);
    request.log.info({ package: name, version, yanked }, yanked ? "yanked" : "unyanked");
    const record = await stores.metadata.getVersion(name, version);
    if (!record) throw await versionNotFound(context, name, version);
    return toVersionMetadata(record, config.publicUrl);
  });
}
