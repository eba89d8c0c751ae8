// Copy the minified graph libraries (and their licences) into the Python package, where
// mllineage inlines them into the HTML pages it writes, so the pages open offline.
// Run: npm ci && npm run build   (the output is committed: `pip install` needs no npm)
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const out = join(here, "..", "src", "mllineage", "static");
mkdirSync(out, { recursive: true });

const bundles = [
  ["cytoscape", "dist/cytoscape.min.js", "LICENSE"],
  ["cytoscape-dagre", "dist/cytoscape-dagre.min.js", "LICENSE"],
];
const versions = {};
for (const [name, file, licence] of bundles) {
  const root = join(here, "node_modules", name);
  const pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8"));
  versions[name] = pkg.version;
  copyFileSync(join(root, file), join(out, `${name}.min.js`));
  copyFileSync(join(root, licence), join(out, `${name}.LICENSE`));
}
writeFileSync(join(out, "versions.json"), JSON.stringify(versions, null, 2) + "\n");
console.log(`copied ${Object.keys(versions).join(", ")} into ${out}`);
