/** The JSON API (wire contract: ../../../../shared/DESIGN.md §1). */
import type { FastifyInstance } from "fastify";
import type { PackageList, RegistryStats, SearchResult, VersionList } from "@wasm-registry/core";
import { notFound } from "../errors.js";
import { uptimePercent } from "../uptime.js";
import { toVersionMetadata } from "../version-metadata.js";
import type { RouteContext } from "./context.js";
import { checkName, checkVersion, pathAfter, splitNamePath } from "./name-path.js";
import { MAX_QUERY_LENGTH, MAX_SEARCH_LIMIT, MAX_SEARCH_OFFSET, interfaceParams, intParam, textParam } from "./query.js";

const PACKAGES_PREFIX = "/api/v1/packages/";

export function apiRoutes(app: FastifyInstance, context: RouteContext): void {
  const { config, stores, publisher, downloads, metadataCache } = context;
  const { metadata } = stores;

  app.get("/health", async (_request, reply) => reply.type("text/plain; charset=utf-8").send("ok"));

  app.get("/packages", async (): Promise<PackageList> => ({ packages: await metadata.listPackageNames() }));

  app.post("/api/v1/packages", async (request, reply) => {
    const record = await publisher.publish(request.raw);
    request.log.info({ package: record.name, version: record.version, size: record.size }, "published");
    return reply.code(201).header("cache-control", "no-store").send(toVersionMetadata(record, config.publicUrl));
  });

  // /api/v1/packages/:name/versions and /api/v1/packages/:name/:version
  app.get("/api/v1/packages/*", async (request, reply) => {
    // The hottest read: a path answered in the last few seconds is answered again, unparsed.
    // A GET of it usually never gets here (metadata-fast-path.ts answers it first); HEAD and
    // reads the fast path leaves to the router (a GET with a body, say) are answered here.
    const cached = metadataCache.get(request.url);
    if (cached !== undefined) return reply.type("application/json; charset=utf-8").send(cached);
    const parts = splitNamePath(pathAfter(request.url, PACKAGES_PREFIX), 1);
    if (!parts) {
      throw notFound("not_found", "expected /api/v1/packages/NAMESPACE:PACKAGE/versions or /api/v1/packages/NAMESPACE:PACKAGE/VERSION");
    }
    const name = checkName(parts.name);
    const last = parts.tail[0]!;
    if (last === "versions") {
      const versions = await metadata.listVersions(name);
      if (!versions) throw notFound("package_not_found", `no package named ${name} has been published here`);
      return { name, versions, yanked: await metadata.yankedVersions(name) } satisfies VersionList;
    }
    const version = checkVersion(last);
    const record = await metadata.getVersion(name, version);
    if (!record) throw await versionNotFound(context, name, version);
    const json = Buffer.from(JSON.stringify(toVersionMetadata(record, config.publicUrl)));
    metadataCache.set(request.url, name, version, json);
    return reply.type("application/json; charset=utf-8").send(json);
  });

  app.get("/api/v1/search", async (request): Promise<SearchResult> => {
    const query = request.query as Record<string, string | string[] | undefined>;
    const q = textParam(query, "q", MAX_QUERY_LENGTH);
    const limit = intParam(query, "limit", 20, 1, MAX_SEARCH_LIMIT);
    const offset = intParam(query, "offset", 0, 0, MAX_SEARCH_OFFSET);
    const filter = interfaceParams(query);
    await downloads.flush(); // ranking uses download counts
    const page =
      filter.imports || filter.exports
        ? await metadata.searchByInterface(filter, q, limit, offset)
        : await metadata.searchPackages(q, limit, offset);
    return {
      packages: page.items.map((summary) => toVersionMetadata(summary.latest, config.publicUrl)),
      total: page.total,
    };
  });

  app.get("/api/v1/stats", async (): Promise<RegistryStats> => {
    await downloads.flush();
    const stats = await metadata.stats();
    return {
      package_count: stats.packageCount,
      version_count: stats.versionCount,
      download_count: stats.downloadCount,
      uptime_percent: uptimePercent(stats.uptime, Math.floor(Date.now() / 1000)),
    };
  });
}

/** A 404 that says whether the package or only that version is missing. */
export async function versionNotFound(context: RouteContext, name: string, version: string) {
  const versions = await context.stores.metadata.listVersions(name);
  if (!versions) return notFound("package_not_found", `no package named ${name} has been published here`);
  return notFound(
    "version_not_found",
    `${name} has no version ${version}; published versions: ${versions.slice(-10).join(", ")}`,
  );
}
