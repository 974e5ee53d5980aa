// Entry of the self-contained executable (esbuild bundle + Node SEA), see scripts/release.mjs.
import { main } from './cli.js';

void main();
