#!/usr/bin/env node
// Run graphql-http's GraphQL over HTTP audits (serverAudits) against one endpoint.
//
//   node tests/http-audit/audit.mjs http://127.0.0.1:8000/graphql [--strict] [--timeout-ms N]
//
// One line per audit, `LEVEL STATUS ID NAME [-- reason]`, where LEVEL is MUST,
// SHOULD or MAY and STATUS is ok, error (MUST not met), warn (SHOULD not met)
// or notice (MAY not met: optional, never a failure). The last line is
//   audit: P of N audits pass; must failures: X, should failures: Y
// Exit status: 0 when every MUST audit passes (with --strict: every SHOULD
// audit too), 1 otherwise, 2 on bad usage. Installed by scripts/setup-http-audit.sh.

import { serverAudits } from "graphql-http";

const USAGE = "usage: node audit.mjs URL [--strict] [--timeout-ms N]";
const FAILED = { MUST: "error", SHOULD: "warn", MAY: "notice" };

function usage(problem) {
  console.error(problem ? `audit: ${problem}\n${USAGE}` : USAGE);
  process.exit(2);
}

let url;
let strict = false;
let timeoutMs = 10_000;
const args = process.argv.slice(2);
for (let i = 0; i < args.length; i++) {
  if (args[i] === "--strict") strict = true;
  else if (args[i] === "--timeout-ms") timeoutMs = Number(args[++i]);
  else if (args[i] === "-h" || args[i] === "--help") usage();
  else if (args[i].startsWith("-")) usage(`unknown option ${args[i]}`);
  else if (url === undefined) url = args[i];
  else usage(`one URL only, got also ${args[i]}`);
}
if (url === undefined || !/^https?:\/\//.test(url)) usage("give the endpoint's http(s) URL");
if (!(timeoutMs > 0)) usage("--timeout-ms must be a positive number");

// Every request gives up after the timeout, so a server that hangs fails its audit instead of hanging this.
const fetchFn = (input, init = {}) => fetch(input, { ...init, signal: AbortSignal.timeout(timeoutMs) });

const counts = { passed: 0, MUST: 0, SHOULD: 0, MAY: 0 };
const audits = serverAudits({ url, fetchFn });
// One at a time: a stable order and a tiny load on the server.
for (const { id, name, fn } of audits) {
  const level = name.split(" ", 1)[0];
  let result;
  try {
    result = await fn();
  } catch (error) {
    // graphql-http throws on what it cannot judge (connection refused, a timeout, a body that is not JSON).
    const cause = error?.cause ? ` (${error.cause.code ?? error.cause.message ?? error.cause})` : "";
    result = { status: FAILED[level] ?? "error", reason: `${error?.message ?? error}${cause}` };
  }
  if (result.status === "ok") counts.passed++;
  else counts[level] = (counts[level] ?? 0) + 1;
  const reason = result.status === "ok" ? "" : `  -- ${result.reason}`;
  console.log(`${level.padEnd(6)} ${result.status.padEnd(6)} ${id}  ${name.slice(level.length + 1)}${reason}`);
}

console.log(`optional: ${counts.MAY} MAY audit(s) not met (not failures), ${audits.length} audits in total`);
console.log(
  `audit: ${counts.passed} of ${audits.length} audits pass; must failures: ${counts.MUST}, should failures: ${counts.SHOULD}`,
);
process.exit(counts.MUST > 0 || (strict && counts.SHOULD > 0) ? 1 : 0);
