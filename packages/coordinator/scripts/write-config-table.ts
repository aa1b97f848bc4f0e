// Regenerates the settings table of README.md from CONFIG_TABLE.
import { readFileSync, writeFileSync } from 'node:fs';
import { withConfigTable } from '../src/config-docs.js';

const path = new URL('../README.md', import.meta.url);
writeFileSync(path, withConfigTable(readFileSync(path, 'utf8')));
