// `npm run lint` at the repository root reaches this file first for the example's sources: Latch's
// own rules, less Next.js's build output; a Next.js server logs with console.warn and console.error.
import latch from '../../eslint.config.js';

export default [{ ignores: ['.next/', 'next-env.d.ts'] }, ...latch, { rules: { 'no-console': ['error', { allow: ['warn', 'error'] }] } }];
