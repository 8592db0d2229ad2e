#!/usr/bin/env node
// Copy the Teams JavaScript library from node_modules into static/vendor/teams-js/ (committed), so
// the bot serves it itself: no CDN at run time, and no Node on the server.
//
//   cd dialogs/dashboard && npm ci && npm run vendor
//
// The package version is pinned in package.json and its integrity in package-lock.json; the copy is
// byte-for-byte the package's dist/umd/MicrosoftTeams.min.js, and VERSION.txt records its sha256.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const pkgDir = path.join(here, 'node_modules', '@microsoft', 'teams-js');
const pkg = JSON.parse(fs.readFileSync(path.join(pkgDir, 'package.json'), 'utf8'));
const out = path.join(here, 'static', 'vendor', 'teams-js');
fs.mkdirSync(out, { recursive: true });
const body = fs.readFileSync(path.join(pkgDir, 'dist', 'umd', 'MicrosoftTeams.min.js'));
fs.writeFileSync(path.join(out, 'MicrosoftTeams.min.js'), body);
fs.copyFileSync(path.join(pkgDir, 'LICENSE'), path.join(out, 'LICENSE.txt'));
const sha = crypto.createHash('sha256').update(body).digest('hex');
fs.writeFileSync(
  path.join(out, 'VERSION.txt'),
  `${pkg.name} ${pkg.version}\nfile dist/umd/MicrosoftTeams.min.js\nsha256 ${sha}\n`,
);
console.log(`vendored ${pkg.name} ${pkg.version} (${body.length} bytes, sha256 ${sha.slice(0, 12)}…)`);
