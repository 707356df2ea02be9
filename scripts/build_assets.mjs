#!/usr/bin/env node
// Copy the front-end packages installed by `npm ci` into src/yipanqi/static/vendor/ (gitignored).
//
//   npm ci --ignore-scripts && node scripts/build_assets.mjs
//
// Only the files the pages load are copied, with their licences. A source map named by a copied file is
// copied with it, or the sourceMappingURL comment is removed: Django's manifest storage (collectstatic in
// production) fails on a reference to a missing file. The icon sprite is assembled from @tabler/icons.
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const vendor = join(root, "src", "yipanqi", "static", "vendor");
const nodeModules = join(root, "node_modules");

const COPIES = {
  tabler: {
    package: "@tabler/core",
    files: ["dist/css/tabler.min.css", "dist/js/tabler.min.js", "LICENSE"],
  },
  htmx: { package: "htmx.org", files: ["dist/htmx.min.js", "LICENSE"] },
  // The analytics page loads the full build: its sankey series is not in "common".
  echarts: { package: "echarts", files: ["dist/echarts.common.min.js", "dist/echarts.min.js", "LICENSE", "NOTICE"] },
  "swagger-ui": {
    package: "swagger-ui-dist",
    files: [
      "swagger-ui.css",
      "swagger-ui-bundle.js",
      "swagger-ui-standalone-preset.js",
      "favicon-32x32.png",
      "LICENSE",
      "NOTICE",
    ],
  },
};

// Outline icons used by the templates: {% include "includes/icon.html" with name="…" %}.
const ICONS = [
  "alert-triangle",
  "api",
  "bell",
  "bell-off",
  "building-bank",
  "chart-pie",
  "checks",
  "chevron-right",
  "circles-relation",
  "clipboard-list",
  "copy",
  "download",
  "external-link",
  "file-search",
  "filter",
  "history",
  "home",
  "key",
  "language",
  "lock",
  "logout",
  "map-2",
  "map-pin",
  "search",
  "settings",
  "shield-check",
  "sitemap",
  "trash",
  "user",
  "users",
  "users-group",
];

function packageDir(name) {
  const manifest = join(nodeModules, name, "package.json");
  if (!existsSync(manifest)) {
    throw new Error(`${name} is not installed: run \`npm ci --ignore-scripts\` first`);
  }
  return dirname(manifest);
}

function copy(source, target) {
  mkdirSync(dirname(target), { recursive: true });
  let data = readFileSync(source);
  if (/\.(css|js)$/.test(source)) {
    const text = data.toString("utf8");
    const pattern = /(\/\*# sourceMappingURL=([^\s*]+)\s*\*\/|\/\/# sourceMappingURL=(\S+))\s*$/;
    const match = text.match(pattern);
    if (match) {
      const mapName = match[2] || match[3];
      const mapSource = join(dirname(source), mapName);
      if (!mapName.startsWith("data:") && existsSync(mapSource)) {
        writeFileSync(join(dirname(target), basename(mapName)), readFileSync(mapSource));
      } else if (!mapName.startsWith("data:")) {
        data = Buffer.from(text.replace(pattern, ""), "utf8");
      }
    }
  }
  writeFileSync(target, data);
}

function buildSprite(iconsDir) {
  const symbols = ICONS.map((name) => {
    const file = join(iconsDir, "icons", "outline", `${name}.svg`);
    if (!existsSync(file)) throw new Error(`@tabler/icons has no outline icon "${name}"`);
    const svg = readFileSync(file, "utf8");
    const inner = svg
      .replace(/^[\s\S]*?<svg[^>]*>/, "")
      .replace(/<\/svg>\s*$/, "")
      .replace(/<path stroke="none" d="M0 0h24v24H0z" fill="none"\s*\/>/, "")
      .trim()
      .replace(/\s*\n\s*/g, "");
    return `<symbol id="${name}" viewBox="0 0 24 24" fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round" stroke-linejoin="round">${inner}</symbol>`;
  });
  return `<svg xmlns="http://www.w3.org/2000/svg">\n<!-- Tabler Icons (MIT), https://tabler.io/icons -->\n${symbols.join("\n")}\n</svg>\n`;
}

rmSync(vendor, { recursive: true, force: true });
const versions = {};
for (const [folder, spec] of Object.entries(COPIES)) {
  const dir = packageDir(spec.package);
  versions[spec.package] = JSON.parse(readFileSync(join(dir, "package.json"), "utf8")).version;
  for (const file of spec.files) {
    const source = join(dir, file);
    if (!existsSync(source)) {
      if (/^(LICENSE|NOTICE)/.test(file)) continue;
      throw new Error(`${spec.package} has no ${file}`);
    }
    copy(source, join(vendor, folder, basename(file)));
  }
}
const iconsDir = packageDir("@tabler/icons");
versions["@tabler/icons"] = JSON.parse(readFileSync(join(iconsDir, "package.json"), "utf8")).version;
mkdirSync(join(vendor, "tabler-icons"), { recursive: true });
writeFileSync(join(vendor, "tabler-icons", "sprite.svg"), buildSprite(iconsDir));
copy(join(iconsDir, "LICENSE"), join(vendor, "tabler-icons", "LICENSE"));
writeFileSync(join(vendor, "versions.json"), JSON.stringify(versions, null, 2) + "\n");
console.log(`vendor assets copied to ${vendor}:`, versions);
