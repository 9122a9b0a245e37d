/** The one stylesheet, served from /assets/style.css so pages need no inline style. */
import { sha256Hex } from "@wasm-registry/core";

export const STYLESHEET = `
:root { --fg: #1d1d1f; --muted: #5f6368; --line: #e3e3e8; --accent: #654ff0; --bg: #fafafc; }
* { box-sizing: border-box; }
body { margin: 0; font: 16px/1.5 system-ui, -apple-system, "Segoe UI", sans-serif; color: var(--fg); background: var(--bg); }
header { background: #fff; border-bottom: 1px solid var(--line); }
header .bar { max-width: 960px; margin: 0 auto; padding: 12px 20px; display: flex; gap: 20px; align-items: center; }
header a.brand { font-weight: 700; color: var(--fg); text-decoration: none; }
header nav a { color: var(--muted); text-decoration: none; margin-right: 14px; }
main { max-width: 960px; margin: 0 auto; padding: 24px 20px 60px; }
a { color: var(--accent); }
h1 { font-size: 1.7rem; margin: 0.2em 0 0.4em; }
h2 { font-size: 1.15rem; margin-top: 2em; }
form.search { display: flex; gap: 8px; margin: 16px 0 24px; }
form.search input { flex: 1; min-width: 0; padding: 9px 12px; border: 1px solid var(--line); border-radius: 6px; font-size: 1rem; }
form.search input[type=search] { flex: 2; }
form.search button { padding: 9px 16px; border: 0; border-radius: 6px; background: var(--accent); color: #fff; font-size: 1rem; }
ul.packages { list-style: none; padding: 0; margin: 0; }
ul.packages li { background: #fff; border: 1px solid var(--line); border-radius: 8px; padding: 12px 16px; margin-bottom: 10px; }
ul.packages .name { font-weight: 600; font-size: 1.05rem; }
.meta, .muted { color: var(--muted); font-size: 0.9rem; }
.meta span + span::before { content: " · "; }
code, pre { font-family: ui-monospace, "SF Mono", Menlo, monospace; font-size: 0.9rem; }
pre.install { background: #1d1d1f; color: #f5f5f7; padding: 12px 16px; border-radius: 6px; overflow-x: auto; }
table { border-collapse: collapse; width: 100%; background: #fff; }
th, td { text-align: left; padding: 8px 10px; border-bottom: 1px solid var(--line); }
th { font-weight: 600; font-size: 0.9rem; color: var(--muted); }
dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: 6px 16px; }
dl.facts dt { color: var(--muted); }
dl.facts dd { margin: 0; word-break: break-all; }
.stats { display: flex; gap: 28px; margin: 16px 0; }
.stats div strong { display: block; font-size: 1.5rem; }
.pager { display: flex; gap: 16px; margin-top: 16px; }
tr.yanked td { color: #888; }
.badge { font-size: .75rem; padding: 1px 6px; border-radius: 8px; background: #fde8e8; color: #a12; }
`;

/** Pages link the stylesheet by its digest, so browsers may cache it for good and still see a new one. */
export const STYLESHEET_HREF = `/assets/style.css?v=${sha256Hex(STYLESHEET).slice(0, 12)}`;
