/**
 * login, logout, token and yank, end to end: the real CLI as a child process
 * against a real registry on loopback, with HOME in a temporary folder.
 */
import assert from "node:assert/strict";
import fs from "node:fs/promises";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { parseLockfile } from "@wasm-registry/core";
import {
  ADMIN_TOKEN,
  ALICE_TOKEN,
  BOB_TOKEN,
  componentBytes,
  deadUrl,
  makeProject,
  noStack,
  publishAll,
  runCli,
  startRegistry,
  tempDir,
} from "../testkit/helpers.js";

type Registry = Awaited<ReturnType<typeof startRegistry>>;
let registry: Registry;

before(async () => {
  registry = await startRegistry();
  await publishAll(registry.url, [
    { name: "bob:lib", version: "1.0.0" },
    { name: "bob:lib", version: "1.1.0" },
    { name: "bob:other", version: "1.0.0" },
  ]);
});
after(() => registry.stop());

const credentialsIn = (home: string) => path.join(home, ".config", "run", "credentials.toml");
const modeOf = async (file: string) => (await fs.stat(file)).mode & 0o777;

/** A publishable project of namespace `alice`, its component built. */
async function aliceProject(version: string, extra = "") {
  const p = await makeProject(
    `[project]\nname = "alice"\nversion = "${version}"\n\n[[component]]\nname = "calc"\npath = "calc.wasm"\n${extra}`,
  );
  await fs.writeFile(path.join(p.dir, "calc.wasm"), componentBytes(Number(version.replaceAll(".", "")) + 7000));
  return p;
}

describe("login and logout", () => {
  test("login reads the token from standard input into a 0600 file per registry; publish uses it after --token and the environment", async () => {
    const p = await aliceProject("1.0.0", '\n[registry]\nauth_token = "a-wrong-token-in-run-toml"\n');
    const login = await runCli(["v2", "login", "--registry-url", `${registry.url}/`], { cwd: p.dir, cache: p.cache, input: `${ALICE_TOKEN}\nignored second line\n` });
    assert.equal(login.code, 0, login.stderr);
    const file = credentialsIn(p.cache);
    assert.match(login.stdout, new RegExp(`saved the token for ${registry.url} in ${file.replaceAll(".", "\\.")}`));
    assert.equal(await modeOf(file), 0o600);
    assert.equal(await modeOf(path.dirname(file)), 0o700);
    const text = await fs.readFile(file, "utf8");
    assert.ok(text.includes(`"${registry.url}"`) && text.includes(ALICE_TOKEN), text);
    assert.equal(text.includes("ignored second line"), false);

    // The saved token beats run.toml (and so no warning about run.toml).
    const stored = await runCli(["publish", "--registry-url", registry.url], { cwd: p.dir, cache: p.cache });
    assert.equal(stored.code, 0, stored.stderr);
    assert.match(stored.stdout, /published alice:calc@1\.0\.0/);
    assert.equal(stored.stderr.includes("warning"), false, stored.stderr);

    // The environment beats the saved token; --token beats both.
    const p2 = await aliceProject("1.0.1");
    const env = await runCli(["publish", "--registry-url", registry.url], { cwd: p2.dir, cache: p.cache, env: { RUN_AUTH_TOKEN: BOB_TOKEN } });
    assert.equal(env.code, 1);
    assert.match(env.stderr, /may publish only into the namespace "bob"/);
    const flag = await runCli(["publish", "--registry-url", registry.url, "--token", ALICE_TOKEN], {
      cwd: p2.dir,
      cache: p.cache,
      env: { RUN_AUTH_TOKEN: "wcr_unknown" },
    });
    assert.equal(flag.code, 0, flag.stderr);

    // The token is for that registry only.
    const elsewhere = await runCli(["publish", "--registry-url", await deadUrl()], { cwd: (await aliceProject("1.0.2")).dir, cache: p.cache });
    assert.equal(elsewhere.code, 1);
    assert.match(elsewhere.stderr, /publishing needs a token.*run v2 login/);

    // A file someone made readable to others is made private again, with a warning.
    await fs.chmod(file, 0o644);
    const p3 = await aliceProject("1.0.3");
    const fixed = await runCli(["publish", "--registry-url", registry.url], { cwd: p3.dir, cache: p.cache });
    assert.equal(fixed.code, 0, fixed.stderr);
    assert.match(fixed.stderr, /readable by other users \(mode 644\); it is now 0600/);
    assert.equal(await modeOf(file), 0o600);

    const logout = await runCli(["logout", "--registry-url", registry.url], { cwd: p.dir, cache: p.cache });
    assert.equal(logout.code, 0, logout.stderr);
    assert.match(logout.stdout, /forgot the token/);
    assert.equal((await fs.readFile(file, "utf8")).includes(ALICE_TOKEN), false);
    assert.equal(await modeOf(file), 0o600);
    const again = await runCli(["logout", "--registry-url", registry.url], { cwd: p.dir, cache: p.cache });
    assert.match(again.stdout, /no token was saved/);
    const p4 = await aliceProject("1.0.4", '\n[registry]\nauth_token = "a-wrong-token-in-run-toml"\n');
    const fallback = await runCli(["publish", "--registry-url", registry.url], { cwd: p4.dir, cache: p.cache });
    assert.equal(fallback.code, 1, "after logout, run.toml's (wrong) token is what is left");
    assert.match(fallback.stderr, /did not accept the token/);
  });

  test("XDG_CONFIG_HOME decides the folder; --token skips standard input; a blank token is a usage error", async () => {
    const home = await tempDir("run-home-");
    const config = await tempDir("run-xdg-");
    const cwd = await tempDir("run-empty-");
    const r = await runCli(["login", "--registry-url", registry.url, "--token", ADMIN_TOKEN], { cwd, cache: home, env: { XDG_CONFIG_HOME: config } });
    assert.equal(r.code, 0, r.stderr);
    const file = path.join(config, "run", "credentials.toml");
    assert.equal(await modeOf(file), 0o600);
    assert.ok((await fs.readFile(file, "utf8")).includes(ADMIN_TOKEN));
    await assert.rejects(fs.access(credentialsIn(home)), "nothing under HOME when XDG_CONFIG_HOME is set");

    const list = await runCli(["token", "list", "--json", "--registry-url", registry.url], { cwd, cache: home, env: { XDG_CONFIG_HOME: config } });
    assert.equal(list.code, 0, list.stderr);

    for (const input of ["", "\n", "   \n"]) {
      const blank = await runCli(["login", "--registry-url", registry.url], { cwd, cache: home, input });
      assert.equal(blank.code, 2, JSON.stringify(input));
      assert.match(blank.stderr, /no token given/);
    }
    const spaced = await runCli(["login", "--registry-url", registry.url], { cwd, cache: home, input: "two words\n" });
    assert.equal(spaced.code, 2);
    assert.ok(noStack(spaced));
  });
});

describe("token", () => {
  test("create prints the secret alone, list shows it (and the environment's) without secrets, revoke stops it", async () => {
    const cwd = await tempDir("run-empty-");
    const home = await tempDir("run-home-");
    const admin = { cwd, cache: home, env: { RUN_AUTH_TOKEN: ADMIN_TOKEN } };
    const made = await runCli(["v2", "token", "create", "--namespace", "carol", "--scope", "yank", "--expires-in-days", "7", "--registry-url", registry.url], admin);
    assert.equal(made.code, 0, made.stderr);
    const secret = made.stdout.trim();
    assert.match(secret, /^wcr_\S+$/, "stdout is the secret alone");
    assert.match(made.stderr, /created token [0-9a-f-]{36} for carol \(scopes: yank; expires: \d{4}-/);

    const listed = await runCli(["token", "list", "--json", "--registry-url", registry.url], admin);
    assert.equal(listed.code, 0, listed.stderr);
    assert.equal(listed.stdout.includes(secret), false);
    const tokens = JSON.parse(listed.stdout) as { id: string; namespace: string | null; scopes: string[]; source: string }[];
    const carol = tokens.find((t) => t.namespace === "carol");
    assert.ok(carol);
    assert.deepEqual(carol.scopes, ["yank"]);
    assert.deepEqual(
      tokens.filter((t) => t.source === "env").map((t) => t.namespace ?? "admin").sort(),
      ["admin", "alice", "bob"],
    );
    const table = await runCli(["token", "list", "--registry-url", registry.url], admin);
    assert.match(table.stdout, /^ID\s+NAMESPACE\s+SCOPES\s+SOURCE\s+CREATED\s+LAST USED\s+EXPIRES$/m);
    assert.match(table.stdout, new RegExp(`^${carol.id}\\s+carol\\s+yank\\s+api\\s`, "m"));
    assert.match(table.stdout, /\* \(admin\)\s+publish,yank\s+env/);

    // The new token works for what its scope allows, and nothing else.
    const p = await makeProject('[project]\nname = "carol"\nversion = "1.0.0"\n\n[[component]]\nname = "x"\npath = "x.wasm"\n');
    await fs.writeFile(path.join(p.dir, "x.wasm"), componentBytes(8800));
    const publish = await runCli(["publish", "--registry-url", registry.url, "--token", secret], { ...p, cwd: p.dir });
    assert.equal(publish.code, 1);
    assert.match(publish.stderr, /lacks the "publish" scope/);

    const revoked = await runCli(["token", "revoke", carol.id, "--registry-url", registry.url], admin);
    assert.equal(revoked.code, 0, revoked.stderr);
    assert.match(revoked.stdout, new RegExp(`revoked token ${carol.id}`));
    const after = JSON.parse((await runCli(["token", "list", "--json", "--registry-url", registry.url], admin)).stdout) as { id: string }[];
    assert.equal(after.some((t) => t.id === carol.id), false);
    const twice = await runCli(["token", "revoke", carol.id, "--registry-url", registry.url], admin);
    assert.equal(twice.code, 1);
    assert.match(twice.stderr, /answered 404: .*already revoked/);
    const yank = await runCli(["yank", "bob:lib@1.0.0", "--registry-url", registry.url, "--token", secret], { cwd, cache: home });
    assert.equal(yank.code, 1);
    assert.match(yank.stderr, /revoked/);
  });

  test("a namespace token may not manage tokens; bad options are usage errors", async () => {
    const cwd = await tempDir("run-empty-");
    const alice = { cwd, cache: cwd, env: { RUN_AUTH_TOKEN: ALICE_TOKEN } };
    const list = await runCli(["token", "list", "--registry-url", registry.url], alice);
    assert.equal(list.code, 1);
    assert.match(list.stderr, /answered 403: only an admin token/);
    const scope = await runCli(["token", "create", "--namespace", "x", "--scope", "delete", "--registry-url", registry.url], alice);
    assert.equal(scope.code, 2);
    assert.match(scope.stderr, /--scope must be publish or yank/);
    const days = await runCli(["token", "create", "--namespace", "x", "--expires-in-days", "soon", "--registry-url", registry.url], alice);
    assert.equal(days.code, 2);
    const missing = await runCli(["token", "create", "--registry-url", registry.url], alice);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /--namespace/);
    const none = await runCli(["token", "list", "--registry-url", registry.url], { cwd, cache: cwd });
    assert.equal(none.code, 1);
    assert.match(none.stderr, /listing tokens needs a token/);
    const badName = await runCli(["token", "create", "--namespace", "Not Valid", "--registry-url", registry.url], { cwd, cache: cwd, env: { RUN_AUTH_TOKEN: ADMIN_TOKEN } });
    assert.equal(badName.code, 1);
    assert.match(badName.stderr, /answered 400: "namespace" must be/);
    for (const r of [list, scope, days, missing, none, badName]) assert.ok(noStack(r));
  });

  test("--help on login, logout, yank and every token command", async () => {
    const cwd = await tempDir("run-empty-");
    for (const args of [["login"], ["logout"], ["yank"], ["token"], ["token", "create"], ["token", "list"], ["token", "revoke"]]) {
      const r = await runCli(["v2", ...args, "--help"], { cwd, cache: cwd });
      assert.equal(r.code, 0, `${args.join(" ")}: ${r.stderr}`);
      assert.match(r.stdout, new RegExp(`^Usage: run ${args.join(" ")} `, "m"));
    }
    const top = await runCli(["--help"], { cwd, cache: cwd });
    for (const command of ["login", "logout", "yank", "token"]) assert.match(top.stdout, new RegExp(`^  ${command} `, "m"));
    assert.match(top.stdout, /the token `run v2 login` saved/);
  });
});

describe("yank", () => {
  const toml = (deps: string) => `[project]\nname = "me"\nversion = "0.1.0"\n\n[dependencies]\n${deps}\n`;
  const lockedVersions = async (dir: string) =>
    (parseLockfile(await fs.readFile(path.join(dir, "run.lock"), "utf8")).components).map((c) => `${c.name}@${c.version}`).sort();

  test("install skips a yanked version for a range, a locked one keeps installing, update moves off it, --undo brings it back", async () => {
    // Locked on 1.1.0 before the yank.
    const locked = await makeProject(toml('"bob:lib" = "^1.0.0"'));
    const first = await runCli(["install", "--registry-url", registry.url], { cwd: locked.dir, cache: locked.cache });
    assert.equal(first.code, 0, first.stderr);
    assert.deepEqual(await lockedVersions(locked.dir), ["bob:lib@1.1.0"]);

    const refused = await runCli(["yank", "bob:lib@1.1.0", "--registry-url", registry.url], { ...locked, cwd: locked.dir, env: { RUN_AUTH_TOKEN: ALICE_TOKEN } });
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /refused to yank bob:lib@1\.1\.0: .*"alice".*"bob"/);
    const yank = await runCli(["v2", "yank", "bob:lib@1.1.0", "--registry-url", registry.url, "--token", BOB_TOKEN], { ...locked, cwd: locked.dir });
    assert.equal(yank.code, 0, yank.stderr);
    assert.match(yank.stdout, /yanked bob:lib@1\.1\.0/);
    const info = await runCli(["info", "bob:lib", "--registry-url", registry.url], { ...locked, cwd: locked.dir });
    assert.match(info.stdout, /^bob:lib@1\.0\.0$/m, "info shows the latest that is not yanked");
    assert.match(info.stdout, /versions\s+1\.0\.0, 1\.1\.0 \(yanked\)/);

    // A fresh project resolves the range to 1.0.0; so does adding it by name alone.
    const fresh = await makeProject(toml('"bob:lib" = "^1.0.0"'));
    const freshInstall = await runCli(["install", "--registry-url", registry.url], { cwd: fresh.dir, cache: fresh.cache });
    assert.equal(freshInstall.code, 0, freshInstall.stderr);
    assert.deepEqual(await lockedVersions(fresh.dir), ["bob:lib@1.0.0"]);
    const added = await makeProject(toml(""));
    const add = await runCli(["install", "bob:lib", "--registry-url", registry.url], { cwd: added.dir, cache: added.cache });
    assert.equal(add.code, 0, add.stderr);
    assert.match(await fs.readFile(path.join(added.dir, "run.toml"), "utf8"), /"bob:lib" = "1\.0\.0"/, "the latest that is not yanked");

    // The locked project keeps 1.1.0: from run.lock alone, with an empty cache (a real download)...
    await fs.rm(path.join(locked.dir, ".run"), { recursive: true });
    const fromLock = await runCli(["install", "--registry-url", registry.url], { cwd: locked.dir, cache: await tempDir("run-cache-") });
    assert.equal(fromLock.code, 0, fromLock.stderr);
    assert.match(fromLock.stdout, /1 downloaded/);
    assert.deepEqual(await lockedVersions(locked.dir), ["bob:lib@1.1.0"]);
    // ...and when a new dependency makes it resolve again, the pin holds.
    const more = await runCli(["install", "bob:other@^1", "--registry-url", registry.url], { cwd: locked.dir, cache: locked.cache });
    assert.equal(more.code, 0, more.stderr);
    assert.deepEqual(await lockedVersions(locked.dir), ["bob:lib@1.1.0", "bob:other@1.0.0"]);

    // update moves off the yanked version.
    const update = await runCli(["update", "--registry-url", registry.url], { cwd: locked.dir, cache: locked.cache });
    assert.equal(update.code, 0, update.stderr);
    assert.match(update.stdout, /bob:lib 1\.1\.0 -> 1\.0\.0/);

    const undo = await runCli(["yank", "bob:lib@1.1.0", "--undo", "--registry-url", registry.url, "--token", ADMIN_TOKEN], { ...locked, cwd: locked.dir });
    assert.equal(undo.code, 0, undo.stderr);
    assert.match(undo.stdout, /unyanked bob:lib@1\.1\.0/);
    const back = await runCli(["update", "--registry-url", registry.url], { cwd: locked.dir, cache: locked.cache });
    assert.match(back.stdout, /bob:lib 1\.0\.0 -> 1\.1\.0/);
  });

  test("yank refuses bad arguments and unknown versions with a sentence", async () => {
    const cwd = await tempDir("run-empty-");
    const env = { RUN_AUTH_TOKEN: BOB_TOKEN };
    const noVersion = await runCli(["yank", "bob:lib", "--registry-url", registry.url], { cwd, cache: cwd, env });
    assert.equal(noVersion.code, 2);
    assert.match(noVersion.stderr, /names no version/);
    const badVersion = await runCli(["yank", "bob:lib@latest", "--registry-url", registry.url], { cwd, cache: cwd, env });
    assert.equal(badVersion.code, 2);
    const unknown = await runCli(["yank", "bob:lib@9.9.9", "--registry-url", registry.url], { cwd, cache: cwd, env });
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /answered 404: bob:lib has no version 9\.9\.9/);
    const noToken = await runCli(["yank", "bob:lib@1.0.0", "--registry-url", registry.url], { cwd, cache: cwd });
    assert.equal(noToken.code, 1);
    assert.match(noToken.stderr, /yanking needs a token/);
    for (const r of [noVersion, badVersion, unknown, noToken]) assert.ok(noStack(r));
  });
});
