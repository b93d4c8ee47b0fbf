// Checks the Helm chart's values offline (helm itself is not available on these machines):
//  1. values.yaml validates against values.schema.json (ajv, JSON Schema draft-07, as helm applies it);
//  2. every .Values path a template uses is defined in values.yaml;
//  3. every leaf key of values.yaml is documented by a "## @param <path>" line.
// Usage: node validate-chart-values.mjs <repository root>. Prints one line per check; exit code 1 on a failure.
import { readFileSync, readdirSync } from "node:fs";
import path from "node:path";
import Ajv from "ajv";
import { parse } from "yaml";

const root = path.resolve(process.argv[2] ?? "../..");
const chart = path.join(root, "helm", "distributed-backprop");
const valuesText = readFileSync(path.join(chart, "values.yaml"), "utf8");
const values = parse(valuesText);
const schema = JSON.parse(readFileSync(path.join(chart, "values.schema.json"), "utf8"));
const problems = [];

// --- 1 ----------------------------------------------------------------------------------------------------
const validate = new Ajv({ allErrors: true, strict: false }).compile(schema);
if (validate(values)) {
  console.log("ok   schema        values.yaml is valid against values.schema.json (ajv)");
} else {
  for (const error of validate.errors) problems.push(`values.yaml${error.instancePath}: ${error.message}`);
}

// --- 2 ----------------------------------------------------------------------------------------------------
const used = new Set();
for (const file of readdirSync(path.join(chart, "templates")).sort()) {
  const text = readFileSync(path.join(chart, "templates", file), "utf8");
  for (const m of text.matchAll(/\.Values((?:\.[A-Za-z_][A-Za-z0-9_]*)+)/g)) used.add(`${file}: ${m[1].slice(1)}`);
}
for (const use of [...used].sort()) {
  const [file, dotted] = use.split(": ");
  let node = values;
  const defined = dotted.split(".").every((key) => {
    if (node === null || typeof node !== "object" || !(key in node)) return false;
    node = node[key];
    return true;
  });
  if (defined) console.log(`ok   defined       .Values.${dotted} (templates/${file})`);
  else problems.push(`templates/${file} uses .Values.${dotted}, which values.yaml does not define`);
}

// --- 3 ----------------------------------------------------------------------------------------------------
const documented = new Set([...valuesText.matchAll(/^\s*## @param (\S+) \S/gm)].map((m) => m[1]));
for (const leaf of leaves(values, "")) {
  if (documented.has(leaf)) console.log(`ok   documented    ${leaf}`);
  else problems.push(`values.yaml key ${leaf} has no "## @param ${leaf} <description>" line`);
}

for (const problem of problems) console.log(`FAIL ${problem}`);
console.log(`${problems.length === 0 ? "PASS" : "FAIL"}: ${used.size} template uses, ${problems.length} problems`);
process.exit(problems.length === 0 ? 0 : 1);

// Dotted paths of the values a user sets: scalars, lists and empty maps (whose contents are free-form).
function leaves(node, prefix) {
  if (node === null || typeof node !== "object" || Array.isArray(node) || Object.keys(node).length === 0) {
    return [prefix];
  }
  return Object.entries(node).flatMap(([key, child]) => leaves(child, prefix ? `${prefix}.${key}` : key));
}
