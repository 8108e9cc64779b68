// Run graphql-http's GraphQL-over-HTTP server audit against one URL; one JSON answer.
//
//   node audit.mjs <npm prefix holding node_modules> <url>
//   -> {"version": "...", "results": [{"id", "name", "status", "reason"}]}
//
// status: "ok", or for a failed audit "error" (a MUST), "warn" (a SHOULD), "notice" (a MAY).
// The package lives in an npm prefix outside the repository (tests/npm.py
// installs it there from package.json), so it is loaded with a require rooted at it.
import { createRequire } from "node:module";
import { join } from "node:path";

const [prefix, url] = process.argv.slice(2);
if (!prefix || !url) {
  console.error("usage: node audit.mjs <npm prefix> <url>");
  process.exit(2);
}
const require = createRequire(join(prefix, "package.json"));
const { auditServer } = require("graphql-http");

const results = await auditServer({ url });
process.stdout.write(
  JSON.stringify({
    version: require("graphql-http/package.json").version,
    results: results.map(({ id, name, status, reason }) => ({
      id,
      name,
      status,
      reason: reason ?? null,
    })),
  }),
);
