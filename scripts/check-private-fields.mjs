#!/usr/bin/env node
// One style for private class members, run by `npm test`: ECMAScript `#fields`, which are
// private at run time too, never TypeScript's `private` keyword (a compile-time hint that any
// `obj['field']` walks past). `protected` stays for members that subclasses override.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const PRIVATE_MEMBER = /^\s*(?:(?:public|protected|static|readonly|override|async)\s+)*private\s+[#\w[]/;
const PRIVATE_PARAMETER = /\(\s*private\s|,\s*private\s|^\s+private\s+readonly\s+\w+\s*[:,)]/;

function* sources(dir) {
  for (const name of readdirSync(dir)) {
    if (name === 'node_modules' || name === 'dist' || name.startsWith('.')) continue;
    const path = join(dir, name);
    if (statSync(path).isDirectory()) yield* sources(path);
    else if (/\.m?ts$/.test(name) && !name.endsWith('.d.ts')) yield path;
  }
}

const found = [];
for (const group of ['packages', 'examples', 'internal', 'scripts']) {
  if (!existsSync(join(root, group))) continue;
  for (const file of sources(join(root, group))) {
    const code = readFileSync(file, 'utf8').replace(/\/\*[\s\S]*?\*\//g, (comment) => comment.replace(/[^\n]/g, ' '));
    code.split('\n').forEach((line, index) => {
      const text = line.replace(/\/\/.*$/, '');
      if (PRIVATE_MEMBER.test(text) || PRIVATE_PARAMETER.test(text)) found.push(`${relative(root, file)}:${index + 1}: ${line.trim()}`);
    });
  }
}

if (found.length > 0) {
  console.error(
    `private fields: ${found.length} member${found.length > 1 ? 's' : ''} declared with the \`private\` keyword; use #name instead:\n${found.map((line) => `  ${line}`).join('\n')}`,
  );
  process.exit(1);
}
console.log('private fields: every private class member is a #field');
