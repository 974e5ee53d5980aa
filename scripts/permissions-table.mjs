// Rewrites the permission cells of README's "Permissions and interruption" table from
// src/commands/permissions.ts (run `npm run build` first); keeps each row's interruption text,
// adds a row for a new command. test/unit/permissions.test.ts fails when they drift.
import fs from 'node:fs';
import { COMMAND_NEEDS, describeNeeds } from '../dist/commands/permissions.js';

const file = new URL('../README.md', import.meta.url);
const text = fs.readFileSync(file, 'utf8');
const at = text.indexOf('## Permissions and interruption');
if (at < 0) throw new Error('README has no "## Permissions and interruption" section');
const end = text.indexOf('\n## ', at + 3);
const section = text.slice(at, end < 0 ? undefined : end);
const old = new Map([...section.matchAll(/^\| `([^`]+)` \| .*? \| (.*?) \|$/gm)].map((m) => [m[1], m[2]]));
const rows = Object.entries(COMMAND_NEEDS).map(([c, needs]) => `| \`${c}\` | ${describeNeeds(needs)} | ${old.get(c) ?? 'TODO'} |`);
const head = section.split('\n').filter((l) => !l.startsWith('| `'));
const tableAt = head.findIndex((l) => l.startsWith('|---'));
const next = [...head.slice(0, tableAt + 1), ...rows, ...head.slice(tableAt + 1)].join('\n');
fs.writeFileSync(file, text.slice(0, at) + next + (end < 0 ? '' : text.slice(end)));
