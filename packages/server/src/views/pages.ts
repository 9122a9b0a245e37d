/** The HTML pages: server-rendered, no JavaScript needed. */
import { formatBytes } from "@wasm-registry/core";
import type { PackageDetail, PackageSummary, StoreStats } from "../store/types.js";
import { type Html, html, safeHref } from "./html.js";
import { STYLESHEET_HREF } from "./style.js";
import { formatCount, formatDate } from "./format.js";

function browseHref(name: string): string {
  return `/browse/${encodeURIComponent(name)}`;
}

function layout(title: string, body: Html): string {
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title}</title>
<link rel="stylesheet" href="${STYLESHEET_HREF}">
</head>
<body>
<header><div class="bar"><a class="brand" href="/">WASI component registry</a>
<nav><a href="/browse">Browse</a><a href="/api/v1/stats">API</a></nav></div></header>
<main>
${body}
</main>
</body>
</html>
`.text;
}

function searchForm(query: string, imports = "", exports = ""): Html {
  return html`<form class="search" action="/browse" method="get" role="search">
<input type="search" name="q" value="${query}" placeholder="Search packages by name or description" aria-label="Search packages">
<input type="text" name="import" value="${imports}" placeholder="imports, e.g. wasi:http/outgoing-handler" aria-label="Imports interface">
<input type="text" name="export" value="${exports}" placeholder="exports, e.g. wasi:cli/run" aria-label="Exports interface">
<button type="submit">Search</button>
</form>`;
}

function packageList(items: readonly PackageSummary[]): Html {
  if (items.length === 0) return html`<p class="muted">No packages found.</p>`;
  return html`<ul class="packages">${items.map(
    ({ latest, downloads }) => html`<li>
<a class="name" href="${browseHref(latest.name)}">${latest.name}</a> <span class="muted">${latest.version}</span>
<div>${latest.description ?? ""}</div>
<div class="meta"><span>${formatCount(downloads)} downloads</span><span>updated ${formatDate(latest.publishedAt)}</span></div>
</li>`,
  )}</ul>`;
}

export function homePage(stats: StoreStats, popular: readonly PackageSummary[], publicUrl: string): string {
  return layout(
    "WASI component registry",
    html`<h1>Publish, share and install WASI components</h1>
<p>Components are named <code>namespace:package@version</code>. Install one with <code>run v2 install wasi:http@0.2.0</code>.</p>
${searchForm("")}
<div class="stats">
<div><strong>${formatCount(stats.packageCount)}</strong>packages</div>
<div><strong>${formatCount(stats.versionCount)}</strong>versions</div>
<div><strong>${formatCount(stats.downloadCount)}</strong>downloads</div>
</div>
<h2>Most downloaded</h2>
${packageList(popular)}
<p><a href="/browse">Browse all packages</a></p>
<h2>Use this registry</h2>
<pre class="install">export RUN_REGISTRY_URL=${publicUrl}
run v2 install namespace:package@1.0.0</pre>`,
  );
}

export interface BrowseView {
  query: string;
  /** Interface filters; empty when not given. */
  imports: string;
  exports: string;
  items: readonly PackageSummary[];
  total: number;
  offset: number;
  limit: number;
}

export function browsePage(view: BrowseView): string {
  const { query, imports, exports, items, total, offset, limit } = view;
  const params = (start: number) => {
    const search = new URLSearchParams({ q: query });
    if (imports) search.set("import", imports);
    if (exports) search.set("export", exports);
    search.set("offset", String(start));
    return search;
  };
  const pageHref = (start: number) => `/browse?${params(start)}`;
  const filters = [imports && `importing ${imports}`, exports && `exporting ${exports}`].filter(Boolean).join(" and ");
  const heading = query
    ? html`Results for “${query}”${filters ? ` ${filters}` : ""}`
    : filters
      ? html`Packages ${filters}`
      : html`All packages`;
  return layout(
    query || filters ? `Search: ${[query, filters].filter(Boolean).join(" ")}` : "Browse packages",
    html`<h1>${heading}</h1>
${searchForm(query, imports, exports)}
<p class="muted">${formatCount(total)} ${total === 1 ? "package" : "packages"}</p>
${packageList(items)}
<div class="pager">
${offset > 0 ? html`<a href="${pageHref(Math.max(0, offset - limit))}">← Previous</a>` : ""}
${offset + items.length < total ? html`<a href="${pageHref(offset + limit)}">Next →</a>` : ""}
</div>`,
  );
}

export function packagePage(detail: PackageDetail): string {
  const { latest, downloads, versions } = detail;
  const repository = safeHref(latest.repository);
  return layout(
    `${latest.name} — WASI component registry`,
    html`<h1>${latest.name}</h1>
<p>${latest.description ?? html`<span class="muted">No description.</span>`}</p>
<pre class="install">run v2 install ${latest.name}@${latest.version}</pre>
<dl class="facts">
<dt>Latest version</dt><dd>${latest.version}${latest.yanked ? " (yanked: every version is)" : ""}</dd>
<dt>License</dt><dd>${latest.license ?? "not given"}</dd>
<dt>Repository</dt><dd>${repository ? html`<a href="${repository}" rel="nofollow noopener">${latest.repository}</a>` : "not given"}</dd>
<dt>Downloads</dt><dd>${formatCount(downloads)}</dd>
<dt>Targets</dt><dd>${latest.targets.join(", ")}</dd>
<dt>SHA-256</dt><dd><code>${latest.sha256}</code></dd>
</dl>
<h2>Dependencies</h2>
${
  latest.dependencies.length === 0
    ? html`<p class="muted">None.</p>`
    : html`<ul>${latest.dependencies.map(
        (dep) => html`<li><a href="${browseHref(dep.name)}">${dep.name}</a> <code>${dep.version}</code>${dep.optional ? " (optional)" : ""}</li>`,
      )}</ul>`
}
${worldSection(latest)}
<h2>Versions</h2>
<table>
<thead><tr><th>Version</th><th>Published</th><th>Size</th><th>Downloads</th><th>Install</th></tr></thead>
<tbody>${versions.map(
      (v) => html`<tr${v.yanked ? html` class="yanked"` : ""}><td>${v.version}${v.yanked ? html` <span class="badge" title="still downloadable for lockfiles that pin it; skipped when resolving a range">yanked</span>` : ""}</td><td>${formatDate(v.publishedAt)}</td><td>${formatBytes(v.size)}</td>
<td>${formatCount(v.downloads)}</td><td><code>run v2 install ${v.name}@${v.version}</code></td></tr>`,
    )}</tbody>
</table>`,
  );
}

function interfaceList(direction: "import" | "export", names: readonly string[]): Html {
  if (names.length === 0) return html`<p class="muted">None.</p>`;
  return html`<ul class="interfaces">${names.map(
    (name) => html`<li><a href="${`/browse?${new URLSearchParams({ [direction]: name })}`}"><code>${name}</code></a></li>`,
  )}</ul>`;
}

/** What the latest version imports and exports, and its WIT, as found at publish. */
function worldSection(latest: PackageSummary["latest"]): Html {
  if (!latest.world) return html``;
  const kind = latest.kind === "module" ? "core module (wasm32-wasip1)" : "component";
  return html`<h2>World</h2>
<p class="muted">A ${kind}${
    latest.producers?.language ? `, written in ${latest.producers.language.map((tool) => tool.name).join(", ")}` : ""
  }.</p>
<h3>Imports</h3>
${interfaceList("import", latest.world.imports)}
<h3>Exports</h3>
${interfaceList("export", latest.world.exports)}
${typeof latest.wit === "string" ? html`<h3>WIT</h3>
<pre class="wit">${latest.wit}</pre>` : ""}`;
}

export function notFoundPage(message: string): string {
  return layout("Not found", html`<h1>Not found</h1><p>${message}</p>${searchForm("")}`);
}

export function errorPage(title: string, message: string): string {
  return layout(title, html`<h1>${title}</h1><p>${message}</p><p><a href="/browse">Browse packages</a></p>`);
}
