import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { type RunningRegistry, componentBytes, publish, startRegistry } from "../testkit/helpers.js";

describe("HTML pages", () => {
  let server: RunningRegistry;
  const hostile = `<script>alert("x")</script> & 'quotes'`;

  before(async () => {
    server = await startRegistry();
    const fields = {
      name: "alice:calc",
      version: "1.2.0",
      description: hostile,
      license: "<b>MIT</b>",
      repository: "https://example.com/a?b=<c>&d=\"e\"",
      dependencies: JSON.stringify([{ name: "bob:math", version: ">=1.0.0 <2.0.0", optional: true }]),
    };
    assert.equal((await publish(server.url, componentBytes(1), { fields: { ...fields, version: "1.0.0" } })).status, 201);
    assert.equal((await publish(server.url, componentBytes(2), { fields })).status, 201);
    assert.equal((await publish(server.url, componentBytes(3), { fields: { name: "bob:math", version: "1.0.0", description: "Arithmetic" } })).status, 201);
  });
  after(() => server.stop());

  const page = async (path: string) => {
    const response = await fetch(`${server.url}${path}`, { headers: { accept: "text/html" } });
    return { status: response.status, type: response.headers.get("content-type"), body: await response.text() };
  };

  it("/ is a home page with stats and a search box", async () => {
    const { status, type, body } = await page("/");
    assert.equal(status, 200);
    assert.equal(type, "text/html; charset=utf-8");
    assert.match(body, /<form class="search" action="\/browse" method="get"/);
    assert.match(body, /<strong>2<\/strong>packages/);
    assert.match(body, /<strong>3<\/strong>versions/);
  });

  it("/browse lists packages with latest version, description and downloads", async () => {
    const { status, body } = await page("/browse");
    assert.equal(status, 200);
    assert.match(body, /<a class="name" href="\/browse\/alice%3Acalc">alice:calc<\/a> <span class="muted">1\.2\.0<\/span>/);
    assert.match(body, /Arithmetic/);
    assert.match(body, /0 downloads/);
    assert.match(body, /2 packages/);
  });

  it("/browse?q= asks the server and shows only the hits", async () => {
    const { body } = await page("/browse?q=arith");
    assert.match(body, /bob:math/);
    assert.doesNotMatch(body, /alice:calc<\/a>/);
    assert.match(body, /value="arith"/);
  });

  it("escapes every user-supplied text", async () => {
    for (const path of ["/browse", "/browse/alice:calc", `/browse?q=${encodeURIComponent(hostile)}`]) {
      const { body } = await page(path);
      assert.doesNotMatch(body, /<script>/, path);
      assert.doesNotMatch(body, /<b>MIT<\/b>/, path);
    }
    const { body } = await page("/browse/alice:calc");
    assert.match(body, /&lt;script&gt;alert\(&quot;x&quot;\)&lt;\/script&gt; &amp; &#39;quotes&#39;/);
    assert.match(body, /href="https:\/\/example\.com\/a\?b=%3Cc%3E&amp;d=%22e%22"/);
  });

  it("/browse/:name shows description, license, repository, versions with date and size, the install command and dependencies", async () => {
    for (const name of ["alice:calc", "alice%3Acalc"]) {
      const { status, body } = await page(`/browse/${name}`);
      assert.equal(status, 200);
      assert.match(body, /<h1>alice:calc<\/h1>/);
      assert.match(body, /run v2 install alice:calc@1\.2\.0/);
      assert.match(body, /run v2 install alice:calc@1\.0\.0/);
      assert.match(body, /&lt;b&gt;MIT&lt;\/b&gt;/);
      assert.match(body, /<td>1\.2\.0<\/td><td>\d{4}-\d\d-\d\d<\/td><td>\d+ B<\/td>/);
      assert.match(body, /<a href="\/browse\/bob%3Amath">bob:math<\/a> <code>&gt;=1\.0\.0 &lt;2\.0\.0<\/code> \(optional\)/);
      assert.ok(body.indexOf("<td>1.2.0</td>") < body.indexOf("<td>1.0.0</td>"), "newest version first");
    }
  });

  it("an unknown or malformed package name answers a 404 page", async () => {
    for (const path of ["/browse/alice:nope", "/browse/NOT%20A%20NAME", "/browse/%3Cscript%3E"]) {
      const { status, type, body } = await page(path);
      assert.equal(status, 404, path);
      assert.equal(type, "text/html; charset=utf-8");
      assert.match(body, /<h1>Not found<\/h1>/);
      assert.doesNotMatch(body, /<script>/);
    }
  });

  it("an unknown route answers HTML to a browser and JSON to everyone else", async () => {
    const html = await page("/nowhere");
    assert.equal(html.status, 404);
    assert.match(html.body, /<h1>Not found<\/h1>/);
    const json = await fetch(`${server.url}/nowhere`);
    assert.equal(json.status, 404);
    assert.equal(((await json.json()) as { error: { code: string } }).error.code, "not_found");
  });

  it("serves the stylesheet", async () => {
    const response = await fetch(`${server.url}/assets/style.css`);
    assert.equal(response.status, 200);
    assert.match(response.headers.get("content-type")!, /text\/css/);
  });
});
