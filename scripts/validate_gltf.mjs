// Validate GLB/glTF files with the Khronos glTF validator (npm `gltf-validator`, a library).
//
// Usage: node scripts/validate_gltf.mjs FILE [FILE ...]
// Prints one JSON line per file: {"path", "numErrors", "numWarnings", "numInfos", "numHints",
// "totalTriangleCount", "messages": [{code, severity, pointer, message}]} and exits 1 when any
// file has an error (so it also works as a CI gate). One process checks many files: Node's start-up
// and the validator's load are paid once.
import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const require = createRequire(resolve(dirname(fileURLToPath(import.meta.url)), "..", "package.json"));
const validator = require("gltf-validator");

const SEVERITY = ["error", "warning", "info", "hint"];

async function validate(path) {
  const bytes = new Uint8Array(await readFile(path));
  const report = await validator.validateBytes(bytes, { uri: path, maxIssues: 0, writeTimestamp: false });
  const issues = report.issues;
  return {
    path,
    numErrors: issues.numErrors,
    numWarnings: issues.numWarnings,
    numInfos: issues.numInfos,
    numHints: issues.numHints,
    totalTriangleCount: report.info ? report.info.totalTriangleCount : null,
    messages: issues.messages.map((m) => ({
      code: m.code,
      severity: SEVERITY[m.severity] ?? String(m.severity),
      pointer: m.pointer ?? null,
      message: m.message,
    })),
  };
}

const files = process.argv.slice(2);
if (files.length === 0) {
  console.error("usage: node scripts/validate_gltf.mjs FILE [FILE ...]");
  process.exit(2);
}
let failed = false;
for (const path of files) {
  try {
    const result = await validate(path);
    failed ||= result.numErrors > 0;
    console.log(JSON.stringify(result));
  } catch (err) {
    failed = true;
    console.log(JSON.stringify({ path, numErrors: 1, fatal: String(err), messages: [] }));
  }
}
process.exit(failed ? 1 : 0);
