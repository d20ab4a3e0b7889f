// Bundles src/main.tsx (the reader: Preact, urql + graphcache, graphql-ws) into
// ../graph/reader_static for `newsgraph serve` to answer at / with no internet:
//   index.html             the page every reader URL answers with (links the assets by hash)
//   assets/app-HASH.js     production build, minified, ES modules; cached for ever (immutable)
//   assets/app-HASH.css
//   assets/*.gz            gzip copies, served to clients that accept gzip
//   reader.json            what was built: files, sizes, hash, versions
// The build fails when the page's JavaScript and CSS together are over BUDGET gzipped.
import { createHash } from "node:crypto";
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";
import { build } from "esbuild";

const BUDGET = 200 * 1024;
const here = dirname(fileURLToPath(import.meta.url));
const out = join(here, "..", "graph", "reader_static");

rmSync(out, { recursive: true, force: true });
const result = await build({
  entryPoints: { app: join(here, "src", "main.tsx") },
  outdir: join(out, "assets"),
  entryNames: "[name]-[hash]",
  bundle: true,
  minify: true,
  format: "esm",
  target: ["es2020"],
  jsx: "automatic",
  jsxImportSource: "preact",
  define: { "process.env.NODE_ENV": '"production"' },
  legalComments: "external",
  metafile: true,
  logLevel: "warning",
});

const files = Object.keys(result.metafile.outputs)
  .filter((path) => /\.(js|css)$/.test(path))
  .map((path) => `assets/${basename(path)}`)
  .sort();
const script = files.find((f) => f.endsWith(".js"));
const style = files.find((f) => f.endsWith(".css"));

const digest = createHash("sha256");
const sizes = {};
for (const name of files) {
  const bytes = readFileSync(join(out, name));
  const gzipped = gzipSync(bytes, { level: 9 });
  writeFileSync(join(out, `${name}.gz`), gzipped);
  digest.update(bytes);
  sizes[name] = { bytes: bytes.length, gzip: gzipped.length };
}

// The shell paints at once (header, a loading line); the app replaces it when it starts.
const html = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>newsgraph</title>
<meta name="description" content="A news reader on the newsgraph GraphQL API">
<link rel="icon" href="data:,">
<link rel="stylesheet" href="/${style}">
<script type="module" src="/${script}"></script>
</head>
<body>
<div id="app"><header class="site"><a class="brand" href="/">newsgraph</a><nav aria-label="Main"><ul><li><a href="/">Latest</a></li><li><a href="/graphql">GraphQL API</a></li></ul></nav></header><main id="main"><p class="loading">Loading…</p></main></div>
<noscript><p>The newsgraph reader needs JavaScript. The API and GraphiQL are at <a href="/graphql">/graphql</a>.</p></noscript>
</body>
</html>
`;
writeFileSync(join(out, "index.html"), html);

const total = Object.values(sizes).reduce((sum, size) => sum + size.gzip, 0);
const pkg = JSON.parse(readFileSync(join(here, "package.json"), "utf8"));
const installed = (name) => JSON.parse(readFileSync(join(here, "node_modules", name, "package.json"), "utf8")).version;
const manifest = {
  files: ["index.html", ...files],
  sizes,
  gzipTotal: total,
  budget: BUDGET,
  sha256: digest.digest("hex"),
  packages: Object.fromEntries(Object.keys(pkg.dependencies).map((name) => [name, installed(name)])),
};
writeFileSync(join(out, "reader.json"), JSON.stringify(manifest, null, 2) + "\n");
const kib = (n) => `${(n / 1024).toFixed(1)} KiB`;
console.log(
  `built graph/reader_static: ` +
    files.map((f) => `${f} ${kib(sizes[f].bytes)} (gzip ${kib(sizes[f].gzip)})`).join(", ") +
    `; total gzip ${kib(total)} of a ${kib(BUDGET)} budget`,
);
if (total > BUDGET) {
  rmSync(join(out, "reader.json"));
  console.error(`the reader bundle is ${kib(total)} gzipped, over its budget of ${kib(BUDGET)}`);
  process.exit(1);
}
