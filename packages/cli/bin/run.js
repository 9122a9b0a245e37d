#!/usr/bin/env node
// A committed, executable entry point: npm links bins before `prepare` builds dist/,
// so the bin must not be a file that only exists after the build.
import "../dist/src/main.js";
