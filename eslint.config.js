import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/', 'coverage/', 'src/generated/', 'node_modules/', '.latch/', 'test-results/', 'examples/*/node_modules/', 'examples/*/.next/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: globals.node },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
      'no-console': 'error',
    },
  },
  {
    // Scripts Latch serves to browsers.
    files: ['assets/**'],
    languageOptions: { globals: globals.browser },
  },
  {
    // The examples are programs a user copies: printing is how they report.
    files: ['examples/**'],
    rules: { 'no-console': 'off' },
  },
);
