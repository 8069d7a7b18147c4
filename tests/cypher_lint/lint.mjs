// Lints Cypher queries with Neo4j's own front end (@neo4j-cypher/language-support).
//
//   node lint.mjs QUERIES.json
//
// QUERIES.json holds [{"query": "...", "parameters": ["name", ...]}, ...]. Prints one JSON
// document: {"version": "...", "results": [[{severity, message, line, column}, ...], ...]},
// one list of diagnostics per query, in the input's order. Each query costs the front end
// tenths of a second, so the list is split over worker threads, one per core (at most 4).
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';

const PACKAGE = '@neo4j-cypher/language-support';
const QUERIES_PER_WORKER = 25;
const SEVERITY = { 1: 'error', 2: 'warning', 3: 'information', 4: 'hint' };

async function lintAll(queries) {
  const { lintCypherQuery } = await import(PACKAGE);
  return queries.map(({ query, parameters }) => {
    // The linter only asks whether a parameter is declared; its value is not used.
    const declared = Object.fromEntries(parameters.map((name) => [name, null]));
    const { diagnostics } = lintCypherQuery(query, { parameters: declared });
    return diagnostics.map((d) => ({
      severity: SEVERITY[d.severity] ?? String(d.severity),
      message: d.message,
      line: d.range.start.line + 1,
      column: d.range.start.character + 1,
    }));
  });
}

function inWorker(queries) {
  return new Promise((resolve, reject) => {
    const worker = new Worker(new URL(import.meta.url), { workerData: queries });
    worker.once('message', resolve);
    worker.once('error', reject);
    worker.once('exit', (code) => {
      if (code !== 0) reject(new Error(`a lint worker exited with status ${code}`));
    });
  });
}

async function main() {
  const queries = JSON.parse(readFileSync(process.argv[2], 'utf8'));
  const workers = Math.max(1, Math.min(availableParallelism(), 4,
    Math.ceil(queries.length / QUERIES_PER_WORKER)));
  let results;
  if (workers === 1) {
    results = await lintAll(queries);
  } else {
    const size = Math.ceil(queries.length / workers);
    const chunks = [];
    for (let i = 0; i < queries.length; i += size) chunks.push(queries.slice(i, i + size));
    results = (await Promise.all(chunks.map(inWorker))).flat();
  }
  const { version } = JSON.parse(readFileSync(
    new URL(`./node_modules/${PACKAGE}/package.json`, import.meta.url), 'utf8'));
  process.stdout.write(JSON.stringify({ version, results }));
}

if (isMainThread) {
  main().catch((err) => {
    process.stderr.write(`${err.stack ?? err}\n`);
    process.exit(1);
  });
} else {
  parentPort.postMessage(await lintAll(workerData));
}
