/** The HTML pages: home, package list with search, and one page per package. */
import type { FastifyInstance } from "fastify";
import { nameProblem } from "@wasm-registry/core";
import { RegistryError } from "../errors.js";
import { browsePage, homePage, packagePage } from "../views/pages.js";
import { STYLESHEET } from "../views/style.js";
import type { RouteContext } from "./context.js";
import { pathAfter } from "./name-path.js";
import { MAX_QUERY_LENGTH, MAX_SEARCH_OFFSET, interfaceParams, intParam, textParam } from "./query.js";

const PAGE_SIZE = 25;
const HTML = "text/html; charset=utf-8";

/** Errors on page routes render as HTML (see app.ts). */
export class PageError extends RegistryError {}

export function browseRoutes(app: FastifyInstance, context: RouteContext): void {
  const { config, stores, downloads } = context;

  app.get("/assets/style.css", async (_request, reply) =>
    reply.type("text/css; charset=utf-8").header("cache-control", "public, max-age=31536000, immutable").send(STYLESHEET),
  );

  app.get("/", async (_request, reply) => {
    await downloads.flush();
    const [stats, popular] = await Promise.all([stores.metadata.stats(), stores.metadata.searchPackages("", 10, 0)]);
    return reply.type(HTML).send(homePage(stats, popular.items, config.publicUrl));
  });

  app.get("/browse", async (request, reply) => {
    const query = request.query as Record<string, string | string[] | undefined>;
    let q: string, offset: number, filter: ReturnType<typeof interfaceParams>;
    try {
      q = textParam(query, "q", MAX_QUERY_LENGTH);
      offset = intParam(query, "offset", 0, 0, MAX_SEARCH_OFFSET);
      filter = interfaceParams(query);
    } catch (error) {
      throw new PageError(400, "invalid_query", (error as Error).message);
    }
    await downloads.flush();
    const page =
      filter.imports || filter.exports
        ? await stores.metadata.searchByInterface(filter, q, PAGE_SIZE, offset)
        : await stores.metadata.searchPackages(q, PAGE_SIZE, offset);
    return reply.type(HTML).send(
      browsePage({
        query: q,
        imports: filter.imports ?? "",
        exports: filter.exports ?? "",
        items: page.items,
        total: page.total,
        offset,
        limit: PAGE_SIZE,
      }),
    );
  });

  app.get("/browse/*", async (request, reply) => {
    let name: string;
    try {
      name = decodeURIComponent(pathAfter(request.url, "/browse/"));
    } catch {
      throw new PageError(400, "invalid_name", "that address is not valid percent-encoding");
    }
    const problem = nameProblem(name);
    if (problem) throw new PageError(404, "package_not_found", `There is no package here by that name: ${problem}.`);
    await downloads.flush();
    const detail = await stores.metadata.getPackage(name);
    if (!detail) throw new PageError(404, "package_not_found", `No package named ${name} has been published here.`);
    return reply.type(HTML).send(packagePage(detail));
  });
}
