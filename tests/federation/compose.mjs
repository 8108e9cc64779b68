// Compose subgraphs with Apollo's and The Guild's federation composers; one JSON answer.
//
//   node compose.mjs <npm prefix holding node_modules>  < {"subgraphs": [{"name", "url", "sdl"}]}
//   -> {"apollo": {"version", "errors": [...], "supergraphSdl"}, "guild": {...}}
//
// The packages live in an npm prefix outside the repository (tests/npm.py
// installs them there from package.json), so they are loaded with a require rooted at it.
import { createRequire } from "node:module";
import { readFileSync } from "node:fs";
import { join } from "node:path";

const prefix = process.argv[2];
if (!prefix) {
  console.error("usage: node compose.mjs <npm prefix>");
  process.exit(2);
}
const require = createRequire(join(prefix, "package.json"));
const { parse } = require("graphql");
const composers = {
  apollo: "@apollo/composition",
  guild: "@theguild/federation-composition",
};

const input = JSON.parse(readFileSync(0, "utf8"));
const subgraphs = input.subgraphs.map(({ name, url, sdl }) => ({
  name,
  url,
  typeDefs: parse(sdl),
}));

const out = {};
for (const [key, pkg] of Object.entries(composers)) {
  const result = require(pkg).composeServices(subgraphs);
  out[key] = {
    package: pkg,
    version: require(`${pkg}/package.json`).version,
    errors: (result.errors ?? []).map((error) => ({
      message: error.message,
      code: error.extensions?.code ?? null,
    })),
    supergraphSdl: result.supergraphSdl ?? null,
  };
}
process.stdout.write(JSON.stringify(out));
