// Build everything the Python package ships from npm packages (the output is committed, so
// `pip install` needs no npm and nothing is downloaded at run time):
//  1. the minified graph libraries (and their licences), which mllineage inlines into the
//     self-contained HTML pages `mllineage graph --format html` writes;
//  2. the web UI served by `mllineage serve` (ui/ -> src/mllineage/static/ui/): index.html and
//     assets/ with content-hashed names, plus the licences of everything bundled into them.
// Run: npm ci && npm run build
import { copyFileSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import * as esbuild from "esbuild";

const here = dirname(fileURLToPath(import.meta.url));
const out = join(here, "..", "src", "mllineage", "static");
mkdirSync(out, { recursive: true });

function packageJson(name) {
  return JSON.parse(readFileSync(join(here, "node_modules", name, "package.json"), "utf8"));
}

// 1. The HTML export's libraries.
const bundles = [
  ["cytoscape", "dist/cytoscape.min.js", "LICENSE"],
  ["cytoscape-dagre", "dist/cytoscape-dagre.min.js", "LICENSE"],
];
const versions = {};
for (const [name, file, licence] of bundles) {
  const root = join(here, "node_modules", name);
  versions[name] = packageJson(name).version;
  copyFileSync(join(root, file), join(out, `${name}.min.js`));
  copyFileSync(join(root, licence), join(out, `${name}.LICENSE`));
}
writeFileSync(join(out, "versions.json"), JSON.stringify(versions, null, 2) + "\n");
console.log(`copied ${Object.keys(versions).join(", ")} into ${out}`);

// 2. The web UI.
const uiOut = join(out, "ui");
const assets = join(uiOut, "assets");
rmSync(uiOut, { recursive: true, force: true });
mkdirSync(assets, { recursive: true });
const result = await esbuild.build({
  entryPoints: [join(here, "ui", "src", "main.js")],
  bundle: true,
  minify: true,
  format: "esm",
  target: ["es2020"],
  outdir: assets,
  entryNames: "[name]-[hash]",
  assetNames: "[name]-[hash]",
  metafile: true,
  legalComments: "none", // the licences go to LICENSES.txt beside the bundle instead
  logLevel: "warning",
});

const outputs = Object.keys(result.metafile.outputs).map((file) => basename(file));
const script = outputs.find((file) => file.endsWith(".js"));
const style = outputs.find((file) => file.endsWith(".css"));
const template = readFileSync(join(here, "ui", "index.html"), "utf8");
writeFileSync(
  join(uiOut, "index.html"),
  template
    .replace("%STYLE%", `/ui/assets/${style}`)
    .replace("%SCRIPT%", `/ui/assets/${script}`),
);

// Every npm package that went into the bundle, with its licence text.
const bundled = new Set();
for (const input of Object.keys(result.metafile.inputs)) {
  const match = input.match(/node_modules\/((?:@[^/]+\/)?[^/]+)\//);
  if (match) bundled.add(match[1]);
}
const notices = [...bundled].sort().map((name) => {
  const pkg = packageJson(name);
  const licence = ["LICENSE", "LICENSE.md", "LICENSE.txt", "license"]
    .map((file) => join(here, "node_modules", name, file))
    .find((file) => {
      try {
        readFileSync(file);
        return true;
      } catch {
        return false;
      }
    });
  const text = licence ? readFileSync(licence, "utf8").trim() : `License: ${pkg.license}`;
  return `${name} ${pkg.version} (${pkg.license})\n\n${text}\n`;
});
// cytoscape-dagre's bundle carries dagre and graphlib (MIT, Chris Pettitt and contributors).
const mit = readFileSync(join(here, "node_modules", "cytoscape-dagre", "LICENSE"), "utf8");
notices.push(
  "@dagrejs/dagre and @dagrejs/graphlib (MIT), inside cytoscape-dagre's bundle\n\n" +
    mit.replace(/Copyright \(c\)[^\n]*/, "Copyright (c) 2012-2014 Chris Pettitt").trim() +
    "\n",
);
writeFileSync(join(assets, "LICENSES.txt"), notices.join("\n" + "-".repeat(72) + "\n\n"));
console.log(`built the web UI (${outputs.join(", ")}, LICENSES.txt) into ${uiOut}`);
