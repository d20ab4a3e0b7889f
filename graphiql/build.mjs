// Bundles src/index.jsx (GraphiQL, its explorer plugin, React) into
// ../graph/static for the app to serve with no internet:
//   graphiql.js, graphiql.css  production build, minified, no source maps
//   fonts/*.woff2, *.woff      GraphiQL's fonts, taken out of the CSS (where
//                              they sit as data: URLs) so a browser loads only
//                              the unicode ranges a page uses
//   *.gz                       gzip copies, served to clients that accept gzip
//   graphiql.js.LEGAL.txt      the license comments esbuild collected
//   graphiql.json              what was built: files, sizes, hash, versions
import { createHash } from "node:crypto";
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";
import { build } from "esbuild";

const here = dirname(fileURLToPath(import.meta.url));
const out = join(here, "..", "graph", "static");

rmSync(out, { recursive: true, force: true });
await build({
  entryPoints: { graphiql: join(here, "src", "index.jsx") },
  outdir: out,
  bundle: true,
  minify: true,
  format: "iife",
  target: ["es2020"],
  jsx: "automatic",
  define: { "process.env.NODE_ENV": '"production"' },
  legalComments: "external",
  logLevel: "warning",
});

// Fonts: data: URLs -> files named by their content.
mkdirSync(join(out, "fonts"));
const cssPath = join(out, "graphiql.css");
let fonts = 0;
const css = readFileSync(cssPath, "utf8").replace(/url\(data:font\/(woff2?);base64,([A-Za-z0-9+/=]+)\)/g, (_, kind, b64) => {
  const bytes = Buffer.from(b64, "base64");
  const name = `${createHash("sha256").update(bytes).digest("hex").slice(0, 16)}.${kind}`;
  writeFileSync(join(out, "fonts", name), bytes);
  fonts += 1;
  return `url(fonts/${name})`;
});
writeFileSync(cssPath, css);

const files = ["graphiql.js", "graphiql.css"];
const digest = createHash("sha256");
const sizes = {};
for (const name of files) {
  const bytes = readFileSync(join(out, name));
  const gzipped = gzipSync(bytes, { level: 9 });
  writeFileSync(join(out, `${name}.gz`), gzipped);
  digest.update(bytes);
  sizes[name] = { bytes: bytes.length, gzip: gzipped.length };
}

const pkg = JSON.parse(readFileSync(join(here, "package.json"), "utf8"));
const installed = (name) => JSON.parse(readFileSync(join(here, "node_modules", name, "package.json"), "utf8")).version;
const manifest = {
  files,
  sizes,
  fonts,
  sha256: digest.digest("hex"),
  packages: Object.fromEntries(Object.keys(pkg.dependencies).map((name) => [name, installed(name)])),
};
writeFileSync(join(out, "graphiql.json"), JSON.stringify(manifest, null, 2) + "\n");
const kib = (n) => `${(n / 1024).toFixed(0)} KiB`;
console.log(
  `built graph/static: ` +
    files.map((f) => `${f} ${kib(sizes[f].bytes)} (gzip ${kib(sizes[f].gzip)})`).join(", ") +
    `, ${fonts} font files`,
);
