// Checks deploy/kubernetes/*.yaml offline, with the Kubernetes object schemas of npm kubernetes-models:
//  1. every object validates against the schema of its apiVersion/kind (types, required fields, enums);
//  2. no object carries a field its type does not declare (kubernetes-models accepts unknown fields, so this
//     walks the type declarations it ships: each interface's properties, following imported types);
//  3. every chart template that renders by default has its manifest here, of the same kind.
// Usage: node validate-manifests.mjs <repository root>. Prints one line per check; exit code 1 on a failure.
import { readFileSync, readdirSync, existsSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { parseAllDocuments } from "yaml";

const root = path.resolve(process.argv[2] ?? "../..");
const manifests = path.join(root, "deploy", "kubernetes");
const templates = path.join(root, "helm", "distributed-backprop", "templates");
const require = createRequire(import.meta.url);
const modelsRoot = path.dirname(require.resolve("kubernetes-models/package.json"));
const problems = [];

// --- 1 and 2: each object of each manifest -----------------------------------------------------------------
const files = readdirSync(manifests).filter((f) => f.endsWith(".yaml") && f !== "kustomization.yaml").sort();
const kindsByFile = new Map();
for (const file of files) {
  const text = readFileSync(path.join(manifests, file), "utf8");
  for (const document of parseAllDocuments(text)) {
    if (document.errors.length > 0) {
      problems.push(`${file}: YAML error ${document.errors[0].message}`);
      continue;
    }
    const object = document.toJS();
    if (object === null) continue;
    const where = `${file} ${object.kind}/${object.metadata?.name}`;
    kindsByFile.set(file, object.kind);
    const group = object.apiVersion.includes("/") ? object.apiVersion : `v1`;
    const declaration = path.join(modelsRoot, group === "v1" ? "v1" : group, `${object.kind}.d.ts`);
    if (!existsSync(declaration)) {
      problems.push(`${where}: kubernetes-models has no ${object.apiVersion} ${object.kind}`);
      continue;
    }
    const module = await import(`kubernetes-models/${group}/${object.kind}`);
    try {
      new module[object.kind](object).validate();
      console.log(`ok   schema        ${where} (kubernetes-models ${object.apiVersion} ${object.kind})`);
    } catch (error) {
      problems.push(`${where}: schema: ${error.message}`);
    }
    const unknown = unknownFields(object, declaration, `${object.kind}`);
    if (unknown.length === 0) {
      console.log(`ok   known fields  ${where}`);
    } else {
      problems.push(...unknown.map((u) => `${where}: unknown field ${u}`));
    }
  }
}

// --- 3: default-rendering templates have their manifests -----------------------------------------------------
// hpa.yaml renders only with autoscaling.enabled=true, which values.yaml leaves false.
const optionalByDefault = new Set(["hpa.yaml"]);
for (const template of readdirSync(templates).filter((f) => f.endsWith(".yaml")).sort()) {
  const kind = /^kind: (\w+)$/m.exec(readFileSync(path.join(templates, template), "utf8"))?.[1];
  if (optionalByDefault.has(template)) {
    if (kindsByFile.has(template)) problems.push(`${template} does not render by default but has a manifest`);
    continue;
  }
  const source = path.join(manifests, template);
  if (!existsSync(source)) {
    problems.push(`templates/${template} renders by default but deploy/kubernetes/${template} is missing`);
  } else if (!readFileSync(source, "utf8").includes(`# Source: distributed-backprop/templates/${template}`)) {
    problems.push(`deploy/kubernetes/${template} lacks its '# Source:' line`);
  } else if (kindsByFile.get(template) !== kind) {
    problems.push(`deploy/kubernetes/${template} is a ${kindsByFile.get(template)}, the template a ${kind}`);
  } else {
    console.log(`ok   rendered      templates/${template} -> deploy/kubernetes/${template} (${kind})`);
  }
}

for (const problem of problems) console.log(`FAIL ${problem}`);
console.log(`${problems.length === 0 ? "PASS" : "FAIL"}: ${files.length} manifests, ${problems.length} problems`);
process.exit(problems.length === 0 ? 0 : 1);

// The declared properties of the first interface in a .d.ts file, with the files of the imported types.
function declarations(file) {
  const text = readFileSync(file, "utf8");
  const imports = new Map();
  for (const m of text.matchAll(/^import \{ (\w+) \} from "([^"]+)";$/gm)) imports.set(m[1], m[2]);
  const body = /export interface \w+(?: extends \w+)? \{([\s\S]*?)\n\}/.exec(text)?.[1] ?? "";
  const properties = new Map();
  // A map's type spans lines ("labels"?: {...}); its first line is enough to know it has no declared fields.
  for (const m of body.matchAll(/^ {4}"([^"]+)"\??: (.*?);?$/gm)) properties.set(m[1], m[2]);
  return { imports, properties };
}

function resolveImport(fromFile, specifier) {
  if (specifier.startsWith(".")) return path.resolve(path.dirname(fromFile), specifier.replace(/\.js$/, ".d.ts"));
  const [scope, name, ...rest] = specifier.split("/");
  const packageRoot = path.dirname(require.resolve(`${scope}/${name}/package.json`));
  return path.join(packageRoot, ...rest) + ".d.ts";
}

// Fields of `value` (typed by the interface in `file`) that the type does not declare, as dotted paths.
function unknownFields(value, file, at) {
  if (value === null || typeof value !== "object") return [];
  const { imports, properties } = declarations(file);
  const found = [];
  for (const [key, child] of Object.entries(value)) {
    const type = properties.get(key);
    if (type === undefined) {
      found.push(`${at}.${key}`);
      continue;
    }
    const element = /^Array<(\w+)>$/.exec(type)?.[1] ?? type;
    if (!imports.has(element)) continue; // strings, numbers, maps, unions: no nested fields to check
    const childFile = resolveImport(file, imports.get(element));
    const items = Array.isArray(child) ? child.map((c, i) => [c, `${at}.${key}[${i}]`]) : [[child, `${at}.${key}`]];
    for (const [item, itemAt] of items) found.push(...unknownFields(item, childFile, itemAt));
  }
  return found;
}
