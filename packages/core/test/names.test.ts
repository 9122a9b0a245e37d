import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { isValidName, nameProblem, versionProblem } from "../src/names.js";

describe("names", () => {
  it("accepts namespace:package in kebab-case words, with / segments, up to 128 characters", () => {
    for (const name of ["wasi:http", "my-org:json-utils", "run:calc/calculator", `a:${"b".repeat(126)}`]) {
      assert.equal(nameProblem(name), null, name);
    }
  });

  it("suggests a namespace only where the result would be a valid name", () => {
    assert.match(nameProblem("calc")!, /has no namespace; .* e\.g\. alice:calc$/);
    assert.match(nameProblem("json-utils")!, /e\.g\. alice:json-utils$/);
    const suggestion = /e\.g\. (\S+)$/.exec(nameProblem("Bad")!)![1]!;
    assert.ok(isValidName(suggestion), `${suggestion} is a valid name`);
  });
});

describe("versions", () => {
  it("accepts strict semver, pre-releases included", () => {
    for (const version of ["1.0.0", "0.0.1", "2.0.0-beta.1", "1.2.3-rc.1.2"]) assert.equal(versionProblem(version), null, version);
  });

  it("refuses build metadata, saying why and what to publish instead", () => {
    const problem = versionProblem("2.0.0-beta.1+build.5")!;
    assert.match(problem, /build metadata \("\+build\.5"\)/);
    assert.match(problem, /publish it as 2\.0\.0-beta\.1$/);
  });

  it("refuses mutable tags, loose forms and nonsense, each with its own reason", () => {
    assert.match(versionProblem("latest")!, /mutable tag/);
    assert.match(versionProblem("v1.0.0")!, /not a semver version/);
    assert.match(versionProblem("1.0")!, /not a semver version/);
    assert.match(versionProblem("1.0.0+")!, /not a semver version/);
    assert.match(versionProblem("")!, /empty/);
  });
});
